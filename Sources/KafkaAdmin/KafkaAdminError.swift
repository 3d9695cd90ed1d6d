public import KafkaModel

/// A failed admin operation. `message` is one sentence naming what failed: the broker address, the API
/// and Kafka's error name where there is one.
public struct KafkaAdminError: Error, Sendable, CustomStringConvertible, Hashable {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Value: Sendable, Hashable {
            case unreachable, timedOut, authentication, tls, tlsVerification, clientCertificateRequired, kafka
            case protocolViolation, unsupported, invalidArgument, connectionClosed
        }
        let value: Value
        /// No broker could be reached (TCP refused, DNS, or nothing answered).
        public static let unreachable = Code(value: .unreachable)
        public static let timedOut = Code(value: .timedOut)
        /// SASL failed: wrong user or password, or the mechanism is not enabled. The message names the
        /// mechanism and the user, never the password.
        public static let authentication = Code(value: .authentication)
        /// Ballast did not accept the broker's certificate; `certificateProblem` says why.
        public static let tlsVerification = Code(value: .tlsVerification)
        /// The broker asked for a client certificate and none is configured.
        public static let clientCertificateRequired = Code(value: .clientCertificateRequired)
        /// Any other TLS failure: the broker refused Ballast's client certificate, no common protocol version.
        /// (TLS files that cannot be loaded are `.invalidArgument`, naming the files.)
        public static let tls = Code(value: .tls)
        /// The broker answered with a Kafka error code (see `kafkaErrorName`).
        public static let kafka = Code(value: .kafka)
        /// The broker's answer could not be decoded or did not match the request.
        public static let protocolViolation = Code(value: .protocolViolation)
        /// No API version both sides speak.
        public static let unsupported = Code(value: .unsupported)
        public static let invalidArgument = Code(value: .invalidArgument)
        public static let connectionClosed = Code(value: .connectionClosed)

        public var description: String { "\(value)" }
    }

    public var code: Code
    public var message: String
    /// Kafka's name of the error code (`NOT_CONTROLLER`, …) when the broker sent one.
    public var kafkaErrorName: String?
    /// Why the broker's certificate was refused, for `.tlsVerification`.
    public var certificateProblem: CertificateProblem?
    /// `host:port` of the broker the error is about, when one is known.
    public var brokerAddress: String?
    /// Whether trying again later can help (Kafka's retriable errors, timeouts, lost connections).
    public var isRetriable: Bool

    public init(
        _ code: Code, _ message: String, kafkaErrorName: String? = nil, certificateProblem: CertificateProblem? = nil,
        brokerAddress: String? = nil, isRetriable: Bool = false
    ) {
        self.code = code
        self.message = message
        self.kafkaErrorName = kafkaErrorName
        self.certificateProblem = certificateProblem
        self.brokerAddress = brokerAddress
        self.isRetriable = isRetriable
    }

    /// Authentication, certificate and client-certificate failures: the settings (or the cluster's) are wrong,
    /// so another broker or another try will fail the same way.
    public var isSecurityFailure: Bool {
        code == .authentication || code == .tlsVerification || code == .clientCertificateRequired || code == .tls
    }

    public var description: String { message }
}

/// Why a broker's certificate was not accepted.
public enum CertificateProblem: String, Sendable, Hashable, CaseIterable {
    /// Not signed by a CA Ballast trusts (the `caFile`, or the system's store).
    case unknownAuthority = "unknown-ca"
    /// Names neither the host nor the IP address Ballast dialled.
    case hostnameMismatch = "hostname-mismatch"
    case expired
    case notYetValid = "not-yet-valid"
}

extension KafkaAdminError: CategorizedError {
    /// A refused login or certificate is the cluster refusing Ballast (exit 1, as DESIGN.md has it for failures),
    /// not bad input: the flags were well-formed, and only the cluster can tell they are wrong. TLS files that
    /// cannot be loaded are `.invalidArgument`.
    public var category: ErrorCategory {
        switch code {
        case .unreachable, .timedOut, .connectionClosed: .unreachable
        case .invalidArgument: .badInput
        default: .failed
        }
    }
}
