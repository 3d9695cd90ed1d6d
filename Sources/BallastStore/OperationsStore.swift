public import Foundation
public import KafkaModel

/// The one store for what Ballast runs: the journal of every operation (rolls today; rebalances and service
/// operations use the same tables with their own `kind`), and a per-Kafka-cluster lock held by operation id, so
/// that a roll and a rebalance never run at once on one cluster.
///
/// `SQLiteOperationsStore` (GRDB) implements it; a PostgreSQL store for a highly available `ballast serve` can
/// implement the same protocol. Every method is async: no caller blocks its task on disk I/O.
public protocol OperationsStore: Sendable {
    /// Where the store is, for messages (a file path or a database URL without its password).
    var location: String { get }

    /// Records a new operation as running, with the parameters it needs to be resumed.
    func begin(operationId: String, kind: OperationKind, spec: Data, at: Date) async throws(StoreError)

    /// Appends a step; `.finished` and `.failed` also end the operation (and release its cluster lock).
    func record(_ operationId: String, batch: Int, node: Int32?, _ kind: RollStepKind, detail: String)
        async throws(StoreError)

    /// The steps of an operation, oldest first.
    func steps(_ operationId: String) async throws(StoreError) -> [RollStep]

    /// The most recent operation of this kind that did not finish.
    func latestUnfinished(kind: OperationKind) async throws(StoreError) -> String?

    /// What a resumed roll starts from.
    func resumeState(_ operationId: String) async throws(StoreError) -> RollResumeState

    /// Takes the lock on a Kafka cluster for an operation. Returns nil when it now holds it (also when it already
    /// did: a resumed operation gets its lock back), else the operation id that holds it.
    func acquireClusterLock(cluster: String, operationId: String, at: Date) async throws(StoreError) -> String?

    /// Gives a cluster's lock up, when `operationId` holds it.
    func releaseClusterLock(cluster: String, operationId: String) async throws(StoreError)
}

extension OperationsStore {
    public func begin(operationId: String, kind: OperationKind = .roll, spec: Data) async throws(StoreError) {
        try await begin(operationId: operationId, kind: kind, spec: spec, at: Date())
    }

    public func record(_ operationId: String, batch: Int, node: Int32? = nil, _ kind: RollStepKind)
        async throws(StoreError)
    {
        try await record(operationId, batch: batch, node: node, kind, detail: "")
    }

    public func latestUnfinished() async throws(StoreError) -> String? { try await latestUnfinished(kind: .roll) }
}

/// What an operation is.
public struct OperationKind: RawRepresentable, Sendable, Hashable, Codable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let roll = OperationKind(rawValue: "roll")
    public static let rebalance = OperationKind(rawValue: "rebalance")
}

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

public struct RollStep: Sendable, Hashable {
    public var batch: Int
    public var node: Int32?
    public var kind: RollStepKind
    public var detail: String

    public init(batch: Int, node: Int32?, kind: RollStepKind, detail: String) {
        self.batch = batch
        self.node = node
        self.kind = kind
        self.detail = detail
    }
}

/// What a resumed roll starts from.
public struct RollResumeState: Sendable, Hashable {
    public var operationId: String
    /// The roll's parameters as the command stored them.
    public var spec: Data
    public var status: OperationStatus
    public var completed: Set<Int32>
    public var inFlight: [Int32]
    public var batchesDone: Int

    public init(
        operationId: String, spec: Data, status: OperationStatus, completed: Set<Int32>, inFlight: [Int32],
        batchesDone: Int
    ) {
        self.operationId = operationId
        self.spec = spec
        self.status = status
        self.completed = completed
        self.inFlight = inFlight
        self.batchesDone = batchesDone
    }

    /// Replays a roll's steps: nodes of finished batches are done; nodes requested in the unfinished batch are in
    /// flight (resumed with their request id); every other node has not been touched.
    public init(operationId: String, spec: Data, status: OperationStatus, steps: [RollStep]) {
        var completed = Set<Int32>()
        var requested: [Int: [Int32]] = [:]
        var batchesDone = 0
        for step in steps {
            switch step.kind {
            case .restartRequested:
                if let n = step.node { requested[step.batch, default: []].append(n) }
            case .batchDone:
                batchesDone = max(batchesDone, step.batch)
                for n in requested[step.batch] ?? [] { completed.insert(n) }
                requested[step.batch] = nil
            default:
                break
            }
        }
        // Only the last batch can be in flight; any requested node not done is resumed with its request id.
        let inFlight = Set(requested.values.joined()).subtracting(completed).sorted()
        self.init(
            operationId: operationId, spec: spec, status: status, completed: completed, inFlight: inFlight,
            batchesDone: batchesDone)
    }
}

/// Where an operation is.
public enum OperationStatus: String, Sendable, Hashable, Codable {
    case running
    case finished
    case failed
}

/// A store that could not be opened, read or written. `code` says which, the message names the store.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Value: Sendable, Hashable { case unavailable, corrupt, notFound, writeFailed }
        let value: Value
        /// The store cannot be opened (missing directory, permissions, a lock held by another process).
        public static let unavailable = Code(value: .unavailable)
        /// The store exists but is not one Ballast can read.
        public static let corrupt = Code(value: .corrupt)
        /// No such operation.
        public static let notFound = Code(value: .notFound)
        /// A write did not happen; what was being recorded is not on disk.
        public static let writeFailed = Code(value: .writeFailed)
        public var description: String { "\(value)" }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension StoreError: CategorizedError {
    public var category: ErrorCategory {
        switch code {
        case .unavailable: .unreachable
        case .corrupt: .badInput
        case .notFound: .notFound
        default: .failed
        }
    }
}
