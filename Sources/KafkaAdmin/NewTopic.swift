/// A topic for `createTopics`: either a partition count and replication factor, or an explicit assignment.
public struct NewTopic: Sendable, Hashable, Codable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int16
    /// partition index → replicas; when set, `partitions`/`replicationFactor` are derived from it.
    public var replicaAssignment: [[Int32]]?
    public var configs: [String: String]

    public init(
        name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1, replicaAssignment: [[Int32]]? = nil,
        configs: [String: String] = [:]
    ) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.replicaAssignment = replicaAssignment
        self.configs = configs
    }
}
