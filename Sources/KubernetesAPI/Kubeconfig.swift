/// A kubeconfig file (`kind: Config`), the parts a client needs to reach one API server: clusters (server, CA),
/// users (token, token file, client certificate), contexts, the current context. `exec` and `auth-provider`
/// credentials are recognised so that a client can say it does not run them.
public struct Kubeconfig: Codable, Sendable, Hashable {
    public var apiVersion: String? = "v1"
    public var kind: String? = "Config"
    public var clusters: [NamedCluster]?
    public var users: [NamedUser]?
    public var contexts: [NamedContext]?
    public var currentContext: String?

    enum CodingKeys: String, CodingKey {
        case apiVersion, kind, clusters, users, contexts
        case currentContext = "current-context"
    }

    public init(clusters: [NamedCluster], users: [NamedUser], contexts: [NamedContext], currentContext: String?) {
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
        self.currentContext = currentContext
    }

    public struct NamedCluster: Codable, Sendable, Hashable {
        public var name: String
        public var cluster: Cluster
        public init(name: String, cluster: Cluster) {
            self.name = name
            self.cluster = cluster
        }
    }

    public struct Cluster: Codable, Sendable, Hashable {
        public var server: String
        /// A file holding the CA's PEM certificates.
        public var certificateAuthority: String?
        /// The CA's PEM certificates, base64.
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?
        public var tlsServerName: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
        }

        public init(server: String, certificateAuthorityData: String?) {
            self.server = server
            self.certificateAuthorityData = certificateAuthorityData
        }
    }

    public struct NamedUser: Codable, Sendable, Hashable {
        public var name: String
        public var user: User
        public init(name: String, user: User) {
            self.name = name
            self.user = user
        }
    }

    public struct User: Codable, Sendable, Hashable {
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var username: String?
        public var password: String?
        /// Present when the user runs a credential plugin (content not read).
        public var exec: Opaque?
        public var authProvider: Opaque?

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, password, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case authProvider = "auth-provider"
        }

        public init(token: String? = nil, clientCertificateData: String? = nil, clientKeyData: String? = nil) {
            self.token = token
            self.clientCertificateData = clientCertificateData
            self.clientKeyData = clientKeyData
        }
    }

    public struct NamedContext: Codable, Sendable, Hashable {
        public var name: String
        public var context: Context
        public init(name: String, context: Context) {
            self.name = name
            self.context = context
        }
    }

    public struct Context: Codable, Sendable, Hashable {
        public var cluster: String
        public var user: String
        public var namespace: String?
        public init(cluster: String, user: String, namespace: String?) {
            self.cluster = cluster
            self.user = user
            self.namespace = namespace
        }
    }

    /// A value whose content is not read (decodes from anything, encodes as an empty map).
    public struct Opaque: Codable, Sendable, Hashable {
        public init() {}
        public init(from decoder: any Decoder) throws {}
        public func encode(to encoder: any Encoder) throws {
            _ = encoder.container(keyedBy: CodingKeys.self)
        }
        enum CodingKeys: CodingKey {}
    }
}
