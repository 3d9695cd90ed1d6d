public import AgentContract
public import KafkaModel

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

/// A failure of the agent or one of its drivers: a code callers (and the restart operation's error) can switch
/// on, and one sentence naming what failed.
public struct AgentError: Error, Sendable, Hashable, CustomStringConvertible, CategorizedError {
    public enum Code: String, Sendable, Hashable, Codable {
        /// The agent's configuration (agent.yaml, flags) cannot be used.
        case badConfig = "bad-config"
        /// The agent's state directory or file cannot be used (unreadable, corrupt, not writable).
        case stateUnusable = "state-unusable"
        /// Another agent holds the state directory.
        case stateBusy = "state-busy"
        /// The driver does not manage the node.
        case notManaged = "not-managed"
        /// The restart command failed, or could not be run.
        case restartFailed = "restart-failed"
        /// The node did not come back (ready command, or the simulator's state) in time or at all.
        case nodeDidNotRecover = "node-did-not-recover"
        /// What the driver talks to (the simulator's control API) could not be reached or answered nonsense.
        case unreachable
        /// Anything else a driver reports.
        case failed
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// An error of code `.failed` (drivers that have no better code; the API before codes).
    public init(_ message: String) { self.init(.failed, message) }

    public var description: String { message }

    public var category: ErrorCategory {
        switch code {
        case .badConfig, .stateUnusable: .badInput
        case .stateBusy: .busy
        case .notManaged: .notFound
        case .restartFailed, .nodeDidNotRecover, .failed: .failed
        case .unreachable: .unreachable
        }
    }
}
