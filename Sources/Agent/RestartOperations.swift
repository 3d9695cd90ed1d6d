public import AgentContract
import Foundation
import KafkaModel
public import Logging
public import ServiceLifecycle
import Synchronization

/// The agent's restarts: created by requests, run by `RestartWorker`, read by `GET /v1/operations/{id}`.
///
/// With a store every change is on disk before it is acted on: a restart is recorded before the API accepts it
/// and before the driver is called, so a restarted agent still answers the request ids it accepted. A restart
/// that was running when the agent stopped is loaded as failed (nobody can tell whether it finished), never
/// run again.
public final class RestartOperations: Sendable {
    /// The default number of finished operations kept; the oldest finished ones beyond it are dropped.
    public static let defaultMaxFinished = 10_000

    let state: Mutex<OperationBook>
    /// Serializes saves; each save writes the newest state, so the file never goes back in time.
    let saving = Mutex(())
    let store: OperationStore?
    let jobs: AsyncStream<AgentOperation>.Continuation
    let stream: AsyncStream<AgentOperation>
    /// The operations that were running when the previous agent process stopped, now failed.
    public let interrupted: [AgentOperation]
    /// Callers of `finished(_:)` waiting for an operation to end.
    let waiters = Mutex<[String: [CheckedContinuation<AgentOperation?, Never>]]>([:])

    /// Operations kept in memory only.
    public convenience init(maxFinished: Int = RestartOperations.defaultMaxFinished) {
        self.init(book: OperationBook(maxFinished: maxFinished), store: nil, interrupted: [])
    }

    /// Loads the operations the store holds (running ones become failed) and saves the result, which also checks
    /// that the state file can be written. Throws, naming the file, when it cannot be read, parsed or written.
    /// A nil store keeps the operations in memory only.
    public convenience init(store: OperationStore?, maxFinished: Int = RestartOperations.defaultMaxFinished) throws {
        var book = OperationBook(maxFinished: maxFinished)
        var interrupted: [AgentOperation] = []
        if let store {
            if let file = try store.load() { interrupted = book.load(file) }
            try store.save(book.file)
        }
        self.init(book: book, store: store, interrupted: interrupted)
    }

    private init(book: OperationBook, store: OperationStore?, interrupted: [AgentOperation]) {
        self.state = Mutex(book)
        self.store = store
        self.interrupted = interrupted
        let (stream, jobs) = AsyncStream<AgentOperation>.makeStream()
        self.stream = stream
        self.jobs = jobs
    }

    func start(node: Int32, requestId: String?) -> StartResult {
        let result = state.withLock { $0.start(node: node, requestId: requestId) }
        guard case .started(let op) = result else { return result }
        do {
            try save()
        } catch {
            // Not recorded means not run: a restarted agent would not know this request id.
            state.withLock { $0.forget(op.id) }
            return .unrecorded("\(error); node \(node) was not restarted")
        }
        jobs.yield(op)
        return result
    }

    /// Marks the operation finished. The memory state changes even when saving it throws; an operation whose
    /// end was not saved loads as interrupted after an agent restart.
    func finish(_ id: String, error: String?) throws {
        let changed = state.withLock { $0.finish(id, error: error) }
        defer { if changed { wakeWaiters(id) } }
        if changed { try save() }
    }

    /// Waits until the operation is `done` or `failed` and returns it; nil for an unknown operation. In-process
    /// callers (tests, an embedded agent) wait on this instead of polling.
    public func finished(_ id: String) async -> AgentOperation? {
        await withCheckedContinuation { continuation in
            let now = waiters.withLock { waiting -> AgentOperation?? in
                guard let op = state.withLock({ $0.operations[id] }) else { return .some(nil) }
                if op.state.isFinished { return .some(op) }
                waiting[id, default: []].append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    private func wakeWaiters(_ id: String) {
        let op = operation(id)
        for w in waiters.withLock({ $0.removeValue(forKey: id) ?? [] }) { w.resume(returning: op) }
    }

    public func operation(_ id: String) -> AgentOperation? { state.withLock { $0.operations[id] } }

    func isRestarting(_ node: Int32) -> Bool { state.withLock { $0.running[node] != nil } }

    /// How many restarts run now.
    public var runningCount: Int { state.withLock { $0.running.count } }

    private func save() throws {
        guard let store else { return }
        try saving.withLock { _ in
            let file = state.withLock { $0.file }
            try store.save(file)
        }
    }
}

enum StartResult: Sendable {
    case started(AgentOperation)
    case existing(AgentOperation)
    case busy(String)
    /// The operation could not be stored; nothing was restarted.
    case unrecorded(String)
}

/// The operations and what they index, without I/O.
struct OperationBook: Sendable {
    var operations: [String: AgentOperation] = [:]
    /// Operation ids, oldest first.
    var order: [String] = []
    var byRequest: [String: String] = [:]
    var running: [Int32: String] = [:]
    /// Continues across agent restarts (it is stored), so ids stay unique even without the random suffix.
    var counter = 0
    let maxFinished: Int

    init(maxFinished: Int) { self.maxFinished = max(0, maxFinished) }

    var file: OperationsFile { OperationsFile(counter: counter, operations: order.compactMap { operations[$0] }) }

    /// Takes over a stored state; returns the operations that were running, which become failed.
    mutating func load(_ file: OperationsFile) -> [AgentOperation] {
        var interrupted: [AgentOperation] = []
        counter = file.counter
        for var op in file.operations where operations[op.id] == nil {
            if op.state == .running {
                op.state = .failed
                op.error =
                    "the agent stopped while restarting node \(op.node) (operation \(op.id)); it cannot tell "
                    + "whether the restart finished: check node \(op.node) before restarting it again"
                interrupted.append(op)
            }
            operations[op.id] = op
            order.append(op.id)
            if let requestId = op.requestId { byRequest[requestId] = op.id }
            // A stored counter behind its ids (an edited file) must not hand out an id twice.
            if let n = Self.number(op.id) { counter = max(counter, n) }
        }
        prune()
        return interrupted
    }

    mutating func start(node: Int32, requestId: String?) -> StartResult {
        if let requestId, let existing = byRequest[requestId], let op = operations[existing] {
            return .existing(op)
        }
        if let running = running[node] { return .busy(running) }
        counter += 1
        let op = AgentOperation(
            id: "op-\(counter)-\(UUID().uuidString.prefix(8).lowercased())", node: node, state: .running, error: nil,
            requestId: requestId)
        operations[op.id] = op
        order.append(op.id)
        if let requestId { byRequest[requestId] = op.id }
        running[node] = op.id
        return .started(op)
    }

    /// Returns whether the operation changed.
    mutating func finish(_ id: String, error: String?) -> Bool {
        guard var op = operations[id], op.state == .running else { return false }
        op.state = error == nil ? .done : .failed
        op.error = error
        operations[id] = op
        if running[op.node] == id { running[op.node] = nil }
        prune()
        return true
    }

    /// Removes an operation that was never acted on.
    mutating func forget(_ id: String) {
        guard let op = operations.removeValue(forKey: id) else { return }
        order.removeAll { $0 == id }
        if let requestId = op.requestId, byRequest[requestId] == id { byRequest[requestId] = nil }
        if running[op.node] == id { running[op.node] = nil }
    }

    /// Drops the oldest finished operations beyond `maxFinished`.
    mutating func prune() {
        var excess = operations.count - running.count - maxFinished
        guard excess > 0 else { return }
        var kept: [String] = []
        kept.reserveCapacity(order.count - excess)
        for id in order {
            guard excess > 0, let op = operations[id], op.state != .running else {
                kept.append(id)
                continue
            }
            operations[id] = nil
            if let requestId = op.requestId, byRequest[requestId] == id { byRequest[requestId] = nil }
            excess -= 1
        }
        order = kept
    }

    /// The counter in an id `op-<n>-<suffix>`.
    static func number(_ id: String) -> Int? {
        let parts = id.split(separator: "-")
        guard parts.count >= 2, parts[0] == "op" else { return nil }
        return Int(parts[1])
    }
}

/// Runs the restarts the API accepted, concurrently, until graceful shutdown.
public struct RestartWorker: Service {
    let operations: RestartOperations
    let driver: any NodeDriver
    let logger: Logger
    let metrics: AgentMetrics

    public init(
        operations: RestartOperations, driver: any NodeDriver, logger: Logger, metrics: AgentMetrics = AgentMetrics()
    ) {
        self.operations = operations
        self.driver = driver
        self.logger = logger
        self.metrics = metrics
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for await op in operations.stream.cancelOnGracefulShutdown() {
                metrics.restartsRequested.increment()
                metrics.restartsRunning.record(operations.runningCount)
                group.addTask {
                    let started = ContinuousClock.now
                    defer {
                        metrics.restartDuration.recordNanoseconds(
                            Int64((ContinuousClock.now - started).seconds * 1e9))
                        metrics.restartsRunning.record(operations.runningCount)
                    }
                    var logger = logger
                    logger[metadataKey: LogKey.brokerId] = "\(op.node)"
                    logger.info("restarting node", metadata: [LogKey.agentOperationId: "\(op.id)"])
                    let failure: String?
                    do {
                        try await driver.restart(node: op.node)
                        failure = nil
                        metrics.restartsDone.increment()
                        logger.info("node restarted", metadata: [LogKey.agentOperationId: "\(op.id)"])
                    } catch {
                        failure = "\(error)"
                        metrics.restartsFailed.increment()
                        logger.error(
                            "restart failed", metadata: [LogKey.agentOperationId: "\(op.id)", LogKey.error: "\(error)"])
                    }
                    do {
                        try operations.finish(op.id, error: failure)
                    } catch {
                        logger.error(
                            "the restart's end could not be saved; after an agent restart it reads as interrupted",
                            metadata: [LogKey.agentOperationId: "\(op.id)", LogKey.error: "\(error)"])
                    }
                }
            }
        }
    }
}
