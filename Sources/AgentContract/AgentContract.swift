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

/// What an operation does.
public enum AgentOperationKind: String, Sendable, Hashable, Codable {
    /// `POST /v1/nodes/{id}/restart`.
    case restart
    /// `POST /v1/pools/{pool}/scale`.
    case scale
}

/// A restart or a scale an agent runs (`POST /v1/nodes/{id}/restart`, `POST /v1/pools/{pool}/scale`,
/// `GET /v1/operations/{id}`).
public struct AgentOperation: Sendable, Hashable, Codable {
    public var id: String
    /// `restart` when absent (agents before pools wrote none).
    public var kind: AgentOperationKind
    /// The node a restart is for.
    public var node: Int32?
    /// The pool a scale is for, and the size asked for.
    public var pool: String?
    public var replicas: Int?
    public var state: AgentOperationState
    /// Why it failed, for `failed`.
    public var error: String?
    /// The caller's id for this operation; a repeated id returns this operation instead of running it again.
    public var requestId: String?

    /// A restart.
    public init(
        id: String, node: Int32, state: AgentOperationState, error: String? = nil, requestId: String? = nil
    ) {
        self.id = id
        kind = .restart
        self.node = node
        self.state = state
        self.error = error
        self.requestId = requestId
    }

    /// A scale.
    public init(
        id: String, pool: String, replicas: Int, state: AgentOperationState, error: String? = nil,
        requestId: String? = nil
    ) {
        self.id = id
        kind = .scale
        self.pool = pool
        self.replicas = replicas
        self.state = state
        self.error = error
        self.requestId = requestId
    }

    enum CodingKeys: String, CodingKey { case id, kind, node, pool, replicas, state, error, requestId }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decodeIfPresent(AgentOperationKind.self, forKey: .kind) ?? .restart
        node = try c.decodeIfPresent(Int32.self, forKey: .node)
        pool = try c.decodeIfPresent(String.self, forKey: .pool)
        replicas = try c.decodeIfPresent(Int.self, forKey: .replicas)
        state = try c.decode(AgentOperationState.self, forKey: .state)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        requestId = try c.decodeIfPresent(String.self, forKey: .requestId)
    }

    /// What the operation acts on, for messages: `node 3` or `pool kafka`.
    public var subject: String {
        switch kind {
        case .restart: "node \(node.map(String.init) ?? "?")"
        case .scale: "pool \(pool ?? "?")"
        }
    }
}

/// The body of a restart request. Agents treat a repeated `requestId` as the same restart, so a resumed roll can
/// ask again without restarting a node twice.
public struct AgentRestartRequest: Sendable, Hashable, Codable {
    public var requestId: String?
    public init(requestId: String?) { self.requestId = requestId }
}

/// The body of `POST /v1/pools/{pool}/scale`: the pool's new size. A repeated `requestId` is the same scale.
public struct AgentScaleRequest: Sendable, Hashable, Codable {
    public var replicas: Int
    public var requestId: String?
    public init(replicas: Int, requestId: String? = nil) {
        self.replicas = replicas
        self.requestId = requestId
    }
}

/// A node pool an agent can scale (a StatefulSet, a Strimzi KafkaNodePool), as `GET /v1/pools` lists it.
public struct AgentPool: Sendable, Hashable, Codable {
    public var name: String
    /// The size asked for, and how many of its nodes are ready now.
    public var replicas: Int
    public var readyReplicas: Int
    /// What the driver scales, e.g. `statefulsets.apps/kafka`.
    public var resource: String?

    public init(name: String, replicas: Int, readyReplicas: Int, resource: String? = nil) {
        self.name = name
        self.replicas = replicas
        self.readyReplicas = readyReplicas
        self.resource = resource
    }
}

/// The body of `GET /v1/pools`.
public struct AgentPoolList: Sendable, Hashable, Codable {
    public var pools: [AgentPool]
    public init(pools: [AgentPool]) { self.pools = pools }
}

/// The body of every error answer: one sentence naming what is wrong.
public struct AgentErrorBody: Sendable, Hashable, Codable {
    public var error: String
    public init(error: String) { self.error = error }
}
