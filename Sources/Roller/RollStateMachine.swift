public import KafkaModel
public import Rebalancer

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
        /// Journal `priors` (each key's value before the roll changed it), then change the throttle configs with
        /// IncrementalAlterConfigs, then call `throttlesAltered`.
        case alterThrottles([ThrottleChange], priors: [ThrottlePrior])
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
        /// The node's agent has not answered for `seconds` (`error` says how it failed).
        case unreachable(agent: String, seconds: Double, error: String)
    }

    /// An agent that stopped answering, with the nodes it managed when it last answered.
    public struct UnreachableAgent: Sendable, Hashable {
        public var endpoint: String
        public var nodes: [Int32]
        public var seconds: Double
        public var error: String

        public init(endpoint: String, nodes: [Int32], seconds: Double, error: String) {
            self.endpoint = endpoint
            self.nodes = nodes
            self.seconds = seconds
            self.error = error
        }
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
    /// Replication samples of the last minute (oldest first): write rates come from the oldest and the newest.
    var samples: [ReplicationSample] = []
    /// When the batch's restarts were requested, and how long the last batch took from then to re-registration.
    var restartRequestedAt: Double?
    var measuredRestartSeconds: Double?
    /// Catch-up bytes per second one follower broker achieved in the last batch (feeds the prediction).
    var observedCatchUpRate: Double?
    /// Per out-of-sync replica of the batch: its smallest lag seen and when; the lag when catch-up began.
    var lagTrack: [ReplicaRef: (lag: Int64, since: Double)] = [:]
    var initialLag: [ReplicaRef: Int64] = [:]
    var stalls: [ReplicaRef: StallDiagnosis] = [:]
    /// Partitions already handed to a progressive preferred election in this batch.
    var electRequested: Set<TopicPartition> = []
    /// The catch-up throttle remedy: keys the roll changed and has not put back, each key's value before the roll
    /// first changed it (nil: not set at the broker's own level), keys Kafka refused to change in this batch, the
    /// change in flight and the step after it, when the last change was made, and failed restores in a row.
    var lifted: Set<ThrottleKey> = []
    var throttlePriors: [ThrottleKey: String?] = [:]
    var liftRefused: Set<ThrottleKey> = []
    var pendingThrottles: PendingThrottles?
    var lastThrottleChangeAt: Double?
    var restoreAttempts = 0
    var restoreError = ""

    /// - Parameters:
    ///   - nodes: every node to restart.
    ///   - completed: nodes a previous run of this roll already restarted and saw back in sync.
    ///   - inFlight: nodes a previous run asked to restart whose batch did not finish; they resume first.
    ///   - throttlePriors: throttle values a previous run journaled before changing them; put back first.
    public init(
        nodes: Set<Int32>, options: RollOptions, completed: Set<Int32> = [], inFlight: [Int32] = [],
        batchesDone: Int = 0, throttlePriors: [ThrottlePrior] = []
    ) {
        self.options = options
        for p in throttlePriors {
            self.throttlePriors[p.key] = .some(p.value)
            lifted.insert(p.key)
        }
        remaining = nodes.subtracting(completed).subtracting(inFlight)
        restarted = completed.sorted()
        batch = inFlight.sorted()
        batchIndex = batchesDone
    }

    public var isFinished: Bool { phase == .finished }

    /// The first step.
    public mutating func start(now: Double) -> Step {
        let first: Step
        if !batch.isEmpty {
            batchIndex += 1
            phase = .restarting
            first = Step(
                action: .restart(batch),
                events: [.batchStarted(index: batchIndex, nodes: batch, zone: "", cluster: "", downNode: false)])
        } else {
            phase = .gate(since: nil)
            first = Step(action: .readCluster, events: [])
        }
        // A resumed roll puts back what its previous run changed before anything else.
        return restoreCatchUpThrottles(then: first) ?? first
    }

    // MARK: Inputs

    /// - Parameter unreachable: agents that did not answer this read; `nodes` holds what they last reported.
    /// - Parameter replication: replica sizes and throttles read with the snapshot (nil when not measured): they
    ///   size batches from the predicted catch-up and diagnose stalled replicas.
    public mutating func clusterRead(
        _ snapshot: ClusterSnapshot, nodes: [NodeInfo], activeSignals: Int = 0, unreachable: [UnreachableAgent] = [],
        replication: ReplicationSample? = nil, now: Double, wallMillis: Int64
    ) -> Step {
        lastSnapshot = snapshot
        if let replication {
            samples.append(replication)
            samples.removeAll { replication.at - $0.at > 60 }
        }
        if let late = unreachable.first(where: { $0.seconds > options.timeouts.agentUnreachableSeconds }) {
            return fail(
                .unreachable, node: late.nodes.first(where: { remaining.contains($0) || batch.contains($0) }),
                unreachableMessage(late))
        }
        switch phase {
        case .gate(let since):
            return gate(
                snapshot, nodes: nodes, activeSignals: activeSignals, unreachable: unreachable, since: since ?? now,
                now: now, wallMillis: wallMillis)
        case .waitingRegistered(let since):
            let brokers = Set(snapshot.brokers.map(\.id))
            let ready = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            // A node whose agent is cut off counts as ready once it is back in the metadata: its last report is stale.
            let cut = Set(unreachable.flatMap(\.nodes))
            let missing = batch.filter { id in
                let isBroker = ready[id]?.roles.contains(.broker) ?? true
                return (isBroker && !brokers.contains(id)) || (ready[id]?.ready == false && !cut.contains(id))
            }
            if missing.isEmpty {
                if let at = restartRequestedAt { measuredRestartSeconds = now - at }
                beginCatchUp()
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
        restartRequestedAt = now
        phase = .waitingAgents(since: now)
        return Step(action: .pollAgents(batch), events: batch.map { .restartRequested(node: $0) })
    }

    public mutating func agentStatus(_ statuses: [Int32: AgentStatus], now: Double) -> Step {
        guard case .waitingAgents(let since) = phase else { return Step(action: .wait(seconds: 0), events: []) }
        var events: [RollEvent] = []
        var cutOff: [Int32: HoldReason] = [:]
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
            case .unreachable(let agent, let seconds, let error):
                if seconds > options.timeouts.agentUnreachableSeconds {
                    return fail(
                        .unreachable, node: node,
                        unreachableMessage(.init(endpoint: agent, nodes: [node], seconds: seconds, error: error))
                            + " while restarting node \(node)")
                }
                cutOff[node] = .agentUnreachable(agent: agent, seconds: Int(seconds), error: error)
            case .running, nil:
                break
            }
        }
        if !cutOff.isEmpty {
            // The restart goes on without its agent; the roll waits for the agent to tell how it ended.
            events.append(.waiting(reasons: [], held: cutOff))
        }
        if agentDone.count == batch.count {
            phase = .waitingRegistered(since: now)
            return Step(action: .readCluster, events: events)
        }
        if now - since > options.timeouts.restartSeconds {
            let node = batch.first { !agentDone.contains($0) }!
            let cut = cutOff[node].map { " (\($0))" } ?? ""
            return fail(
                .restartTimedOut,
                node: node,
                "the agent did not report the restart of node \(node) done within "
                    + "\(seconds(options.timeouts.restartSeconds))\(cut)")
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
        _ snapshot: ClusterSnapshot, nodes: [NodeInfo], activeSignals: Int, unreachable: [UnreachableAgent],
        since: Double, now: Double, wallMillis: Int64
    ) -> Step {
        if !lifted.isEmpty {
            // A restore Kafka refused: tried again before the next batch (and before the roll may finish).
            if restoreAttempts >= Self.restoreAttemptsAllowed {
                phase = .failed
                let failure = RollFailure(
                    .failed,
                    "the catch-up throttle could not be put back after \(restoreAttempts) attempts: set "
                        + "\(restoreWords()) (\(restoreError))")
                return Step(action: .fail(failure), events: [.failed(failure)])
            }
            phase = .gate(since: since)
            let retry = Step(action: .wait(seconds: options.timeouts.pollSeconds), events: [])
            if let step = restoreCatchUpThrottles(then: retry) { return step }
        }
        if remaining.isEmpty {
            phase = .finished
            return Step(action: .finished, events: [.finished(restarted: restarted)])
        }
        let known = Set(nodes.map(\.id))
        if let unknown = remaining.sorted().first(where: { !known.contains($0) }) {
            return fail(.badInventory, node: unknown, "node \(unknown) is not managed by any agent")
        }
        // Nodes of an agent that does not answer wait, with the reason; the others are planned as usual (their
        // safety comes from the cluster's metadata, which the cut-off agent does not change).
        var cutOff: [Int32: HoldReason] = [:]
        for agent in unreachable {
            for node in agent.nodes where remaining.contains(node) {
                cutOff[node] = .agentUnreachable(
                    agent: agent.endpoint, seconds: Int(agent.seconds), error: agent.error)
            }
        }
        let reachable = remaining.subtracting(cutOff.keys)
        if reachable.isEmpty {
            phase = .gate(since: since)
            return Step(
                action: .wait(seconds: options.timeouts.pollSeconds), events: [.waiting(reasons: [], held: cutOff)])
        }
        var planner = BatchPlanner(snapshot: snapshot, nodes: nodes, options: options, nowMillis: wallMillis)
        var decision = planner.nextBatch(remaining: reachable, activeSignals: activeSignals, explain: false)
        decision.held.merge(cutOff) { a, _ in a }
        var events: [RollEvent] = []
        if !reportedWarnings {
            events += decision.warnings.map { .warning($0) }
            reportedWarnings = true
        }
        if options.catchUpAwareBatches, decision.batch.count > 1, samples.count == 1, now - since < gateSampleWait {
            // One replication sample gives sizes but no write rates: wait for the next before sizing the batch.
            phase = .gate(since: since)
            return Step(action: .wait(seconds: options.timeouts.pollSeconds), events: events)
        }
        if !decision.batch.isEmpty {
            let plan = planner.plan(nodes: reachable, activeSignals: activeSignals)
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
        if options.catchUpAwareBatches, batch.count > 1, let model = catchUpModel(snapshot, withRemedy: true) {
            let sizing = model.size(
                of: batch, restartSeconds: measuredRestartSeconds ?? options.restartEstimateSeconds)
            events.append(.batchSized(sizing, planned: batch))
            batch = sizing.nodes
        }
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
    /// How long the gate waits for a second replication sample (write rates) before going on without a prediction.
    let gateSampleWait = 10.0

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
            measureCatchUpRate(seconds: now - since)
            phase = .electing(since: now, attempted: false)
            let next = Step(action: .readCluster, events: [progress])
                .merged(with: clusterRead(snapshot, nodes: [], now: now, wallMillis: wallMillis))
            // The batch is in sync: the catch-up throttle goes back to what it was.
            return restoreCatchUpThrottles(then: next) ?? next
        }
        let stalled = trackStalls(snapshot, now: now)
        if now - since > options.timeouts.catchUpSeconds {
            if let (p, node) = example {
                let diagnosis = (stalls.values.sorted { $0.replica < $1.replica }.first).map { "; \($0)" } ?? ""
                return fail(
                    .nodeDidNotRecover,
                    node: node,
                    "\(total - inSync) replica(s) of batch \(batchIndex) are not back in ISR after "
                        + "\(seconds(options.timeouts.catchUpSeconds)) (e.g. node \(node) on \(p))\(diagnosis)")
            }
            return fail(
                .nodeDidNotRecover,
                node: laggingVoter,
                "controller \(laggingVoter ?? -1) did not catch up with the quorum within "
                    + "\(seconds(options.timeouts.catchUpSeconds))")
        }
        phase = .catchingUp(since: since)
        // Progressive leader restore: partitions whose preferred leader is back in sync get it back now, which
        // spreads leadership (and Kafka's leader quota) out again while the rest of the batch catches up.
        let ready = leadersToRestore(snapshot).filter { !electRequested.contains($0) }
        var next = Step(action: .wait(seconds: options.timeouts.pollSeconds), events: [progress] + stalled)
        if !ready.isEmpty {
            electRequested.formUnion(ready)
            next = Step(action: .electLeaders(ready), events: [progress] + stalled)
        }
        return liftCatchUpThrottles(snapshot, then: next) ?? next
    }

    /// The catch-up model from the newest replication sample, with write rates over the last minute's samples;
    /// `withRemedy`: the throttles as the catch-up throttle remedy (if on) will leave them while the batch catches up.
    func catchUpModel(_ snapshot: ClusterSnapshot, withRemedy: Bool = false) -> CatchUpModel? {
        guard let newest = samples.last, let oldest = samples.first, newest.at > oldest.at else { return nil }
        let remedy = withRemedy ? options.catchUpThrottle : nil
        return CatchUpModel(
            snapshot: snapshot, sample: remedy?.applied(to: newest) ?? newest,
            writeRates: CatchUpModel.writeRates(from: oldest, to: newest, snapshot: snapshot),
            unthrottledRate: observedCatchUpRate)
    }

    /// Lag of each out-of-sync replica of the batch in the newest sample (leader's size minus its own).
    func batchLags(_ snapshot: ClusterSnapshot) -> [ReplicaRef: (lag: Int64, leader: Int32)] {
        guard let sample = samples.last else { return [:] }
        let inBatch = Set(batch)
        var out: [ReplicaRef: (lag: Int64, leader: Int32)] = [:]
        for p in snapshot.allPartitions where p.leader >= 0 {
            for r in p.replicas where inBatch.contains(r) && !p.isr.contains(r) {
                guard let l = sample.sizes[ReplicaRef(p.topicPartition, broker: p.leader)],
                    let f = sample.sizes[ReplicaRef(p.topicPartition, broker: r)]
                else { continue }
                out[ReplicaRef(p.topicPartition, broker: r)] = (max(0, l - f), p.leader)
            }
        }
        return out
    }

    mutating func beginCatchUp() {
        lagTrack = [:]
        initialLag = [:]
        stalls = [:]
        electRequested = []
        liftRefused = []
        if let snapshot = lastSnapshot {
            for (r, v) in batchLags(snapshot) { initialLag[r] = v.lag }
        }
    }

    /// Replicas whose lag has not shrunk for `stallSeconds` get a diagnosis (once per replica and batch).
    mutating func trackStalls(_ snapshot: ClusterSnapshot, now: Double) -> [RollEvent] {
        let lags = batchLags(snapshot)
        var events: [RollEvent] = []
        let model = catchUpModel(snapshot)
        for (r, v) in lags.sorted(by: { $0.key < $1.key }) {
            if initialLag[r] == nil { initialLag[r] = v.lag }
            // At the leader's end and not yet in the ISR: the join is pending, nothing to catch up.
            guard v.lag > 0, let seen = lagTrack[r] else {
                lagTrack[r] = (v.lag, now)
                continue
            }
            if v.lag < seen.lag {
                lagTrack[r] = (v.lag, now)
                stalls[r] = nil
                continue
            }
            if now - seen.since >= options.timeouts.stallSeconds, stalls[r] == nil {
                let cause = model?.cause(of: r, leader: v.leader) ?? "unknown (no replication sample)"
                let d = StallDiagnosis(
                    replica: r, leader: v.leader, lagBytes: v.lag, seconds: now - seen.since, cause: cause)
                stalls[r] = d
                events.append(.stalled(d))
            }
        }
        return events
    }

    /// Bytes per second one restarted broker fetched while catching up in the batch that just finished: the lag it
    /// had when it came back plus what was written to its partitions meanwhile, over the catch-up time.
    mutating func measureCatchUpRate(seconds: Double) {
        guard seconds > options.timeouts.pollSeconds, !initialLag.isEmpty else { return }
        let writes = lastSnapshot.flatMap { catchUpModel($0)?.writeRates } ?? [:]
        var perBroker: [Int32: Double] = [:]
        for (r, lag) in initialLag {
            perBroker[r.broker, default: 0] += Double(lag) + (writes[r.partition] ?? 0) * seconds
        }
        let bytes = perBroker.values.max() ?? 0
        if bytes > 0 { observedCatchUpRate = bytes / seconds }
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

    func unreachableMessage(_ agent: UnreachableAgent) -> String {
        let nodes = agent.nodes.sorted().map(String.init).joined(separator: ",")
        return "the agent at \(agent.endpoint) (nodes \(nodes)) stopped answering for \(Int(agent.seconds)) s, longer "
            + "than the \(seconds(options.timeouts.agentUnreachableSeconds)) allowed (\(agent.error)); the roll stops "
            + "and restarts no further node"
    }

    mutating func fail(_ code: RollFailure.Code, node: Int32? = nil, _ message: String) -> Step {
        failed(RollFailure(code, node: node, message))
    }

    /// Ends the roll with `failure`, putting the catch-up throttle back first (the runner's own failures, such as a
    /// cluster that cannot be read, come through here too).
    public mutating func failed(_ failure: RollFailure) -> Step {
        phase = .failed
        if pendingThrottles == nil, let step = restoreCatchUpThrottles(then: Step(action: .fail(failure), events: [])) {
            return step
        }
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
