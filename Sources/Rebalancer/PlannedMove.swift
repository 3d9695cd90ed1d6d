public import KafkaModel

/// One partition of a proposal, as the executor carries it out: from `oldReplicas` to `newReplicas` (leader
/// first). A move whose replica set is unchanged only reorders replicas or moves leadership.
public struct PlannedMove: Sendable, Hashable, Codable {
    public var topicPartition: TopicPartition
    public var oldReplicas: [Int32]
    public var newReplicas: [Int32]
    /// The leader when the proposal was made; -1 when the partition had none.
    public var oldLeader: Int32
    /// Bytes each new replica copies (the partition's size as planned; the executor refreshes it from
    /// DescribeLogDirs before starting the move).
    public var bytes: Int64
    /// Whether a new replica copies from another Kubernetes cluster.
    public var crossCluster: Bool

    public init(
        topicPartition: TopicPartition, oldReplicas: [Int32], newReplicas: [Int32], oldLeader: Int32, bytes: Int64,
        crossCluster: Bool
    ) {
        self.topicPartition = topicPartition
        self.oldReplicas = oldReplicas
        self.newReplicas = newReplicas
        self.oldLeader = oldLeader
        self.bytes = bytes
        self.crossCluster = crossCluster
    }

    /// The proposed leader.
    public var newLeader: Int32 { newReplicas.first ?? -1 }
    /// Brokers that receive a replica.
    public var added: [Int32] { newReplicas.filter { !oldReplicas.contains($0) } }
    /// Brokers whose replica goes.
    public var removed: [Int32] { oldReplicas.filter { !newReplicas.contains($0) } }
    /// Whether data moves (a broker receives a replica).
    public var copiesData: Bool { !added.isEmpty }
    /// Whether Kafka must reassign the partition (new replicas, or the same ones in another order).
    public var needsReassignment: Bool { oldReplicas != newReplicas }
    /// Bytes the move copies in all: the partition's size once per new replica.
    public var bytesToCopy: Int64 { bytes * Int64(added.count) }
}
