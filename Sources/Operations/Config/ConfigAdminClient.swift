public import ConfigPlanning
public import KafkaModel
import KafkaWire

/// The I/O that `ConfigApplier` needs, kept small so tests can use a fake and the real one can adapt
/// `KafkaAdmin`.
public protocol ConfigAdminClient: Sendable {
    /// DescribeConfigs of the BROKER resource of each node, with synonyms.
    func describeBrokerConfigs(nodes: [Int32]) async throws -> [Int32: [String: ConfigEntry]]

    /// DescribeConfigs of the cluster-default BROKER resource `""`: the dynamic defaults that are set.
    func describeClusterDefaultConfigs() async throws -> [String: ConfigEntry]

    /// IncrementalAlterConfigs of BROKER resources. Returns, per resource, nil on success or Kafka's error.
    /// A resource's alterations succeed or fail together (that is how Kafka answers).
    func incrementalAlterConfigs(
        _ resources: [ConfigResourceTarget: [PlannedAlteration]], validateOnly: Bool
    ) async throws -> [ConfigResourceTarget: ConfigAlterError?]
}

/// Kafka's answer for a resource it did not alter.
public struct ConfigAlterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Kafka's error code (e.g. 40 INVALID_CONFIG, 42 INVALID_REQUEST); -1 when only the name is known.
    public var code: Int16
    /// Kafka's error message.
    public var message: String?
    /// Kafka's name of the error code, when known.
    public var name: String?

    public init(code: Int16, message: String?, name: String? = nil) {
        self.code = code
        self.message = message
        let known = KafkaErrorCode(rawValue: code)
        self.name = name ?? (KafkaErrorCode.allKnown.contains(known) ? known.name : nil)
    }

    public var description: String {
        let head = name ?? "error \(code)"
        return code >= 0 && name != nil
            ? "error \(code) \(head)" + (message.map { ": \($0)" } ?? "")
            : head + (message.map { ": \($0)" } ?? "")
    }
}

extension ConfigAlterError: CategorizedError {
    /// Kafka refusing a value (INVALID_CONFIG, INVALID_REQUEST, POLICY_VIOLATION) is bad input; the rest failed.
    public var category: ErrorCategory {
        [40, 42, 44].contains(code) || ["INVALID_CONFIG", "INVALID_REQUEST", "POLICY_VIOLATION"].contains(name ?? "")
            ? .badInput : .failed
    }
}
