public import KafkaModel

// The agent HTTP API of DESIGN.md as Codable types: the agent server encodes them and the roller's client decodes
// them, so the JSON has one definition.

/// A Kafka node an agent manages, as `GET /v1/nodes` lists it.
public struct AgentNode: Sendable, Hashable, Codable {
    public var id: Int32
    public var roles: [NodeRole]
    /// The pod, or the process, that runs the node.
    public var pod: String?
    public var ready: Bool
    public var zone: String?
    /// The Kubernetes cluster the agent runs in, when told (`--cluster`).
    public var cluster: String?
    public var revision: String?

    public init(
        id: Int32, roles: [NodeRole] = [.broker], pod: String? = nil, ready: Bool = true, zone: String? = nil,
        cluster: String? = nil, revision: String? = nil
    ) {
        self.id = id
        self.roles = roles
        self.pod = pod
        self.ready = ready
        self.zone = zone
        self.cluster = cluster
        self.revision = revision
    }
}

/// The body of `GET /v1/nodes`.
public struct AgentNodeList: Sendable, Hashable, Codable {
    public var nodes: [AgentNode]
    public init(nodes: [AgentNode]) { self.nodes = nodes }
}

/// Where a restart operation is.
public enum AgentOperationState: String, Sendable, Hashable, Codable {
    case running
    case done
    case failed

    public var isFinished: Bool { self != .running }
}

/// A restart an agent runs (`POST /v1/nodes/{id}/restart`, `GET /v1/operations/{id}`).
public struct AgentOperation: Sendable, Hashable, Codable {
    public var id: String
    public var node: Int32
    public var state: AgentOperationState
    /// Why it failed, for `failed`.
    public var error: String?
    /// The caller's id for this restart; a repeated id returns this operation instead of restarting again.
    public var requestId: String?

    public init(
        id: String, node: Int32, state: AgentOperationState, error: String? = nil, requestId: String? = nil
    ) {
        self.id = id
        self.node = node
        self.state = state
        self.error = error
        self.requestId = requestId
    }
}

/// The body of a restart request. Agents treat a repeated `requestId` as the same restart, so a resumed roll can
/// ask again without restarting a node twice.
public struct AgentRestartRequest: Sendable, Hashable, Codable {
    public var requestId: String?
    public init(requestId: String?) { self.requestId = requestId }
}

/// The body of `POST /v1/pools/{pool}/scale`.
public struct AgentScaleRequest: Sendable, Hashable, Codable {
    public var replicas: Int
    public init(replicas: Int) { self.replicas = replicas }
}

/// The body of every error answer: one sentence naming what is wrong.
public struct AgentErrorBody: Sendable, Hashable, Codable {
    public var error: String
    public init(error: String) { self.error = error }
}
