public import KafkaModel

/// The rolling restart as a state machine: it is fed what the executor observed (snapshots, agent answers, the
/// time) and returns what to do next. No I/O, no clock of its own: `now` is monotonic seconds from the caller,
/// `wallMillis` the wall clock in milliseconds (for the quorum's caught-up timestamps).
///
/// Per batch: gate → restart → wait for the agents → wait for registration → wait for every replica back in
/// ISR → elect preferred leaders → optional delay. Each wait has its own timeout.
public struct RollStateMachine: Sendable {
    public enum Action: Sendable, Hashable {
        /// Read a fresh snapshot and the agents' nodes, then call `clusterRead`.
        case readCluster
        /// Ask the agents to restart these nodes (journal first), then call `restartsRequested`.
        case restart([Int32])
        /// Ask the agents how the restarts go, then call `agentStatus`.
        case pollAgents([Int32])
        /// Preferred leader election for these partitions, then call `electionDone`.
        case electLeaders([TopicPartition])
        /// Sleep, then call `waited`.
        case wait(seconds: Double)
        case finished
        case fail(RollFailure)
    }

    public struct Step: Sendable, Hashable {
        public var action: Action
        public var events: [RollEvent]

        public init(action: Action, events: [RollEvent]) {
            self.action = action
            self.events = events
        }
    }

    public enum AgentStatus: Sendable, Hashable {
        case running
        case done
        case failed(String)
        /// The agent has not answered for longer than the executor tolerates.
        case unreachable(String)
    }

    enum Phase: Sendable, Hashable {
        case gate(since: Double?)
        case restarting
        case waitingAgents(since: Double)
        case waitingRegistered(since: Double)
        case catchingUp(since: Double)
        case electing(since: Double, attempted: Bool)
        case delaying
        case finished
        case failed
    }

    public let options: RollOptions
    public private(set) var remaining: Set<Int32>
    public private(set) var restarted: [Int32] = []
    public private(set) var batch: [Int32] = []
    public private(set) var batchIndex: Int
    var phase: Phase = .gate(since: nil)
    var agentDone: Set<Int32> = []
    var lastSnapshot: ClusterSnapshot?

    /// - Parameters:
    ///   - nodes: every node to restart.
    ///   - completed: nodes a previous run of this roll already restarted and saw back in sync.
    ///   - inFlight: nodes a previous run asked to restart whose batch did not finish; they resume first.
    public init(
        nodes: Set<Int32>, options: RollOptions, completed: Set<Int32> = [], inFlight: [Int32] = [],
        batchesDone: Int = 0
    ) {
        self.options = options
        remaining = nodes.subtracting(completed).subtracting(inFlight)
        restarted = completed.sorted()
        batch = inFlight.sorted()
        batchIndex = batchesDone
    }

    public var isFinished: Bool { phase == .finished }

    /// The first step.
    public mutating func start(now: Double) -> Step {
        if !batch.isEmpty {
            batchIndex += 1
            phase = .restarting
            return Step(
                action: .restart(batch),
                events: [.batchStarted(index: batchIndex, nodes: batch, zone: "", cluster: "", downNode: false)])
        }
        phase = .gate(since: nil)
        return Step(action: .readCluster, events: [])
    }

    // MARK: Inputs

    public mutating func clusterRead(
        _ snapshot: ClusterSnapshot, nodes: [NodeInfo], activeSignals: Int = 0, now: Double, wallMillis: Int64
    ) -> Step {
        lastSnapshot = snapshot
        switch phase {
        case .gate(let since):
            return gate(
                snapshot, nodes: nodes, activeSignals: activeSignals, since: since ?? now, now: now,
                wallMillis: wallMillis)
        case .waitingRegistered(let since):
            let brokers = Set(snapshot.brokers.map(\.id))
            let ready = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let missing = batch.filter { id in
                let isBroker = ready[id]?.roles.contains(.broker) ?? true
                return (isBroker && !brokers.contains(id)) || ready[id]?.ready == false
            }
            if missing.isEmpty {
                phase = .catchingUp(since: now)
                return Step(action: .readCluster, events: batch.map { .registered(node: $0) })
                    .merged(with: catchUp(snapshot, since: now, now: now, wallMillis: wallMillis))
            }
            if now - since > options.timeouts.registerSeconds {
                return fail(
                    .nodeDidNotRecover,
                    node: missing[0],
                    "node \(missing[0]) did not re-register in the cluster metadata within "
                        + "\(seconds(options.timeouts.registerSeconds)) after its restart: it did not come back, "
                        + "perhaps it failed at start-up (check the node's logs); "
                        + "the roll stops and restarts no further node")
            }
            return Step(action: .wait(seconds: options.timeouts.pollSeconds), events: [])
        case .catchingUp(let since):
            return catchUp(snapshot, since: since, now: now, wallMillis: wallMillis)
        case .electing(let since, let attempted):
            let pending = leadersToRestore(snapshot)
            if pending.isEmpty {
                return afterElection(events: [.leadersElected(count: electedCount)])
            }
            if attempted && now - since > options.timeouts.electSeconds {
                return afterElection(events: [
                    .warning(
                        "\(pending.count) partition(s) (e.g. \(pending[0])) did not return to their preferred leader "
                            + "within \(seconds(options.timeouts.electSeconds)); the roll goes on")
                ])
            }
            phase = .electing(since: since, attempted: true)
            if attempted {
                return Step(action: .wait(seconds: options.timeouts.pollSeconds), events: [])
            }
            electedCount = pending.count
            return Step(action: .electLeaders(pending), events: [])
        default:
            return Step(action: .wait(seconds: 0), events: [])
        }
    }

    var electedCount = 0

    /// Every node of the batch was asked; `failures` holds the nodes whose request failed (agent unreachable,
    /// refused).
    public mutating func restartsRequested(failures: [Int32: String], now: Double) -> Step {
        if let node = failures.keys.sorted().first {
            return fail(
                .restartFailed, node: node, "restart of node \(node) could not be requested: \(failures[node]!)")
        }
        agentDone = []
        phase = .waitingAgents(since: now)
        return Step(action: .pollAgents(batch), events: batch.map { .restartRequested(node: $0) })
    }

    public mutating func agentStatus(_ statuses: [Int32: AgentStatus], now: Double) -> Step {
        guard case .waitingAgents(let since) = phase else { return Step(action: .wait(seconds: 0), events: []) }
        var events: [RollEvent] = []
        for node in batch where !agentDone.contains(node) {
            switch statuses[node] {
            case .done:
                agentDone.insert(node)
                events.append(.restarted(node: node))
            case .failed(let message):
                return fail(
                    .restartFailed,
                    node: node,
                    "the agent reported the restart of node \(node) failed: \(message); "
                        + "the roll stops and restarts no further node")
            case .unreachable(let message):
                return fail(
                    .unreachable, node: node,
                    "the agent of node \(node) \(message); the roll stops and restarts no further node")
            case .running, nil:
                break
            }
        }
        if agentDone.count == batch.count {
            phase = .waitingRegistered(since: now)
            return Step(action: .readCluster, events: events)
        }
        if now - since > options.timeouts.restartSeconds {
            let node = batch.first { !agentDone.contains($0) }!
            return fail(
                .restartTimedOut,
                node: node,
                "the agent did not report the restart of node \(node) done within "
                    + "\(seconds(options.timeouts.restartSeconds))")
        }
        return Step(action: .wait(seconds: min(options.timeouts.pollSeconds, Self.agentPollSeconds)), events: events)
    }

    /// ElectLeaders answers once the controller has committed the new leaders, so the first check comes soon;
    /// later ones (leaders that did not move) at the normal poll interval.
    public mutating func electionDone(now: Double) -> Step {
        Step(action: .wait(seconds: min(options.timeouts.pollSeconds, Self.quickCheckSeconds)), events: [])
    }

    /// Agents answer from memory and a restart's end is on the critical path of every batch: they are polled at
    /// least this often, however slow the (costlier) cluster polls are.
    static let agentPollSeconds = 0.5
    static let quickCheckSeconds = 0.25

    /// After a `.wait`.
    public mutating func waited(now: Double) -> Step {
        switch phase {
        case .waitingAgents:
            return Step(action: .pollAgents(batch), events: [])
        case .delaying:
            phase = .gate(since: nil)
            return Step(action: .readCluster, events: [])
        case .finished:
            return Step(action: .finished, events: [])
        default:
            return Step(action: .readCluster, events: [])
        }
    }

    // MARK: Phases

    mutating func gate(
        _ snapshot: ClusterSnapshot, nodes: [NodeInfo], activeSignals: Int, since: Double, now: Double,
        wallMillis: Int64
    ) -> Step {
        if remaining.isEmpty {
            phase = .finished
            return Step(action: .finished, events: [.finished(restarted: restarted)])
        }
        let known = Set(nodes.map(\.id))
        if let unknown = remaining.sorted().first(where: { !known.contains($0) }) {
            return fail(.badInventory, node: unknown, "node \(unknown) is not managed by any agent")
        }
        var planner = BatchPlanner(snapshot: snapshot, nodes: nodes, options: options, nowMillis: wallMillis)
        let decision = planner.nextBatch(remaining: remaining, activeSignals: activeSignals, explain: false)
        var events: [RollEvent] = []
        if !reportedWarnings {
            events += decision.warnings.map { .warning($0) }
            reportedWarnings = true
        }
        if !decision.batch.isEmpty {
            let plan = planner.plan(nodes: remaining, activeSignals: activeSignals)
            events.append(.planned(done: batchIndex, batches: plan.batches.map(\.nodes)))
        }
        if decision.batch.isEmpty {
            if now - since > options.timeouts.gateSeconds {
                let reason =
                    decision.blocked.first.map(\.description)
                    ?? decision.held.sorted { $0.key < $1.key }.first.map { "node \($0.key): \($0.value)" } ?? "unknown"
                return fail(
                    .heldBySafetyGate,
                    "the safety gate held the roll for \(seconds(options.timeouts.gateSeconds)) with "
                        + "\(remaining.count) node(s) left: \(reason)")
            }
            phase = .gate(since: since)
            events.append(.waiting(reasons: decision.blocked, held: decision.held))
            return Step(action: .wait(seconds: options.timeouts.pollSeconds), events: events)
        }
        batch = decision.batch
        batchIndex += 1
        remaining.subtract(batch)
        phase = .restarting
        events.append(
            .batchStarted(
                index: batchIndex, nodes: batch, zone: decision.zone, cluster: decision.cluster,
                downNode: decision.isDownNode))
        return Step(action: .restart(batch), events: events)
    }

    var reportedWarnings = false

    mutating func catchUp(_ snapshot: ClusterSnapshot, since: Double, now: Double, wallMillis: Int64) -> Step {
        let inBatch = Set(batch)
        var total = 0
        var inSync = 0
        var example: (TopicPartition, Int32)?
        for t in snapshot.topics {
            for p in t.partitions {
                for r in p.replicas where inBatch.contains(r) {
                    total += 1
                    if p.isr.contains(r) {
                        inSync += 1
                    } else if example == nil {
                        example = (TopicPartition(topic: p.topic, partition: p.partition), r)
                    }
                }
            }
        }
        // Controllers of the batch must be caught-up voters again.
        var laggingVoter: Int32?
        if let q = snapshot.quorum {
            for v in q.voters where inBatch.contains(v.replicaId) && v.replicaId != q.leaderId {
                let caughtUp =
                    (q.highWatermark > 0 && v.logEndOffset >= q.highWatermark)
                    || (v.lastCaughtUpTimestamp >= 0
                        && wallMillis - v.lastCaughtUpTimestamp <= options.quorumCaughtUpWindowMs)
                if !caughtUp {
                    laggingVoter = v.replicaId
                    break
                }
            }
        }
        let progress = RollEvent.catchingUp(index: batchIndex, inSync: inSync, total: total)
        if inSync == total && laggingVoter == nil {
            phase = .electing(since: now, attempted: false)
            return Step(action: .readCluster, events: [progress])
                .merged(with: clusterRead(snapshot, nodes: [], now: now, wallMillis: wallMillis))
        }
        if now - since > options.timeouts.catchUpSeconds {
            if let (p, node) = example {
                return fail(
                    .nodeDidNotRecover,
                    node: node,
                    "\(total - inSync) replica(s) of batch \(batchIndex) are not back in ISR after "
                        + "\(seconds(options.timeouts.catchUpSeconds)) (e.g. node \(node) on \(p))")
            }
            return fail(
                .nodeDidNotRecover,
                node: laggingVoter,
                "controller \(laggingVoter ?? -1) did not catch up with the quorum within "
                    + "\(seconds(options.timeouts.catchUpSeconds))")
        }
        phase = .catchingUp(since: since)
        return Step(action: .wait(seconds: options.timeouts.pollSeconds), events: [progress])
    }

    /// Partitions whose preferred leader is in the batch, in sync, and not leading.
    func leadersToRestore(_ snapshot: ClusterSnapshot) -> [TopicPartition] {
        let inBatch = Set(batch)
        var out: [TopicPartition] = []
        for t in snapshot.topics {
            for p in t.partitions {
                guard let preferred = p.replicas.first, inBatch.contains(preferred), p.leader != preferred,
                    p.isr.contains(preferred)
                else { continue }
                out.append(TopicPartition(topic: p.topic, partition: p.partition))
            }
        }
        return out
    }

    mutating func afterElection(events: [RollEvent]) -> Step {
        restarted += batch
        let done = RollEvent.batchDone(index: batchIndex, nodes: batch)
        batch = []
        electedCount = 0
        if options.timeouts.postRestartDelaySeconds > 0 {
            phase = .delaying
            return Step(action: .wait(seconds: options.timeouts.postRestartDelaySeconds), events: events + [done])
        }
        phase = .gate(since: nil)
        return Step(action: .readCluster, events: events + [done])
    }

    mutating func fail(_ code: RollFailure.Code, node: Int32? = nil, _ message: String) -> Step {
        phase = .failed
        let failure = RollFailure(code, node: node, message)
        return Step(action: .fail(failure), events: [.failed(failure)])
    }

    func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }
}

extension RollStateMachine.Step {
    /// This step's events followed by the next step's events and action (when a phase completes on the same input).
    func merged(with next: Self) -> Self {
        Self(action: next.action, events: events + next.events)
    }
}
