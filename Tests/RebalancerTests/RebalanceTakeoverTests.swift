import KafkaModel
import Testing

@testable import Rebalancer

/// An engine killed at any step of an execution and another resuming it from what the first journaled, against the
/// cluster as the first left it: the state `ballast serve`'s standby takes over (ServeHATests) and `--resume` finds,
/// reached deterministically rather than by where a SIGKILL happens to land.
@Suite struct RebalanceTakeoverTests {
    enum Proposal: String, CaseIterable, Sendable {
        /// ServeHATests' add-brokers shape: whole partitions from brokers 1-3 to 4-6 (each move copies to all three
        /// new brokers, so at most `movesPerBroker` moves run at once).
        case wholePartitions
        /// One replica per move from brokers 1-6 to 7-9, with reorders and leadership-only moves, two moves per
        /// broker and four in the cluster at a time (the cluster bound is reached at most polls).
        case mixed
    }

    /// The proposal, the cluster before the execution (a broker rate and a topic's entries already set) and the
    /// options.
    static func scenario(_ proposal: Proposal) -> (
        moves: [PlannedMove], cluster: FakeCluster, options: RebalanceOptions
    ) {
        var options = RebalanceOptions()
        options.throttleBytesPerSecond = 300_000
        options.timeouts.pollSeconds = 5
        var moves: [PlannedMove] = []
        switch proposal {
        case .wholePartitions:
            var cluster = FakeCluster(brokers: 1...6)
            let rotations: [[Int32]] = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]
            for t in 0..<2 {
                var replicas: [[Int32]] = []
                for p in 0..<13 {
                    let old = rotations[(p + t) % 3]
                    replicas.append(old)
                    moves.append(
                        PlannedMove(
                            topicPartition: TopicPartition("topic-\(t)", Int32(p)), oldReplicas: old,
                            newReplicas: old.map { $0 + 3 }, oldLeader: old[0],
                            bytes: Int64(1000 + 37 * ((p * 7) % 13)), crossCluster: false))
                }
                cluster.topic("topic-\(t)", replicas)
            }
            cluster.configs[ThrottleKey(.broker(4), ThrottleConfig.followerRate)] = "777"
            cluster.configs[ThrottleKey(.topic("topic-1"), ThrottleConfig.leaderReplicas)] = "0:9"
            options.movesPerBroker = 5
            return (moves, cluster, options)
        case .mixed:
            var cluster = FakeCluster(brokers: 1...9)
            var replicas: [[Int32]] = []
            for p in 0..<30 {
                let a = Int32(p % 6) + 1
                let old = [a, a % 6 + 1, (a + 1) % 6 + 1]
                replicas.append(old)
                let new: [Int32]
                switch p % 5 {
                case 0: new = [old[1], old[0], old[2]]  // leadership only
                case 1: new = [old[0], old[2], old[1]]  // reorder
                default: new = [7 + Int32(p % 3), old[1], old[2]]
                }
                moves.append(
                    PlannedMove(
                        topicPartition: TopicPartition("m", Int32(p)), oldReplicas: old, newReplicas: new,
                        oldLeader: a, bytes: Int64(500 + 91 * ((p * 11) % 30)), crossCluster: p % 4 == 0))
            }
            cluster.topic("m", replicas)
            cluster.configs[ThrottleKey(.broker(7), ThrottleConfig.leaderRate)] = "5000"
            cluster.configs[ThrottleKey(.topic("m"), ThrottleConfig.followerReplicas)] = "0:9"
            options.movesPerBroker = 2
            options.maxMoves = 4
            return (moves, cluster, options)
        }
    }

    /// What the first engine left: the journal and priors it wrote (each step's are written before its action) up
    /// to step `killAt`, whose action reached the cluster or not; nil when the execution ended before that step.
    /// The cluster completes the oldest reassignment at each poll, so a kill finds moves done, in flight, requested
    /// and pending.
    static func killed(_ proposal: Proposal, at killAt: Int, actionReachedKafka: Bool)
        -> (journal: [Int: (MoveStatus, String)], priors: [ThrottlePrior], cluster: FakeCluster)?
    {
        let (moves, start, options) = scenario(proposal)
        var cluster = start
        var machine = RebalanceStateMachine(moves: moves, options: options)
        var step = machine.start(now: 0)
        var journal: [Int: (MoveStatus, String)] = [:]
        var priors: [ThrottleKey: String?] = [:]
        var now = 0.0
        for i in 0... {
            if case .finished = step.action { return nil }
            for e in step.journal { journal[e.index] = (e.status, e.detail) }
            for p in step.priors { priors[p.key] = .some(p.value) }
            if i == killAt {
                if actionReachedKafka {
                    var dying = machine
                    _ = cluster.perform(step, on: &dying, now: now)
                }
                let saved = priors.map { ThrottlePrior(key: $0.key, value: $0.value ?? nil) }
                return (journal, saved.sorted { $0.key < $1.key }, cluster)
            }
            if case .wait(let seconds) = step.action {
                now += seconds
                if let oldest = cluster.reassignments.keys.sorted().first { cluster.complete(oldest) }
            }
            step = cluster.perform(step, on: &machine, now: now)
        }
        return nil
    }

    /// Every step of the first engine is a kill point, for each proposal, with the step's action sent or not and the
    /// second engine's first reads covering every config or not (a topic's and a broker's configs unreadable for two
    /// polls): the second engine finishes every move, starts none twice, and leaves every throttle as it was before
    /// the execution.
    @Test(
        arguments: Proposal.allCases,
        [Variant(false, false), Variant(true, false), Variant(false, true), Variant(true, true)])
    func aStandbyTakingOverAtAnyStepFinishesEveryMoveAndRestoresTheThrottles(_ proposal: Proposal, _ variant: Variant)
        throws
    {
        let (actionReachedKafka, partialReads) = (variant.actionReachedKafka, variant.partialReads)
        let (moves, before, options) = Self.scenario(proposal)
        var killPoints = 0
        for killAt in 0... {
            guard
                let (journal, priors, cluster) = Self.killed(
                    proposal, at: killAt, actionReachedKafka: actionReachedKafka)
            else { break }
            killPoints += 1
            var d = Drive(
                RebalanceStateMachine(moves: moves, options: options, journal: journal, priors: priors), cluster)
            if partialReads {
                d.cluster.unreachable = [.topic(moves[0].topicPartition.topic), .broker(5)]
                d.poll()
                d.poll()
                d.cluster.unreachable = []
            }
            let ended = d.runToEnd(limit: 100)
            let pending = d.machine.status.indices.filter { d.machine.status[$0] == .pending }
            let report = try #require(
                ended,
                "killed at step \(killAt): no end within 100 polls; pending \(pending.map { moves[$0].topicPartition })"
            )
            #expect(report.isClean, "killed at step \(killAt): \(report.summary)")
            #expect(report.done == moves.count, "killed at step \(killAt)")
            for m in moves {
                #expect(d.cluster.partitions[m.topicPartition]?.replicas == m.newReplicas, "\(m.topicPartition)")
                let starts = d.cluster.requests.filter { $0.0 == m.topicPartition && $0.1 != nil }.count
                #expect(starts == 1, "killed at step \(killAt): \(m.topicPartition) started \(starts) times")
            }
            #expect(d.cluster.configs == before.configs, "killed at step \(killAt)")
        }
        #expect(killPoints > 50)
    }

    struct Variant: Sendable, CustomTestStringConvertible {
        /// The killed step's action reached Kafka.
        var actionReachedKafka: Bool
        /// The standby's first two reads miss a topic's and a broker's configs.
        var partialReads: Bool
        init(_ actionReachedKafka: Bool, _ partialReads: Bool) {
            self.actionReachedKafka = actionReachedKafka
            self.partialReads = partialReads
        }
        var testDescription: String {
            (actionReachedKafka ? "action sent" : "action lost") + (partialReads ? ", partial reads" : "")
        }
    }
}
