import KafkaModel

/// Everything needed to reach a cluster. One value drives both the librdkafka handle (the safety read
/// path) and the native `KafkaWire` connections (the admin calls librdkafka 2.0.2 lacks, and the safety read
/// path where librdkafka cannot log in).
public struct KafkaAdminConfiguration: Sendable, Hashable {
    /// `host:port` pairs, as in `bootstrap.servers`.
    public var bootstrapServers: [String]
    public var clientId: String
    public var security: KafkaSecurity
    /// How long one request may take before it fails (also librdkafka's `socket.timeout.ms`).
    public var requestTimeout: Duration
    /// How long a TCP (and TLS, SASL) connection set-up may take.
    public var connectTimeout: Duration
    /// The transport of the safety read path; nil chooses it (`ReadPath.automatic`): librdkafka, except with SCRAM
    /// on a librdkafka older than 2.6.1. Set it only to test one path.
    public var readPath: ReadPath?

    public init(
        bootstrapServers: [String] = ["127.0.0.1:9092"], clientId: String = "ballast",
        security: KafkaSecurity = .plaintext, requestTimeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5), readPath: ReadPath? = nil
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientId = clientId
        self.security = security
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.readPath = readPath
    }

    /// Parses a `bootstrap.servers`-style list (`h1:9092,h2:9092`).
    public init(bootstrap: String, clientId: String = "ballast", security: KafkaSecurity = .plaintext) {
        self.init(
            bootstrapServers: bootstrap.split(separator: ",").map { $0.trimmingWhitespace() },
            clientId: clientId, security: security)
    }

    public var bootstrapString: String { bootstrapServers.joined(separator: ",") }
}

/// Kafka's `security.protocol` split into its two independent halves.
public struct KafkaSecurity: Sendable, Hashable {
    /// nil: plain TCP.
    public var tls: TLS?
    /// nil: no SASL.
    public var sasl: SASL?

    public init(tls: TLS? = nil, sasl: SASL? = nil) {
        self.tls = tls
        self.sasl = sasl
    }

    public static let plaintext = KafkaSecurity()

    /// Kafka's name for the combination: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
    public var protocolName: String {
        switch (tls != nil, sasl != nil) {
        case (false, false): "PLAINTEXT"
        case (true, false): "SSL"
        case (false, true): "SASL_PLAINTEXT"
        case (true, true): "SASL_SSL"
        }
    }

    public struct TLS: Sendable, Hashable {
        /// PEM file of the CA(s) to trust; nil: the system's trust store.
        public var caFile: String?
        /// PEM client certificate (chain) and its key, for mutual TLS.
        public var certificateFile: String?
        public var keyFile: String?
        public var keyPassword: String?
        /// Check that the broker's certificate names the host we dialled (Kafka's
        /// `ssl.endpoint.identification.algorithm=https`, its default).
        public var verifyHostname: Bool

        public init(
            caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
            keyPassword: String? = nil, verifyHostname: Bool = true
        ) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.keyPassword = keyPassword
            self.verifyHostname = verifyHostname
        }
    }

    public struct SASL: Sendable, Hashable {
        public enum Mechanism: String, Sendable, Hashable, CaseIterable {
            case plain = "PLAIN"
            case scramSha256 = "SCRAM-SHA-256"
            case scramSha512 = "SCRAM-SHA-512"
        }
        public var mechanism: Mechanism
        public var username: String
        public var password: String

        public init(mechanism: Mechanism, username: String, password: String) {
            self.mechanism = mechanism
            self.username = username
            self.password = password
        }
    }
}

extension Duration {
    var milliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}
