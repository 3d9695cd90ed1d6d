public import KafkaAdmin
public import KafkaModel

/// The roller's view of a live cluster through `KafkaAdmin`: snapshots on the librdkafka read path, preferred
/// leader election over ElectLeaders.
public struct KafkaAdminClusterReader: ClusterReader {
    public let admin: KafkaAdmin

    public init(admin: KafkaAdmin) { self.admin = admin }

    public func snapshot() async throws -> ClusterSnapshot {
        try await admin.snapshot()
    }

    public func electPreferredLeaders(_ partitions: [TopicPartition]) async throws {
        let results = try await admin.electLeaders(
            .preferred, partitions: partitions)
        // Already led by the preferred replica is success; anything else is reported (the roll goes on).
        let failed = results.filter { !$0.succeeded }
        if !failed.isEmpty { throw ElectionError(failed: failed) }
    }
}

/// Preferred elections Kafka refused, with each partition's error.
public struct ElectionError: Error, Sendable, Hashable, CustomStringConvertible, CategorizedError {
    public var failed: [ElectionResult]

    public var description: String {
        let first = failed[0]
        return "\(failed.count) preferred election(s) failed, e.g. \(first.topicPartition): "
            + "\(first.errorName ?? "") \(first.errorMessage ?? "")"
    }

    public var category: ErrorCategory { .failed }
}
