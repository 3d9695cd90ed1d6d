import AgentContract
public import BallastStore
public import Foundation
import KafkaModel
public import Logging
public import Roller

/// Runs a roll: feeds the state machine with what the cluster and the agents say, does what it decides, and
/// journals every step (before and after each restart request).
///
/// Time comes from `clock` (every wait, timeout and retry is measured on it), so tests drive it instead of
/// sleeping; `wallClock` gives the epoch time the quorum's caught-up timestamps are compared with.
public struct RollExecutor<C: Clock>: Sendable where C.Duration == Duration {
    public var operationId: String
    /// Nodes to restart; nil means every node the agents manage.
    public var nodes: Set<Int32>?
    public var options: RollOptions
    public var cluster: any ClusterReader
    public var agents: [any AgentAPI]
    public var journal: (any OperationsStore)?
    public var resume: RollResumeState?
    /// The number of active rollout-blocking signals (alerts), read before every gate.
    public var activeSignals: @Sendable () async -> Int
    public var logger: Logger
    /// How long a failing cluster read or agent poll is retried before the roll fails (measured on `clock`).
    public var readRetrySeconds: Double = 30
    public let clock: C
    public var wallClock: @Sendable () -> Date
    /// Restarts, gate holds, batch durations and agent call latency (swift-metrics).
    public var metrics = RollMetrics()

    public init(
        operationId: String, nodes: Set<Int32>?, options: RollOptions, cluster: any ClusterReader,
        agents: [any AgentAPI], journal: (any OperationsStore)?, resume: RollResumeState? = nil,
        activeSignals: @escaping @Sendable () async -> Int = { 0 }, clock: C,
        wallClock: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.clock = clock
        self.wallClock = wallClock
        self.operationId = operationId
        self.nodes = nodes
        self.options = options
        self.cluster = cluster
        self.agents = agents
        self.journal = journal
        self.resume = resume
        self.activeSignals = activeSignals
        self.logger = logger
    }

    /// The request id under which a node's restart is asked for in this roll.
    public static func requestId(operationId: String, node: Int32) -> String { "\(operationId)/node-\(node)" }

    /// Runs the roll to the end; throws the `RollFailure` that stopped it. Cancellation (a crash, as far as the
    /// journal knows) is rethrown without journaling a failure, so `--resume` can continue.
    @discardableResult
    public func run(onEvent: @Sendable (RollEvent) -> Void = { _ in }) async throws -> [Int32] {
        let start = clock.now
        func now() -> Double { start.duration(to: clock.now).seconds }
        func wallMillis() -> Int64 { Int64(wallClock().timeIntervalSince1970 * 1000) }

        var batch = resume?.batchesDone ?? 0
        var batchStart = clock.now
        let metrics = self.metrics
        func emit(_ event: RollEvent) async throws {
            switch event {
            case .waiting(let reasons, let held):
                if let code = reasons.first?.code ?? held.sorted(by: { $0.key < $1.key }).first?.value.code {
                    metrics.gateHeld(code)
                }
            case .batchStarted:
                batchStart = clock.now
            case .restarted:
                metrics.restartsDone.increment()
            case .batchDone:
                metrics.batchDuration.recordNanoseconds(Int64(batchStart.duration(to: clock.now).seconds * 1e9))
            case .finished:
                metrics.rollEnded("finished")
            case .failed(let failure):
                metrics.rollEnded("failed")
                if failure.node != nil, failure.code != .badInventory { metrics.restartsFailed.increment() }
            default:
                break
            }
            switch event {
            case .batchStarted(let index, let nodes, _, _, _):
                batch = index
                try await journal?.record(
                    operationId, batch: index, node: nil, .batchStarted,
                    detail: nodes.map(String.init).joined(separator: ","))
            case .restarted(let node):
                try await journal?.record(operationId, batch: batch, node: node, .restarted)
            case .batchDone(let index, _):
                try await journal?.record(operationId, batch: index, .batchDone)
            case .finished:
                try await journal?.record(operationId, batch: batch, .finished)
            case .failed(let failure):
                try await journal?.record(
                    operationId, batch: batch, node: failure.node, .failed, detail: failure.message)
            default:
                break
            }
            log(event)
            onEvent(event)
        }

        // Which agent holds which node.
        let (inventory, owner) = try await readAgents()
        let all = Set(inventory.map(\.id))
        let toRoll = nodes ?? all
        var machine = RollStateMachine(
            nodes: toRoll, options: options, completed: resume?.completed ?? [], inFlight: resume?.inFlight ?? [],
            batchesDone: resume?.batchesDone ?? 0)
        try await emit(.started(operationId: operationId, nodes: toRoll.sorted(), resumed: resume != nil))
        var step = machine.start(now: now())
        var operations: [Int32: String] = [:]
        /// When each node's agent first failed to answer a poll, since its last answer.
        var unanswered: [Int32: C.Instant] = [:]
        var owners = owner

        while true {
            for event in step.events { try await emit(event) }
            switch step.action {
            case .finished:
                return machine.restarted
            case .fail(let failure):
                throw failure
            case .wait(let seconds):
                try await clock.sleep(for: .seconds(seconds))
                step = machine.waited(now: now())
            case .readCluster:
                let snapshot: ClusterSnapshot
                let nodes: [AgentNode]
                do {
                    snapshot = try await retrying("the cluster could not be read") { try await cluster.snapshot() }
                    let read = try await readAgents()
                    nodes = read.0
                    owners = read.1
                } catch let failure as RollFailure {
                    step = Self.failStep(failure)
                    continue
                }
                let signals = await activeSignals()
                step = machine.clusterRead(
                    snapshot, nodes: nodes.map(\.nodeInfo), activeSignals: signals, now: now(), wallMillis: wallMillis()
                )
            case .restart(let batchNodes):
                // One request after another: a refused or unreachable request stops the batch there.
                var failures: [Int32: String] = [:]
                for node in batchNodes {
                    guard let agent = owners[node] else {
                        failures[node] = "no agent manages it"
                        break
                    }
                    let requestId = Self.requestId(operationId: operationId, node: node)
                    try await journal?.record(
                        operationId, batch: batch, node: node, .restartRequested, detail: requestId)
                    do {
                        let op = try await timed("restart") {
                            try await agent.restart(node: node, requestId: requestId)
                        }
                        metrics.restartsRequested.increment()
                        operations[node] = op.id
                        try await journal?.record(
                            operationId, batch: batch, node: node, .restartAccepted, detail: op.id)
                    } catch let error as CancellationError {
                        throw error
                    } catch {
                        failures[node] = "\(error)"
                        break
                    }
                }
                unanswered = [:]
                step = machine.restartsRequested(failures: failures, now: now())
            case .pollAgents(let batchNodes):
                var statuses: [Int32: RollStateMachine.AgentStatus] = [:]
                for node in batchNodes {
                    guard let agent = owners[node], let opId = operations[node] else { continue }
                    do {
                        let op = try await timed("operation") { try await agent.operation(opId) }
                        unanswered[node] = nil
                        switch op.state {
                        case .done: statuses[node] = .done
                        case .failed: statuses[node] = .failed(op.error ?? "no reason given")
                        case .running: statuses[node] = .running
                        }
                    } catch let error as CancellationError {
                        throw error
                    } catch {
                        // An agent may be briefly unreachable (it restarts, say): the roll fails only once it has
                        // not answered for `readRetrySeconds`, however often it is polled meanwhile.
                        let since = unanswered[node] ?? clock.now
                        unanswered[node] = since
                        if since.duration(to: clock.now).seconds >= readRetrySeconds {
                            statuses[node] = .unreachable(
                                "stopped answering for \(Int(readRetrySeconds)) s: \(error)")
                        }
                    }
                }
                step = machine.agentStatus(statuses, now: now())
            case .electLeaders(let partitions):
                do {
                    try await cluster.electPreferredLeaders(partitions)
                } catch {
                    try await emit(
                        .warning("preferred leader election for \(partitions.count) partition(s) failed: \(error)"))
                }
                step = machine.electionDone(now: now())
            }
        }
    }

    static func failStep(_ failure: RollFailure) -> RollStateMachine.Step {
        .init(action: .fail(failure), events: [.failed(failure)])
    }

    /// Every agent's nodes, and the agent of each node.
    func readAgents() async throws -> ([AgentNode], [Int32: any AgentAPI]) {
        var nodes: [AgentNode] = []
        var owner: [Int32: any AgentAPI] = [:]
        for agent in agents {
            let list = try await retrying("the agent at \(agent.endpoint) could not list its nodes") {
                try await timed("nodes") { try await agent.nodes() }
            }
            for n in list {
                if let other = owner[n.id] {
                    throw RollFailure(
                        .badInventory, node: n.id,
                        "node \(n.id) is reported by two agents (\(other.endpoint) and \(agent.endpoint))")
                }
                owner[n.id] = agent
                nodes.append(n)
            }
        }
        return (nodes, owner)
    }

    /// Runs an agent call and records how long it took on `clock`.
    func timed<T: Sendable>(_ call: String, _ body: () async throws -> T) async throws -> T {
        let start = clock.now
        defer { metrics.agentCall(call, took: start.duration(to: clock.now)) }
        return try await body()
    }

    func retrying<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws -> T {
        let deadline = clock.now.advanced(by: .seconds(readRetrySeconds))
        while true {
            do {
                return try await body()
            } catch let error as CancellationError {
                throw error
            } catch {
                if clock.now >= deadline {
                    throw RollFailure(.unreachable, "\(what) for \(Int(readRetrySeconds)) s: \(error)")
                }
                try await clock.sleep(for: .seconds(max(options.timeouts.pollSeconds, 0.05)))
            }
        }
    }

    func log(_ event: RollEvent) {
        var logger = logger
        logger[metadataKey: LogKey.operationId] = "\(operationId)"
        switch event {
        case .batchStarted(let index, let nodes, let zone, _, _):
            logger.info("batch started", metadata: [LogKey.batch: "\(index)", "nodes": "\(nodes)", "zone": "\(zone)"])
        case .failed(let failure):
            logger.error("roll failed", metadata: [LogKey.error: "\(failure.message)"])
        case .warning(let message):
            logger.warning("\(message)")
        case .finished(let restarted):
            logger.info("roll finished", metadata: ["restarted": "\(restarted)"])
        default:
            logger.debug("roll event", metadata: ["event": "\(event)"])
        }
    }
}

extension RollExecutor where C == ContinuousClock {
    /// A roll on real time.
    public init(
        operationId: String, nodes: Set<Int32>?, options: RollOptions, cluster: any ClusterReader,
        agents: [any AgentAPI], journal: (any OperationsStore)?, resume: RollResumeState? = nil,
        activeSignals: @escaping @Sendable () async -> Int = { 0 }, logger: Logger
    ) {
        self.init(
            operationId: operationId, nodes: nodes, options: options, cluster: cluster, agents: agents,
            journal: journal, resume: resume, activeSignals: activeSignals, clock: ContinuousClock(), logger: logger)
    }
}
