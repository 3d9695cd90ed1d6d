public import Foundation
public import KafkaModel

/// The one store for what Ballast runs: the journal of every operation (rolls today; rebalances and service
/// operations use the same tables with their own `kind`), and a per-Kafka-cluster lock held by operation id, so
/// that a roll and a rebalance never run at once on one cluster.
///
/// `SQLiteOperationsStore` (GRDB) and `PostgresOperationsStore` (postgres-nio, for engines sharing one database)
/// implement it with the same semantics; `OperationsStores.open(url:)` opens either from a URL. Every method is async:
/// no caller blocks its task on I/O.
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

    // MARK: Items, saved settings, liveness and stop requests (rebalances)

    /// Records the new state of some of an operation's items (a rebalance's moves) in one write; an item's latest
    /// state replaces the earlier one.
    func recordItems(_ operationId: String, _ items: [ItemState]) async throws(StoreError)

    /// Every item's latest state, by index.
    func items(_ operationId: String) async throws(StoreError) -> [ItemState]

    /// Saves the value a setting had before the operation changed it (replacing an earlier value of the same
    /// setting: the operation saves again only after it put the setting back).
    func saveSettings(_ operationId: String, _ settings: [SavedSetting]) async throws(StoreError)

    func savedSettings(_ operationId: String) async throws(StoreError) -> [SavedSetting]

    /// Notes that the operation's runner (`host:pid`) is alive now (written every poll).
    func heartbeat(_ operationId: String, at: Date, runner: String) async throws(StoreError)

    /// Asks the runner of a running operation to stop; it reads this every poll.
    func requestStop(_ operationId: String, at: Date) async throws(StoreError)

    /// The operation's record; nil when there is none with that id.
    func operation(_ operationId: String) async throws(StoreError) -> OperationRecord?

    /// The most recent operation of this kind that is still running (not finished or failed).
    func latestRunning(kind: OperationKind) async throws(StoreError) -> String?

    /// The operation holding a cluster's lock, if any.
    func clusterLockHolder(cluster: String) async throws(StoreError) -> String?

    // MARK: Leadership (engines sharing one store)

    /// Takes the named lease for `holder` until `now + ttl`, or renews it when `holder` holds it; returns who holds
    /// it after the call (compare `holder`). A lease held by another is taken over only once its `expiresAt` is not
    /// after `now`. `epoch` grows by one each time the holder changes (a fencing token: work done under an older
    /// epoch is a former leader's). `ttl` must be positive.
    func acquireLease(_ name: String, holder: String, ttl: Duration, now: Date) async throws(StoreError) -> Lease

    /// Gives the lease up at once when `holder` holds it (a clean shutdown: the next engine need not wait for the
    /// expiry); the next holder gets the next epoch.
    func releaseLease(_ name: String, holder: String) async throws(StoreError)

    /// Lets go of the store's connections (a PostgreSQL pool); the store cannot be used afterwards.
    func close() async
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

/// Who holds a leadership lease, until when, and under which fencing epoch.
public struct Lease: Sendable, Equatable {
    public var holder: String
    public var expiresAt: Date
    /// 1 for the first holder, +1 at every change of holder (a takeover, or a take after a release).
    public var epoch: Int64

    public init(holder: String, expiresAt: Date, epoch: Int64) {
        self.holder = holder
        self.expiresAt = expiresAt
        self.epoch = epoch
    }
}

extension Duration {
    /// The duration in seconds, with its fraction.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// A setting's value from before an operation changed it (a throttle config): `scope` and `name` say what it is
/// attached to (`broker` 3, `topic` orders), `value` nil means it was not set.
public struct SavedSetting: Sendable, Hashable {
    public var scope: String
    public var name: String
    public var key: String
    public var value: String?

    public init(scope: String, name: String, key: String, value: String?) {
        self.scope = scope
        self.name = name
        self.key = key
        self.value = value
    }
}

/// An operation as the store holds it.
public struct OperationRecord: Sendable, Hashable {
    public var id: String
    public var kind: OperationKind
    public var status: OperationStatus
    public var spec: Data
    public var createdAt: Date
    /// When its runner last said it was alive (nil: never), and which process that is (`host:pid`).
    public var heartbeatAt: Date?
    public var runner: String?
    /// When a stop was asked for (nil: never).
    public var stopRequestedAt: Date?

    public init(
        id: String, kind: OperationKind, status: OperationStatus, spec: Data, createdAt: Date, heartbeatAt: Date?,
        runner: String? = nil, stopRequestedAt: Date?
    ) {
        self.id = id
        self.kind = kind
        self.status = status
        self.spec = spec
        self.createdAt = createdAt
        self.heartbeatAt = heartbeatAt
        self.runner = runner
        self.stopRequestedAt = stopRequestedAt
    }
}

/// What an operation is.
public struct OperationKind: RawRepresentable, Sendable, Hashable, Codable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let roll = OperationKind(rawValue: "roll")
    public static let rebalance = OperationKind(rawValue: "rebalance")
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
        enum Value: Sendable, Hashable { case unavailable, corrupt, notFound, writeFailed, invalidLocation }
        let value: Value
        /// The store cannot be opened (missing directory, permissions, a lock held by another process).
        public static let unavailable = Code(value: .unavailable)
        /// The store exists but is not one Ballast can read.
        public static let corrupt = Code(value: .corrupt)
        /// No such operation.
        public static let notFound = Code(value: .notFound)
        /// A write did not happen; what was being recorded is not on disk.
        public static let writeFailed = Code(value: .writeFailed)
        /// The store's URL or path is malformed (a configuration error).
        public static let invalidLocation = Code(value: .invalidLocation)
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
        case .corrupt, .invalidLocation: .badInput
        case .notFound: .notFound
        default: .failed
        }
    }
}

extension Lease {
    /// The lease after `holder` asks for it until `until` at `now`: renewed when it holds it, taken (next epoch)
    /// when it is free or expired, else unchanged. Every store applies this one rule inside its transaction.
    func next(holder: String, until: TimeInterval, now: Date) -> Lease {
        let expiresAt = Date(timeIntervalSince1970: until)
        if self.holder == holder { return Lease(holder: holder, expiresAt: expiresAt, epoch: epoch) }
        if self.expiresAt <= now { return Lease(holder: holder, expiresAt: expiresAt, epoch: epoch + 1) }
        return self
    }
}
