/// What a roll reports as it goes: the terminal view, `--json` lines and logs are all made from these.
public enum RollEvent: Sendable, Hashable {
    case started(operationId: String, nodes: [Int32], resumed: Bool)
    case warning(String)
    /// The batches the current snapshot predicts for what is left (`done` batches already finished).
    case planned(done: Int, batches: [[Int32]])
    /// The gate holds the roll; `held` says why for each node.
    case waiting(reasons: [HoldReason], held: [Int32: HoldReason])
    case batchStarted(index: Int, nodes: [Int32], zone: String, cluster: String, downNode: Bool)
    case restartRequested(node: Int32)
    case restarted(node: Int32)
    case registered(node: Int32)
    case catchingUp(index: Int, inSync: Int, total: Int)
    case leadersElected(count: Int)
    case batchDone(index: Int, nodes: [Int32])
    case finished(restarted: [Int32])
    case failed(RollFailure)
}

/// Why a roll stopped: one sentence naming the node or rule at fault.
public struct RollFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var node: Int32?
    public var message: String

    public init(node: Int32? = nil, _ message: String) {
        self.node = node
        self.message = message
    }

    public var description: String { message }
}
