public import KafkaModel

/// A failed admin operation. `message` is one sentence naming what failed: the broker address, the API
/// and Kafka's error name where there is one.
public struct KafkaAdminError: Error, Sendable, CustomStringConvertible, Hashable {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Value: Sendable, Hashable {
            case unreachable, timedOut, authentication, tls, kafka, protocolViolation, unsupported, invalidArgument
            case connectionClosed
        }
        let value: Value
        /// No broker could be reached (TCP refused, DNS, or nothing answered).
        public static let unreachable = Code(value: .unreachable)
        public static let timedOut = Code(value: .timedOut)
        /// SASL failed: wrong credentials or mechanism not enabled.
        public static let authentication = Code(value: .authentication)
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
    /// Whether trying again later can help (Kafka's retriable errors, timeouts, lost connections).
    public var isRetriable: Bool

    public init(_ code: Code, _ message: String, kafkaErrorName: String? = nil, isRetriable: Bool = false) {
        self.code = code
        self.message = message
        self.kafkaErrorName = kafkaErrorName
        self.isRetriable = isRetriable
    }

    public var description: String { message }
}

extension KafkaAdminError: CategorizedError {
    public var category: ErrorCategory {
        switch code {
        case .unreachable, .timedOut, .connectionClosed: .unreachable
        case .authentication, .tls, .invalidArgument: .badInput
        default: .failed
        }
    }
}
