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
        let failed = results.filter { $0.errorName != nil && $0.errorName != "ELECTION_NOT_NEEDED" }
        if let first = failed.first {
            throw ElectionError(
                message:
                    "\(failed.count) preferred election(s) failed, e.g. \(first.topicPartition): "
                    + "\(first.errorName ?? "") \(first.errorMessage ?? "")")
        }
    }
}

struct ElectionError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
