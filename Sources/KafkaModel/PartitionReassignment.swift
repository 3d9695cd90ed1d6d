/// A reassignment in progress (ListPartitionReassignments).
public struct PartitionReassignment: Sendable, Hashable, Codable {
    public var topic: String
    public var partition: Int32
    /// The full set while moving: the target first, then the replicas being removed.
    public var replicas: [Int32]
    public var addingReplicas: [Int32]
    public var removingReplicas: [Int32]

    public init(topic: String, partition: Int32, replicas: [Int32], addingReplicas: [Int32], removingReplicas: [Int32])
    {
        self.topic = topic
        self.partition = partition
        self.replicas = replicas
        self.addingReplicas = addingReplicas
        self.removingReplicas = removingReplicas
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// The replica list the reassignment moves to (Kafka lists the removed replicas after the target).
    public var targetReplicas: [Int32] { replicas.filter { !removingReplicas.contains($0) } }
}
