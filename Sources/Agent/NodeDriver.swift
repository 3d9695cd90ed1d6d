public import AgentContract

/// How an agent restarts the nodes it manages (`process`, `sim`; `kubernetes` next). A driver lives in its own
/// target (`AgentProcessDriver`, `AgentSimDriver`) and depends on this one.
public protocol NodeDriver: Sendable {
    func nodes() async throws -> [AgentNode]
    /// Restarts the node gracefully and returns when it is done (throws when it failed).
    func restart(node: Int32) async throws
    /// Whether the driver manages this node (the restart route asks; a driver whose `nodes()` is costly answers
    /// without listing them).
    func manages(node: Int32) async throws -> Bool
}

extension NodeDriver {
    public func manages(node: Int32) async throws -> Bool { try await nodes().contains { $0.id == node } }
}

public struct AgentError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
