public import AgentContract

/// How an agent restarts the nodes it manages and scales their pools (`process`, `sim`, `kubernetes`). A driver
/// lives in its own target (`AgentProcessDriver`, `AgentSimDriver`, `AgentKubernetesDriver`) and depends on this
/// one.
public protocol NodeDriver: Sendable {
    func nodes() async throws -> [AgentNode]
    /// Restarts the node gracefully and returns when it is done (throws when it failed).
    func restart(node: Int32) async throws
    /// The node pools the driver can scale; none by default.
    func pools() async throws -> [AgentPool]
    /// Sets the pool's size and returns once the pool has exactly `replicas` nodes, all ready; throws when that
    /// cannot happen (an unknown pool, a new node stuck, a timeout). The default throws: no pools.
    func scale(pool: String, replicas: Int) async throws
}

extension NodeDriver {
    public func pools() async throws -> [AgentPool] { [] }

    public func scale(pool: String, replicas: Int) async throws {
        throw AgentError("this agent's driver has no node pools to scale")
    }
}

public struct AgentError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
