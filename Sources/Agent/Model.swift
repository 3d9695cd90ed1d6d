/// A Kafka node an agent manages, as `GET /v1/nodes` lists it.
public struct ManagedNode: Sendable, Hashable, Codable {
    public var id: Int32
    public var roles: [String]
    /// The pod, or the process, that runs the node.
    public var pod: String?
    public var ready: Bool
    public var zone: String?
    /// The Kubernetes cluster the agent runs in, when told (`--cluster`).
    public var cluster: String?
    public var revision: String?

    public init(
        id: Int32, roles: [String] = ["broker"], pod: String? = nil, ready: Bool = true, zone: String? = nil,
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

struct NodeList: Sendable, Codable {
    var nodes: [ManagedNode]
}

/// A restart the agent runs.
public struct RestartOperation: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        case running
        case done
        case failed
    }
    public var id: String
    public var node: Int32
    public var state: State
    public var error: String?
    /// The caller's id for this restart; a repeated id returns this operation instead of restarting again.
    public var requestId: String?
}

struct RestartRequest: Sendable, Codable {
    var requestId: String?
}

struct ErrorBody: Sendable, Codable {
    var error: String
}

/// How an agent restarts the nodes it manages.
public protocol NodeDriver: Sendable {
    func nodes() async throws -> [ManagedNode]
    /// Restarts the node gracefully and returns when it is done (throws when it failed).
    func restart(node: Int32) async throws
}

public struct AgentError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
