public import AgentContract

/// How an agent restarts the nodes it manages (`process`, `sim`; `kubernetes` next). A driver lives in its own
/// target (`AgentProcessDriver`, `AgentSimDriver`) and depends on this one.
public protocol NodeDriver: Sendable {
    func nodes() async throws -> [AgentNode]
    /// Restarts the node gracefully and returns when it is done (throws when it failed).
    func restart(node: Int32) async throws
}

public struct AgentError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
