import Agent
import Foundation
import KubernetesAPI
import Yams

/// Where an API server is and how to authenticate to it: from a kubeconfig (server, CA, token / token file /
/// client certificate) or from inside a pod (the service account's token, CA and namespace, and
/// `KUBERNETES_SERVICE_HOST`/`_PORT`). TLS is always verified; `exec` and `auth-provider` credential plugins are
/// refused with a message saying what to use instead.
public struct KubernetesConnection: Sendable {
    /// `https://host:port` (or `http://` for a local `kubectl proxy`), without a trailing slash.
    public var server: String
    /// The CA's PEM certificates; nil trusts the system's roots.
    public var certificateAuthorityPEM: [UInt8]?
    public var credential: Credential
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    /// The namespace the kubeconfig context or the service account names.
    public var namespace: String?
    /// Where this came from, for messages (`kubeconfig /etc/kube/east (context east)`).
    public var source: String

    public enum Credential: Sendable, Hashable {
        case none
        case token(String)
        /// Read again before every call, so a rotated token (a projected service account token) is picked up.
        case tokenFile(String)
    }

    public init(
        server: String, certificateAuthorityPEM: [UInt8]?, credential: Credential, clientCertificatePEM: [UInt8]? = nil,
        clientKeyPEM: [UInt8]? = nil, namespace: String? = nil, source: String
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.credential = credential
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.namespace = namespace
        self.source = source
    }

    /// The bearer token to send now (the token file is read each time).
    public func token() throws -> String? {
        switch credential {
        case .none: return nil
        case .token(let t): return t
        case .tokenFile(let path):
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw AgentError("the Kubernetes token file \(path) could not be read (\(source))")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw AgentError("the Kubernetes token file \(path) is empty (\(source))") }
            return token
        }
    }

    // MARK: kubeconfig

    /// Reads a kubeconfig; `context` overrides its current context. Throws naming the file and what is wrong.
    public static func kubeconfig(path: String, context wanted: String?) throws -> KubernetesConnection {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AgentError("the kubeconfig \(path) could not be read")
        }
        let config: Kubeconfig
        do {
            config = try YAMLDecoder().decode(Kubeconfig.self, from: text)
        } catch {
            throw AgentError("the kubeconfig \(path) is not a valid kubeconfig: \(error)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        func file(_ p: String) -> String { p.hasPrefix("/") ? p : (directory as NSString).appendingPathComponent(p) }
        func read(_ p: String, _ what: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: file(p)) else {
                throw AgentError("the \(what) \(file(p)) named in the kubeconfig \(path) could not be read")
            }
            return Array(data)
        }
        func decoded(_ base64: String, _ what: String) throws -> [UInt8] {
            guard let data = Data(base64Encoded: base64.filter { !$0.isWhitespace }) else {
                throw AgentError("the \(what) in the kubeconfig \(path) is not valid base64")
            }
            return Array(data)
        }
        let contexts = config.contexts ?? []
        guard let name = wanted ?? config.currentContext, !name.isEmpty else {
            throw AgentError(
                "the kubeconfig \(path) has no current-context: pass --context (its contexts: "
                    + "\(contexts.map(\.name).joined(separator: ", ")))")
        }
        guard let context = contexts.first(where: { $0.name == name })?.context else {
            throw AgentError(
                "the kubeconfig \(path) has no context \(name) (its contexts: "
                    + "\(contexts.map(\.name).joined(separator: ", ")))")
        }
        guard let cluster = config.clusters?.first(where: { $0.name == context.cluster })?.cluster else {
            throw AgentError("the kubeconfig \(path) has no cluster \(context.cluster) (named by context \(name))")
        }
        guard let user = config.users?.first(where: { $0.name == context.user })?.user else {
            throw AgentError("the kubeconfig \(path) has no user \(context.user) (named by context \(name))")
        }
        let source = "kubeconfig \(path) (context \(name))"
        if cluster.insecureSkipTLSVerify == true {
            throw AgentError(
                "cluster \(context.cluster) in the kubeconfig \(path) sets insecure-skip-tls-verify; the Ballast agent "
                    + "always verifies the API server: give it the CA (certificate-authority or "
                    + "certificate-authority-data)")
        }
        if cluster.tlsServerName != nil {
            throw AgentError(
                "cluster \(context.cluster) in the kubeconfig \(path) sets tls-server-name, which the Ballast agent "
                    + "does not support: use a server URL whose host is in the API server's certificate")
        }
        if user.exec != nil || user.authProvider != nil {
            throw AgentError(
                "user \(context.user) in the kubeconfig \(path) gets its credentials from "
                    + (user.exec != nil ? "an exec plugin" : "an auth-provider")
                    + ", which the Ballast agent does not run: give it a service account token (token or tokenFile) "
                    + "or a client certificate (client-certificate and client-key)")
        }
        if user.username != nil || user.password != nil {
            throw AgentError(
                "user \(context.user) in the kubeconfig \(path) uses basic authentication, which the Ballast agent "
                    + "does not support: give it a token or a client certificate")
        }
        var ca: [UInt8]?
        if let data = cluster.certificateAuthorityData {
            ca = try decoded(data, "certificate-authority-data of cluster \(context.cluster)")
        } else if let p = cluster.certificateAuthority {
            ca = try read(p, "certificate authority")
        }
        var certificate: [UInt8]?
        var key: [UInt8]?
        if let data = user.clientCertificateData {
            certificate = try decoded(data, "client-certificate-data of user \(context.user)")
        } else if let p = user.clientCertificate {
            certificate = try read(p, "client certificate")
        }
        if let data = user.clientKeyData {
            key = try decoded(data, "client-key-data of user \(context.user)")
        } else if let p = user.clientKey {
            key = try read(p, "client key")
        }
        guard (certificate == nil) == (key == nil) else {
            throw AgentError(
                "user \(context.user) in the kubeconfig \(path) has a client certificate without its key, or a key "
                    + "without its certificate")
        }
        let credential: Credential
        if let token = user.token, !token.isEmpty {
            credential = .token(token)
        } else if let p = user.tokenFile {
            credential = .tokenFile(file(p))
        } else {
            credential = .none
        }
        if credential == .none && certificate == nil && cluster.server.hasPrefix("https") {
            throw AgentError(
                "user \(context.user) in the kubeconfig \(path) has no token, tokenFile or client certificate")
        }
        let connection = KubernetesConnection(
            server: cluster.server, certificateAuthorityPEM: ca, credential: credential,
            clientCertificatePEM: certificate, clientKeyPEM: key, namespace: context.namespace, source: source)
        _ = try connection.token()
        return connection
    }

    // MARK: In cluster

    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The pod's service account: `KUBERNETES_SERVICE_HOST`/`_PORT` from `environment`, and `token` (re-read before
    /// every call), `ca.crt` and `namespace` from `directory`.
    public static func inCluster(
        environment: [String: String], directory: String = serviceAccountDirectory
    ) throws -> KubernetesConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw AgentError(
                "no --kubeconfig, and KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set (not in a pod): "
                    + "pass --kubeconfig FILE")
        }
        let caPath = (directory as NSString).appendingPathComponent("ca.crt")
        guard let ca = FileManager.default.contents(atPath: caPath) else {
            throw AgentError("the service account CA \(caPath) could not be read")
        }
        let namespacePath = (directory as NSString).appendingPathComponent("namespace")
        let namespace = (try? String(contentsOfFile: namespacePath, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = host.contains(":") ? "https://[\(host)]:\(port)" : "https://\(host):\(port)"
        let connection = KubernetesConnection(
            server: server, certificateAuthorityPEM: Array(ca),
            credential: .tokenFile((directory as NSString).appendingPathComponent("token")),
            namespace: namespace?.isEmpty == false ? namespace : nil, source: "the pod's service account (\(directory))"
        )
        _ = try connection.token()
        return connection
    }
}
