import Foundation
import KafkaAdmin
public import Logging

/// Runs a roll: feeds the state machine with what the cluster and the agents say, does what it decides, and
/// journals every step (before and after each restart request).
public struct RollExecutor: Sendable {
    public var operationId: String
    /// Nodes to restart; nil means every node the agents manage.
    public var nodes: Set<Int32>?
    public var options: RollOptions
    public var cluster: any ClusterReader
    public var agents: [any AgentAPI]
    public var journal: RollJournal?
    public var resume: RollJournal.ResumeState?
    /// The number of active rollout-blocking signals (alerts), read before every gate.
    public var activeSignals: @Sendable () async -> Int
    public var logger: Logger
    /// How long a failing cluster read or agent poll is retried before the roll fails.
    public var readRetrySeconds: Double = 30

    public init(
        operationId: String, nodes: Set<Int32>?, options: RollOptions, cluster: any ClusterReader,
        agents: [any AgentAPI], journal: RollJournal?, resume: RollJournal.ResumeState? = nil,
        activeSignals: @escaping @Sendable () async -> Int = { 0 }, logger: Logger
    ) {
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
        let clock = ContinuousClock()
        let start = clock.now
        func now() -> Double {
            let d = start.duration(to: clock.now).components
            return Double(d.seconds) + Double(d.attoseconds) / 1e18
        }
        func wallMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

        var batch = resume?.batchesDone ?? 0
        func emit(_ event: RollEvent) throws {
            switch event {
            case .batchStarted(let index, let nodes, _, _, _):
                batch = index
                try journal?.record(
                    operationId, batch: index, .batchStarted, detail: nodes.map(String.init).joined(separator: ","))
            case .restarted(let node):
                try journal?.record(operationId, batch: batch, node: node, .restarted)
            case .batchDone(let index, _):
                try journal?.record(operationId, batch: index, .batchDone)
            case .finished:
                try journal?.record(operationId, batch: batch, .finished)
            case .failed(let failure):
                try journal?.record(operationId, batch: batch, node: failure.node, .failed, detail: failure.message)
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
        try emit(.started(operationId: operationId, nodes: toRoll.sorted(), resumed: resume != nil))
        var step = machine.start(now: now())
        var operations: [Int32: String] = [:]
        var pollErrors: [Int32: Int] = [:]
        var owners = owner

        while true {
            for event in step.events { try emit(event) }
            switch step.action {
            case .finished:
                return machine.restarted
            case .fail(let failure):
                throw failure
            case .wait(let seconds):
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
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
                    try journal?.record(operationId, batch: batch, node: node, .restartRequested, detail: requestId)
                    do {
                        let op = try await agent.restart(node: node, requestId: requestId)
                        operations[node] = op.id
                        try journal?.record(operationId, batch: batch, node: node, .restartAccepted, detail: op.id)
                    } catch let error as CancellationError {
                        throw error
                    } catch {
                        failures[node] = "\(error)"
                        break
                    }
                }
                pollErrors = [:]
                step = machine.restartsRequested(failures: failures, now: now())
            case .pollAgents(let batchNodes):
                var statuses: [Int32: RollStateMachine.AgentStatus] = [:]
                for node in batchNodes {
                    guard let agent = owners[node], let opId = operations[node] else { continue }
                    do {
                        let op = try await agent.operation(opId)
                        pollErrors[node] = 0
                        switch op.state {
                        case "done": statuses[node] = .done
                        case "failed": statuses[node] = .failed(op.error ?? "no reason given")
                        default: statuses[node] = .running
                        }
                    } catch {
                        // An agent may be briefly unreachable; several failed polls in a row stop the roll.
                        pollErrors[node, default: 0] += 1
                        if Double(pollErrors[node]!) * options.timeouts.pollSeconds >= readRetrySeconds {
                            statuses[node] = .failed("the agent stopped answering: \(error)")
                        }
                    }
                }
                step = machine.agentStatus(statuses, now: now())
            case .electLeaders(let partitions):
                do {
                    try await cluster.electPreferredLeaders(partitions)
                } catch {
                    try emit(
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
                try await agent.nodes()
            }
            for n in list {
                if let other = owner[n.id] {
                    throw RollFailure(
                        node: n.id, "node \(n.id) is reported by two agents (\(other.endpoint) and \(agent.endpoint))")
                }
                owner[n.id] = agent
                nodes.append(n)
            }
        }
        return (nodes, owner)
    }

    func retrying<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(readRetrySeconds * 1000))
        while true {
            do {
                return try await body()
            } catch let error as CancellationError {
                throw error
            } catch {
                if clock.now >= deadline {
                    throw RollFailure("\(what) for \(Int(readRetrySeconds)) s: \(error)")
                }
                try await Task.sleep(for: .milliseconds(Int64(max(options.timeouts.pollSeconds, 0.05) * 1000)))
            }
        }
    }

    func log(_ event: RollEvent) {
        var logger = logger
        logger[metadataKey: "ballast.operation.id"] = "\(operationId)"
        switch event {
        case .batchStarted(let index, let nodes, let zone, _, _):
            logger.info("batch started", metadata: ["batch": "\(index)", "nodes": "\(nodes)", "zone": "\(zone)"])
        case .failed(let failure):
            logger.error("roll failed", metadata: ["error": "\(failure.message)"])
        case .warning(let message):
            logger.warning("\(message)")
        case .finished(let restarted):
            logger.info("roll finished", metadata: ["restarted": "\(restarted)"])
        default:
            logger.debug("roll event", metadata: ["event": "\(event)"])
        }
    }
}
