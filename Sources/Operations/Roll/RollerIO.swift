public import AgentContract
public import KafkaModel
public import Rebalancer
public import Roller

extension AgentNode {
    /// The node as the roll's gate sees it.
    public var nodeInfo: NodeInfo {
        NodeInfo(id: id, roles: Set(roles), zone: zone, cluster: cluster, ready: ready)
    }
}

/// What the roller needs from an agent (`HTTPAgentClient` over the agent HTTP API; fakes in tests).
public protocol AgentAPI: Sendable {
    /// Where the agent is, for messages.
    var endpoint: String { get }
    func nodes() async throws -> [AgentNode]
    func restart(node: Int32, requestId: String) async throws -> AgentOperation
    func operation(_ id: String) async throws -> AgentOperation
}

/// What the roller needs from the cluster: the librdkafka read path and preferred leader election.
public protocol ClusterReader: Sendable {
    func snapshot() async throws -> ClusterSnapshot
    func electPreferredLeaders(_ partitions: [TopicPartition]) async throws
    /// Replica sizes and live replication throttles of these brokers, stamped `at` (the roll's monotonic seconds);
    /// nil when they cannot be measured (the roll then goes on without catch-up prediction or stall diagnosis).
    func replication(brokers: [Int32], at: Double) async -> ReplicationSample?
    /// IncrementalAlterConfigs of throttle configs (the catch-up throttle remedy); returns the error of each resource
    /// that was not changed.
    func alterThrottles(_ changes: [ThrottleChange]) async -> [ConfigResource: String]
}

extension ClusterReader {
    public func replication(brokers: [Int32], at: Double) async -> ReplicationSample? { nil }
    public func alterThrottles(_ changes: [ThrottleChange]) async -> [ConfigResource: String] {
        Dictionary(changes.map { ($0.key.resource, "this cluster reader cannot change configs") }) { a, _ in a }
    }
}
