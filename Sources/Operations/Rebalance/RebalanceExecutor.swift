public import BallastStore
import Foundation
public import KafkaModel
public import Logging
public import Rebalancer

/// Runs a rebalance: feeds the state machine with what the cluster says, does what it decides, and journals each
/// move's status and each throttle's prior value BEFORE the action that changes them, so that a resumed execution
/// knows exactly what it may have started and what to put back.
///
/// Time comes from `clock` (every wait, deadline and retry is measured on it), so tests drive it instead of
/// sleeping. Cancellation (a crash, as far as the journal knows) is rethrown without ending the operation, so
/// `--resume` or `--stop` can take it over.
public struct RebalanceExecutor<C: Clock>: Sendable where C.Duration == Duration {
    public var operationId: String
    public var moves: [PlannedMove]
    public var hash: String
    public var options: RebalanceOptions
    public var cluster: any RebalanceCluster
    public var store: (any OperationsStore)?
    public var resume: RebalanceResumeState?
    public var logger: Logger
    /// How long a failing cluster read is retried before the execution gives up (measured on `clock`); the
    /// operation stays running in the store, its moves may be in flight: `--resume` or `--stop` continues it.
    public var readRetrySeconds: Double = 60
    /// Whether a stop was asked for (default: the store's stop request for this operation).
    public var stopRequested: (@Sendable () async -> Bool)?
    public let clock: C

    public init(
        operationId: String, moves: [PlannedMove], hash: String, options: RebalanceOptions,
        cluster: any RebalanceCluster, store: (any OperationsStore)?, resume: RebalanceResumeState? = nil,
        clock: C, logger: Logger
    ) {
        self.operationId = operationId
        self.moves = moves
        self.hash = hash
        self.options = options
        self.cluster = cluster
        self.store = store
        self.resume = resume
        self.clock = clock
        self.logger = logger
    }

    /// Runs the execution to its end and returns its report (a stop or failure is a report, not a throw). Throws
    /// `RebalanceRunError` when the cluster or the journal could not be used for long enough, leaving the
    /// operation running in the store.
    @discardableResult
    public func run(onEvent: @Sendable (RebalanceEvent) -> Void = { _ in }) async throws -> RebalanceReport {
        let start = clock.now
        func now() -> Double { start.duration(to: clock.now).seconds }

        var machine = RebalanceStateMachine(
            moves: moves, options: options, journal: resume?.moves ?? [:], priors: resume?.priors ?? [],
            stopRequested: resume?.record.stopRequestedAt != nil)
        emit(.started(operationId: operationId, moves: moves.count, hash: hash, resumed: resume != nil), onEvent)
        var step = machine.start(now: now())
        let storeName = store?.location ?? ""

        while true {
            // The journal first: a crash right after it finds the move `requested`, the prior value saved.
            do {
                if let store {
                    try await store.saveSettings(operationId, step.priors.map(\.savedSetting))
                    try await store.recordItems(
                        operationId,
                        step.journal.map { ItemState(index: $0.index, state: $0.status.rawValue, detail: $0.detail) })
                }
            } catch {
                if Task.isCancelled { throw CancellationError() }
                throw RebalanceRunError(
                    "the journal \(storeName) could not be written (\(error)); nothing more was done: the moves "
                        + "started so far continue in Kafka; `ballast rebalance --resume` or `--stop` takes over")
            }
            for event in step.events { emit(event, onEvent) }

            switch step.action {
            case .finished(let report):
                if let store {
                    try? await store.record(
                        operationId, batch: 0, node: nil, report.isClean ? .finished : .failed,
                        detail: report.summary)
                }
                return report

            case .wait(let seconds):
                try await clock.sleep(for: .seconds(seconds))
                if await stopAsked() { machine.requestStop() }
                step = machine.waited(now: now())

            case .read(let request):
                if let store { try? await store.heartbeat(operationId, at: Date(), runner: RebalanceStop.thisRunner) }
                if await stopAsked() { machine.requestStop() }
                let observation = try await retrying("the cluster could not be read") {
                    try await read(request)
                }
                step = machine.observed(observation, now: now())

            case .alterThrottles(let changes):
                let failures = await cluster.alterThrottles(changes)
                step = machine.throttlesAltered(failures: failures, now: now())

            case .startMoves(let indices):
                var targets: [TopicPartition: [Int32]?] = [:]
                for m in indices { targets[moves[m].topicPartition] = .some(moves[m].newReplicas) }
                do {
                    let refused = try await cluster.alterReassignments(targets)
                    var byMove: [Int: String] = [:]
                    for m in indices { if let e = refused[moves[m].topicPartition] { byMove[m] = e } }
                    step = machine.movesStarted(refused: byMove, unknown: [], now: now())
                } catch let error as CancellationError {
                    throw error
                } catch {
                    emit(.warning("AlterPartitionReassignments got no answer (\(error)); read back next"), onEvent)
                    step = machine.movesStarted(refused: [:], unknown: Set(indices), now: now())
                }

            case .cancelMoves(let indices):
                var targets: [TopicPartition: [Int32]?] = [:]
                for m in indices { targets[moves[m].topicPartition] = .some(nil) }
                var failures: [Int: String] = [:]
                do {
                    let refused = try await cluster.alterReassignments(targets)
                    for m in indices { if let e = refused[moves[m].topicPartition] { failures[m] = e } }
                } catch let error as CancellationError {
                    throw error
                } catch {
                    for m in indices { failures[m] = "\(error)" }
                }
                step = machine.movesCancelled(failures: failures, now: now())

            case .electLeaders(let partitions):
                var failures: [TopicPartition: String] = [:]
                do {
                    failures = try await cluster.electPreferredLeaders(partitions)
                } catch let error as CancellationError {
                    throw error
                } catch {
                    for tp in partitions { failures[tp] = "\(error)" }
                }
                step = machine.leadersElected(partitions, failures: failures, now: now())
            }
        }
    }

    func read(_ request: RebalanceStateMachine.ReadRequest) async throws -> RebalanceStateMachine.Observation {
        // Reassignments first: one that completes between the two reads is then still listed (and followed one
        // more poll) rather than seen finished in the list and half-way in metadata.
        let reassignments = try await cluster.reassignments()
        let snapshot = try await cluster.snapshot()
        let throttles = await cluster.throttles(of: request.configs)
        var sizes: [TopicPartition: Int64]?
        if request.logDirs {
            // Sizes only refine the deadlines; without them the proposal's sizes are used.
            sizes = try? await cluster.replicaSizes(brokers: snapshot.brokers.map(\.id))
        }
        return .init(
            snapshot: snapshot, reassignments: reassignments, throttles: throttles, replicaSizes: sizes)
    }

    func stopAsked() async -> Bool {
        if let stopRequested { return await stopRequested() }
        guard let store else { return false }
        return (try? await store.operation(operationId))?.stopRequestedAt != nil
    }

    func retrying<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws -> T {
        let deadline = clock.now.advanced(by: .seconds(readRetrySeconds))
        while true {
            do {
                return try await body()
            } catch let error as CancellationError {
                throw error
            } catch {
                // Still alive, only waiting: `--stop` must not take over meanwhile.
                if let store { try? await store.heartbeat(operationId, at: Date(), runner: RebalanceStop.thisRunner) }
                if clock.now >= deadline {
                    throw RebalanceRunError(
                        "\(what) for \(Int(readRetrySeconds)) s (\(error)); the moves started so far continue in "
                            + "Kafka: `ballast rebalance --resume` or `--stop` takes over")
                }
                try await clock.sleep(for: .seconds(min(max(options.timeouts.pollSeconds, 0.05), 5)))
            }
        }
    }

    func emit(_ event: RebalanceEvent, _ onEvent: @Sendable (RebalanceEvent) -> Void) {
        var logger = logger
        logger[metadataKey: LogKey.operationId] = "\(operationId)"
        switch event {
        case .moveSkipped(let tp, let reason), .moveCancelled(let tp, let reason):
            logger.warning("move not done", metadata: [LogKey.partition: "\(tp)", "reason": "\(reason)"])
        case .warning(let message):
            logger.warning("\(message)")
        case .finished(let report):
            logger.info("rebalance ended", metadata: ["outcome": "\(report.outcome.rawValue)"])
        default:
            logger.debug("rebalance event", metadata: ["event": "\(event)"])
        }
        onEvent(event)
    }
}

extension RebalanceExecutor where C == ContinuousClock {
    /// An execution on real time.
    public init(
        operationId: String, moves: [PlannedMove], hash: String, options: RebalanceOptions,
        cluster: any RebalanceCluster, store: (any OperationsStore)?, resume: RebalanceResumeState? = nil,
        logger: Logger
    ) {
        self.init(
            operationId: operationId, moves: moves, hash: hash, options: options, cluster: cluster, store: store,
            resume: resume, clock: ContinuousClock(), logger: logger)
    }
}

/// The execution could not go on (the cluster or the journal unusable for too long); the operation stays
/// running, so `--resume` or `--stop` can take it over.
public struct RebalanceRunError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension RebalanceRunError: CategorizedError {
    public var category: ErrorCategory { .unreachable }
}
