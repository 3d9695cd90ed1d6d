/// The journal's vocabulary, shared by the operations store that writes it and the dashboard that reads it.

/// One step of a roll's journal.
public enum RollStepKind: String, Sendable, Codable {
    case batchStarted = "batch-started"
    case restartRequested = "restart-requested"
    case restartAccepted = "restart-accepted"
    case restarted
    case batchDone = "batch-done"
    case finished
    case failed
}

/// A step of a roll's journal: a batch began or ended, a node's restart was asked, accepted or finished.
public struct RollStep: Sendable, Hashable {
    public var batch: Int
    public var node: Int32?
    public var kind: RollStepKind
    public var detail: String

    public init(batch: Int, node: Int32?, kind: RollStepKind, detail: String = "") {
        self.batch = batch
        self.node = node
        self.kind = kind
        self.detail = detail
    }
}

/// The latest state of one item of an operation (a rebalance's move, by its index in the proposal).
public struct ItemState: Sendable, Hashable {
    public var index: Int
    public var state: String
    public var detail: String

    public init(index: Int, state: String, detail: String = "") {
        self.index = index
        self.state = state
        self.detail = detail
    }
}
