import AgentContract
public import BallastStore
public import Foundation
import KafkaModel
public import Logging
import Rebalancer
public import Roller
import Synchronization

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
    /// How long a failing cluster read, or the agents' first node lists, are retried before the roll fails (measured
    /// on `clock`). An agent that stops answering later pauses the nodes it manages for up to
    /// `options.timeouts.agentUnreachableSeconds` instead.
    public var readRetrySeconds: Double = 30
    /// How often an agent that stopped answering is asked again while the roll goes on without it.
    public var silentAgentProbeSeconds: Double = 10
    /// Replica sizes and throttles are measured at most this often (on `clock`): DescribeLogDirs goes to every
    /// broker, so a fast poll does not multiply it.
    public var replicationSampleSeconds: Double = 2
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
    /// journal knows) is rethrown without journaling a failure, so `--resume` can continue; throttles the catch-up
    /// remedy changed are put back first (and stay journaled, so a resume puts them back too if that failed).
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
        // What a previous run of this roll changed with the catch-up throttle remedy: put back first.
        var priors: [ThrottlePrior] = []
        if resume != nil, let journal {
            priors = try await journal.savedSettings(operationId).compactMap(ThrottlePrior.init(saved:))
        }
        var machine = RollStateMachine(
            nodes: toRoll, options: options, completed: resume?.completed ?? [], inFlight: resume?.inFlight ?? [],
            batchesDone: resume?.batchesDone ?? 0, throttlePriors: priors)
        try await emit(.started(operationId: operationId, nodes: toRoll.sorted(), resumed: resume != nil))
        var step = machine.start(now: now())
        var operations: [Int32: String] = [:]
        var lastSample: C.Instant?
        /// When each agent first failed to answer, since its last answer; and what it last reported.
        var silentSince: [String: C.Instant] = [:]
        var lastReport: [String: [AgentNode]] = Dictionary(grouping: inventory) { owner[$0.id]!.endpoint }
        /// When each node's restart operation last went unanswered, since its last answer.
        var unanswered: [Int32: C.Instant] = [:]
        var owners = owner
        /// When each silent agent was last asked, its last failure, and the questions still out.
        var lastProbe: [String: C.Instant] = [:]
        var silentError: [String: String] = [:]
        let probes = AgentProbes()
        defer { probes.cancelAll() }
        func silence(_ agent: any AgentAPI, _ error: (any Error)?) -> RollStateMachine.UnreachableAgent {
            let since = silentSince[agent.endpoint] ?? clock.now
            silentSince[agent.endpoint] = since
            if let error { silentError[agent.endpoint] = "\(error)" }
            return .init(
                endpoint: agent.endpoint, nodes: (lastReport[agent.endpoint] ?? []).map(\.id),
                seconds: since.duration(to: clock.now).seconds, error: silentError[agent.endpoint] ?? "no answer")
        }

        func drive() async throws -> [Int32] {
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
                    var nodes: [AgentNode] = []
                    var unreachable: [RollStateMachine.UnreachableAgent] = []
                    do {
                        snapshot = try await retrying("the cluster could not be read") { try await cluster.snapshot() }
                        // The agents that answered last time are asked now, all at once (one that stops answering costs
                        // one timeout, not one per agent). An agent already silent is asked in the background, every
                        // `silentAgentProbeSeconds`, its answer taken at a later read; meanwhile its last report stands,
                        // so a cut-off cluster does not hold up the roll of the others.
                        let now = clock.now
                        let ask = agents.filter { silentSince[$0.endpoint] == nil }
                        var answers = await withTaskGroup(of: (String, Result<[AgentNode], any Error>).self) { group in
                            for agent in ask {
                                group.addTask {
                                    do {
                                        return (
                                            agent.endpoint,
                                            .success(try await timed("nodes") { try await agent.nodes() })
                                        )
                                    } catch {
                                        return (agent.endpoint, .failure(error))
                                    }
                                }
                            }
                            var out: [String: Result<[AgentNode], any Error>] = [:]
                            for await (endpoint, result) in group { out[endpoint] = result }
                            return out
                        }
                        for agent in agents where silentSince[agent.endpoint] != nil {
                            if let result = probes.take(agent.endpoint) { answers[agent.endpoint] = result }
                            let last = lastProbe[agent.endpoint] ?? now
                            if answers[agent.endpoint] == nil, !probes.running(agent.endpoint),
                                last.duration(to: now).seconds >= silentAgentProbeSeconds
                            {
                                lastProbe[agent.endpoint] = now
                                probes.start(agent)
                            }
                        }
                        var read: [String: [AgentNode]] = [:]
                        for agent in agents {
                            switch answers[agent.endpoint] {
                            case .success(let list):
                                read[agent.endpoint] = list
                                lastReport[agent.endpoint] = list
                                silentSince[agent.endpoint] = nil
                            case .failure(let error as CancellationError):
                                throw error
                            case .failure(let error as AgentClientError) where !error.isRetriable:
                                throw RollFailure("the agent at \(agent.endpoint) could not list its nodes: \(error)")
                            case .failure(let error):
                                // Cut off (network, agent stopped): its nodes wait, as it last reported them.
                                if silentSince[agent.endpoint] == nil { lastProbe[agent.endpoint] = now }
                                unreachable.append(silence(agent, error))
                                read[agent.endpoint] = lastReport[agent.endpoint] ?? []
                            case nil:
                                // Silent, its probe still out.
                                unreachable.append(silence(agent, nil))
                                read[agent.endpoint] = lastReport[agent.endpoint] ?? []
                            }
                        }
                        owners = try Self.owners(agents, read)
                        nodes = agents.flatMap { read[$0.endpoint] ?? [] }
                    } catch let failure as RollFailure {
                        step = machine.failed(failure)
                        continue
                    }
                    let signals = await activeSignals()
                    // Replica sizes and throttles: the catch-up prediction and the stall diagnosis are made from them.
                    var replication: ReplicationSample?
                    if lastSample.map({ $0.duration(to: clock.now).seconds >= replicationSampleSeconds }) ?? true {
                        lastSample = clock.now
                        replication = await cluster.replication(brokers: snapshot.brokers.map(\.id), at: now())
                    }
                    step = machine.clusterRead(
                        snapshot, nodes: nodes.map(\.nodeInfo), activeSignals: signals, unreachable: unreachable,
                        replication: replication, now: now(), wallMillis: wallMillis())
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
                                try await requestRestart(agent, node: node, requestId: requestId)
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
                        } catch let error as AgentClientError where !error.isRetriable {
                            statuses[node] = .failed("the agent at \(agent.endpoint) refused the poll: \(error)")
                        } catch {
                            // An agent may be briefly unreachable (it restarts, its cluster is cut off): the roll waits,
                            // counting the time on the clock however often it polls, up to agentUnreachableSeconds.
                            let since = unanswered[node] ?? clock.now
                            unanswered[node] = since
                            statuses[node] = .unreachable(
                                agent: agent.endpoint, seconds: since.duration(to: clock.now).seconds, error: "\(error)"
                            )
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
                case .alterThrottles(let changes, let priors):
                    // The journal first: a crash right after it finds the value to put back.
                    var failures: [ConfigResource: String] = [:]
                    do {
                        if !priors.isEmpty { try await journal?.saveSettings(operationId, priors.map(\.savedSetting)) }
                        failures = await cluster.alterThrottles(changes)
                    } catch {
                        if Task.isCancelled { throw CancellationError() }
                        for c in changes { failures[c.key.resource] = "the journal could not be written: \(error)" }
                    }
                    step = machine.throttlesAltered(failures: failures, now: now())
                }
            }
        }
        do {
            return try await drive()
        } catch let error as CancellationError {
            // Cancelled (Ctrl-C, a cancelled operation): put the catch-up throttle back on a task of its own, which
            // the cancellation does not reach. A process that dies instead leaves it to `--resume` (journaled).
            let restore = machine.throttlesToRestore
            if !restore.isEmpty {
                let cluster = self.cluster
                let failures = await Task { await cluster.alterThrottles(restore) }.value
                for change in restore where failures[change.key.resource] == nil {
                    onEvent(.throttlesRestored([change.key]))
                }
            }
            throw error
        }

    }

    /// Asks `agent` to restart `node`. An agent that does not answer, or answers 5xx (its driver could not reach its
    /// simulator or Kubernetes API), is asked again with the same request id — which an agent that did accept the
    /// first request answers with the same operation — for up to `agentUnreachableSeconds`.
    func requestRestart(_ agent: any AgentAPI, node: Int32, requestId: String) async throws -> AgentOperation {
        let deadline = clock.now.advanced(by: .seconds(options.timeouts.agentUnreachableSeconds))
        while true {
            do {
                return try await agent.restart(node: node, requestId: requestId)
            } catch let error as AgentClientError where error.isTransient && clock.now < deadline {
                logger.warning(
                    "restart request not answered; asking again",
                    metadata: ["node": "\(node)", LogKey.error: "\(error)"])
                try await clock.sleep(for: .seconds(max(options.timeouts.pollSeconds, 0.05)))
            }
        }
    }

    /// Every agent's nodes, and the agent of each node (at the start of a roll: every agent must answer).
    func readAgents() async throws -> ([AgentNode], [Int32: any AgentAPI]) {
        var read: [String: [AgentNode]] = [:]
        for agent in agents {
            read[agent.endpoint] = try await retrying("the agent at \(agent.endpoint) could not list its nodes") {
                try await timed("nodes") { try await agent.nodes() }
            }
        }
        return (agents.flatMap { read[$0.endpoint] ?? [] }, try Self.owners(agents, read))
    }

    /// The agent of each node; a node reported by two agents fails the roll.
    static func owners(_ agents: [any AgentAPI], _ read: [String: [AgentNode]]) throws -> [Int32: any AgentAPI] {
        var owner: [Int32: any AgentAPI] = [:]
        for agent in agents {
            for n in read[agent.endpoint] ?? [] {
                if let other = owner[n.id] {
                    throw RollFailure(
                        .badInventory, node: n.id,
                        "node \(n.id) is reported by two agents (\(other.endpoint) and \(agent.endpoint))")
                }
                owner[n.id] = agent
            }
        }
        return owner
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

/// Node lists asked of agents that stopped answering, in the background: the roll takes an answer at a later read
/// instead of waiting out the agent's timeout at every read.
final class AgentProbes: Sendable {
    let state = Mutex<(running: [String: Task<Void, Never>], results: [String: Result<[AgentNode], any Error>])>(
        ([:], [:]))

    func start(_ agent: any AgentAPI) {
        let endpoint = agent.endpoint
        let task = Task { [self] in
            let result: Result<[AgentNode], any Error>
            do { result = .success(try await agent.nodes()) } catch { result = .failure(error) }
            state.withLock { s in
                s.running[endpoint] = nil
                s.results[endpoint] = result
            }
        }
        state.withLock { s in
            // The task may already have finished.
            if s.results[endpoint] == nil { s.running[endpoint] = task }
        }
    }

    func running(_ endpoint: String) -> Bool { state.withLock { $0.running[endpoint] != nil } }

    /// The answer that came in since the last call, if any.
    func take(_ endpoint: String) -> Result<[AgentNode], any Error>? {
        state.withLock { $0.results.removeValue(forKey: endpoint) }
    }

    func cancelAll() {
        for task in state.withLock({ Array($0.running.values) }) { task.cancel() }
    }
}
