import KafkaModel

@testable import Rebalancer

/// A Kafka cluster reduced to what the executor sees: partitions, reassignments in flight, throttle configs. The
/// test decides when a reassignment completes; cancelling reverts at once, as Kafka does.
struct FakeCluster {
    var brokers: Set<Int32>
    var partitions: [TopicPartition: PartitionInfo] = [:]
    var minIsr: [String: Int] = [:]
    var reassignments: [TopicPartition: PartitionReassignment] = [:]
    /// The replica lists before each reassignment, which a cancellation restores.
    var original: [TopicPartition: [Int32]] = [:]
    var configs: [ThrottleKey: String] = [:]
    /// Resources whose configs cannot be read or altered (a broker that is down).
    var unreachable: Set<ConfigResource> = []
    /// Throttle reads returned in the reverse of the order asked (a runner that does not keep it).
    var readsReversed = false
    /// Partitions Kafka refuses to reassign, with its error.
    var refuse: [TopicPartition: String] = [:]
    var failAlters: [ConfigResource: String] = [:]
    /// Every reassignment request Kafka received (targets, or nil for a cancel).
    var requests: [(TopicPartition, [Int32]?)] = []
    var elections: [TopicPartition] = []

    init(brokers: ClosedRange<Int32>) { self.brokers = Set(brokers) }

    mutating func topic(_ name: String, minIsr: Int = 2, _ replicas: [[Int32]]) {
        self.minIsr[name] = minIsr
        for (i, r) in replicas.enumerated() {
            let tp = TopicPartition(name, Int32(i))
            partitions[tp] = PartitionInfo(topic: name, partition: Int32(i), leader: r[0], replicas: r, isr: r)
        }
    }

    var snapshot: ClusterSnapshot {
        let byTopic = Dictionary(grouping: partitions.values, by: \.topic)
        return ClusterSnapshot(
            brokers: brokers.sorted().map { BrokerInfo(id: $0, host: "h", port: 9092) },
            topics: byTopic.keys.sorted().map { t in
                TopicInfo(
                    name: t, minInSyncReplicas: minIsr[t] ?? 1,
                    partitions: byTopic[t]!.sorted { $0.partition < $1.partition })
            })
    }

    func observation(_ request: RebalanceStateMachine.ReadRequest) -> RebalanceStateMachine.Observation {
        let reads = request.configs.filter { !unreachable.contains($0) }.map { r in
            ThrottleRead(resource: r, values: ThrottleConfig.keys(of: r).map { configs[ThrottleKey(r, $0)] })
        }
        return .init(
            snapshot: snapshot, reassignments: reassignments.values.sorted { $0.topicPartition < $1.topicPartition },
            throttles: readsReversed ? reads.reversed() : reads, replicaSizes: nil)
    }

    /// Kafka's reassignment: the new replicas join the replica list out of sync.
    mutating func start(_ tp: TopicPartition, _ target: [Int32]) {
        requests.append((tp, target))
        var p = partitions[tp]!
        let before = p.replicas
        let adding = target.filter { !before.contains($0) }
        let removing = before.filter { !target.contains($0) }
        if adding.isEmpty {
            // A reorder completes at once.
            p.replicas = target
            partitions[tp] = p
            return
        }
        original[tp] = p.replicas
        p.replicas = target + removing
        partitions[tp] = p
        reassignments[tp] = PartitionReassignment(
            topic: tp.topic, partition: tp.partition, replicas: target + removing, addingReplicas: adding,
            removingReplicas: removing)
    }

    /// The new replicas caught up: the reassignment completes (the leader moves into the target if it left).
    mutating func complete(_ tp: TopicPartition) {
        guard let r = reassignments.removeValue(forKey: tp) else { return }
        var p = partitions[tp]!
        let target = r.targetReplicas
        p.replicas = target
        p.isr = target
        if !target.contains(p.leader) { p.leader = target[0] }
        partitions[tp] = p
    }

    mutating func completeAll() { for tp in reassignments.keys.sorted() { complete(tp) } }

    mutating func cancel(_ tp: TopicPartition) -> String? {
        requests.append((tp, nil))
        guard let r = reassignments.removeValue(forKey: tp) else { return "NO_REASSIGNMENT_IN_PROGRESS" }
        var p = partitions[tp]!
        p.replicas = original[tp] ?? r.replicas.filter { !r.addingReplicas.contains($0) }
        p.isr = p.isr.filter { p.replicas.contains($0) }
        if !p.replicas.contains(p.leader) { p.leader = p.isr.first ?? -1 }
        partitions[tp] = p
        return nil
    }

    /// Carries out one action as the runner would and returns the machine's next step.
    mutating func perform(_ step: RebalanceStateMachine.Step, on machine: inout RebalanceStateMachine, now: Double)
        -> RebalanceStateMachine.Step
    {
        switch step.action {
        case .read(let request):
            return machine.observed(observation(request), now: now)
        case .alterThrottles(let changes):
            var failures: [ConfigResource: String] = [:]
            for c in changes {
                if unreachable.contains(c.key.resource) {
                    failures[c.key.resource] = "unreachable"
                } else if let e = failAlters[c.key.resource] {
                    failures[c.key.resource] = e
                } else {
                    configs[c.key] = c.value
                }
            }
            return machine.throttlesAltered(failures: failures, now: now)
        case .startMoves(let indices):
            var refused: [Int: String] = [:]
            for m in indices {
                let move = machine.moves[m]
                if let e = refuse[move.topicPartition] {
                    refused[m] = e
                } else {
                    start(move.topicPartition, move.newReplicas)
                }
            }
            return machine.movesStarted(refused: refused, unknown: [], now: now)
        case .cancelMoves(let indices):
            var failures: [Int: String] = [:]
            for m in indices { if let e = cancel(machine.moves[m].topicPartition) { failures[m] = e } }
            return machine.movesCancelled(failures: failures, now: now)
        case .electLeaders(let tps):
            var failures: [TopicPartition: String] = [:]
            for tp in tps {
                elections.append(tp)
                var p = partitions[tp]!
                if p.isr.contains(p.replicas[0]) {
                    p.leader = p.replicas[0]
                    partitions[tp] = p
                } else {
                    failures[tp] = "PREFERRED_LEADER_NOT_AVAILABLE"
                }
            }
            return machine.leadersElected(tps, failures: failures, now: now)
        case .wait:
            return machine.waited(now: now)
        case .finished:
            return step
        }
    }
}

/// The machine driven against a fake cluster, poll by poll, recording every step.
struct Drive {
    var machine: RebalanceStateMachine
    var cluster: FakeCluster
    var now = 0.0
    var step: RebalanceStateMachine.Step
    var steps: [RebalanceStateMachine.Step] = []
    var events: [RebalanceEvent] { steps.flatMap(\.events) }
    var journal: [RebalanceStateMachine.JournalEntry] { steps.flatMap(\.journal) }
    var priors: [ThrottlePrior] { steps.flatMap(\.priors) }

    init(_ machine: RebalanceStateMachine, _ cluster: FakeCluster) {
        self.machine = machine
        self.cluster = cluster
        step = self.machine.start(now: 0)
        steps = [step]
    }

    /// Performs actions until the next wait (the end of a poll) or the end; returns the actions taken.
    @discardableResult
    mutating func poll(advance seconds: Double = 5) -> [RebalanceStateMachine.Action] {
        var actions: [RebalanceStateMachine.Action] = []
        if case .wait = step.action {
            now += seconds
            step = cluster.perform(step, on: &machine, now: now)
            steps.append(step)
        }
        var guardCount = 0
        while guardCount < 100 {
            guardCount += 1
            actions.append(step.action)
            if case .wait = step.action { break }
            if case .finished = step.action { break }
            step = cluster.perform(step, on: &machine, now: now)
            steps.append(step)
        }
        return actions
    }

    var report: RebalanceReport? {
        if case .finished(let r) = step.action { return r }
        return nil
    }

    /// Polls until the end (completing every reassignment after each poll when `complete`), at most `limit` polls.
    mutating func runToEnd(complete: Bool = true, completing only: Set<TopicPartition>? = nil, limit: Int = 200)
        -> RebalanceReport?
    {
        for _ in 0..<limit {
            poll()
            if let report { return report }
            if let only {
                for tp in only.sorted() { cluster.complete(tp) }
            } else if complete {
                cluster.completeAll()
            }
        }
        return nil
    }
}

extension TopicPartition {
    static func tp(_ topic: String, _ p: Int32) -> TopicPartition { TopicPartition(topic, p) }
}

func move(_ topic: String, _ p: Int32, _ old: [Int32], _ new: [Int32], bytes: Int64 = 1000, cross: Bool = false)
    -> PlannedMove
{
    PlannedMove(
        topicPartition: TopicPartition(topic, p), oldReplicas: old, newReplicas: new, oldLeader: old[0], bytes: bytes,
        crossCluster: cross)
}
