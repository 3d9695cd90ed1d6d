public import KafkaModel
public import Rebalancer

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
    /// The catch-up prediction for the next batch; `planned` is what the safety gate allowed, `sizing.nodes` what
    /// goes (fewer when restarting them together would be slower than one at a time).
    case batchSized(BatchSizing, planned: [Int32])
    /// A restarted replica made no catch-up progress for `stallSeconds`.
    case stalled(StallDiagnosis)
    /// The catch-up throttle remedy changed these rates while the batch catches up (their priors journaled first).
    case throttlesLifted([ThrottleChange])
    /// These throttle keys are back at their value from before the roll.
    case throttlesRestored([ThrottleKey])
    case leadersElected(count: Int)
    case batchDone(index: Int, nodes: [Int32])
    case finished(restarted: [Int32])
    case failed(RollFailure)
}

/// Why a roll stopped: one sentence naming the node or rule at fault, and a code callers can switch on.
public struct RollFailure: Error, Sendable, Hashable, CustomStringConvertible, CategorizedError {
    public enum Code: String, Sendable, Hashable, Codable {
        /// The safety gate held the roll past its timeout (offline partitions, ISR, quorum, failure budget).
        case heldBySafetyGate = "held-by-safety-gate"
        /// An agent refused or could not be asked to restart a node, or reported the restart failed.
        case restartFailed = "restart-failed"
        /// An agent did not report a restart done in time.
        case restartTimedOut = "restart-timed-out"
        /// A restarted node did not re-register, or its replicas or controller did not catch up, in time.
        case nodeDidNotRecover = "node-did-not-recover"
        /// The cluster or an agent could not be read for longer than the retry tolerance.
        case unreachable
        /// The roll's nodes and the agents disagree (a node no agent manages, or two agents report).
        case badInventory = "bad-inventory"
        /// Anything else (a test's own failure, say).
        case failed
    }

    public var code: Code
    public var node: Int32?
    public var message: String

    public init(_ code: Code, node: Int32? = nil, _ message: String) {
        self.code = code
        self.node = node
        self.message = message
    }

    /// A failure of code `.failed`.
    public init(node: Int32? = nil, _ message: String) {
        self.init(.failed, node: node, message)
    }

    public var description: String { message }

    public var category: ErrorCategory {
        switch code {
        case .heldBySafetyGate: .refusedForSafety
        case .unreachable: .unreachable
        case .badInventory: .badInput
        case .restartFailed, .restartTimedOut, .nodeDidNotRecover, .failed: .failed
        }
    }
}
