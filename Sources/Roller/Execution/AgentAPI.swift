public import Agent
public import KafkaAdmin

/// A node as an agent reports it (`GET /v1/nodes`): the agent's own contract type, so the JSON has one definition.
public typealias AgentNode = ManagedNode

extension ManagedNode {
    public var nodeInfo: NodeInfo {
        NodeInfo(
            id: id, roles: Set(roles.compactMap(NodeRole.init(rawValue:))), zone: zone, cluster: cluster, ready: ready)
    }
}

public struct AgentNodeList: Sendable, Hashable, Codable {
    public var nodes: [AgentNode]
    public init(nodes: [AgentNode]) { self.nodes = nodes }
}

/// A restart the agent runs (`POST /v1/nodes/{id}/restart`, `GET /v1/operations/{id}`).
public struct AgentOperation: Sendable, Hashable, Codable {
    public var id: String
    public var node: Int32
    /// `running`, `done` or `failed`.
    public var state: String
    public var error: String?

    public init(id: String, node: Int32, state: String, error: String? = nil) {
        self.id = id
        self.node = node
        self.state = state
        self.error = error
    }
}

/// The body of a restart request. Agents treat a repeated `requestId` as the same restart, so a resumed roll
/// can ask again without restarting a node twice.
public struct AgentRestartRequest: Sendable, Hashable, Codable {
    public var requestId: String?
    public init(requestId: String?) { self.requestId = requestId }
}

/// What the roller needs from an agent.
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
    func electPreferredLeaders(_ partitions: [PartitionRef]) async throws
}
