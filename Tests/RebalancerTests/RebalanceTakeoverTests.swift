import KafkaModel
import Testing

@testable import Rebalancer

/// An engine killed at any step of an execution and another resuming it from what the first journaled, against the
/// cluster as the first left it: the state `ballast serve`'s standby takes over (ServeHATests) and `--resume` finds,
/// reached deterministically rather than by where a SIGKILL happens to land.
@Suite struct RebalanceTakeoverTests {
    /// ServeHATests' add-brokers shape: whole partitions from brokers 1-3 to 4-6 (each move copies to all three new
    /// brokers, so at most `movesPerBroker` moves run at once), a broker rate and a topic's entries set before.
    static func scenario() -> (moves: [PlannedMove], cluster: FakeCluster, options: RebalanceOptions) {
        var cluster = FakeCluster(brokers: 1...6)
        var moves: [PlannedMove] = []
        let rotations: [[Int32]] = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]
        for t in 0..<2 {
            var replicas: [[Int32]] = []
            for p in 0..<13 {
                let old = rotations[(p + t) % 3]
                replicas.append(old)
                moves.append(
                    PlannedMove(
                        topicPartition: TopicPartition("topic-\(t)", Int32(p)), oldReplicas: old,
                        newReplicas: old.map { $0 + 3 }, oldLeader: old[0], bytes: Int64(1000 + 37 * ((p * 7) % 13)),
                        crossCluster: false))
            }
            cluster.topic("topic-\(t)", replicas)
        }
        cluster.configs[ThrottleKey(.broker(4), ThrottleConfig.followerRate)] = "777"
        cluster.configs[ThrottleKey(.topic("topic-1"), ThrottleConfig.leaderReplicas)] = "0:9"
        var options = RebalanceOptions()
        options.throttleBytesPerSecond = 300_000
        options.movesPerBroker = 5
        options.timeouts.pollSeconds = 5
        return (moves, cluster, options)
    }

    /// What the first engine left: the journal and priors it wrote (each step's are written before its action) up
    /// to step `killAt`, whose action reached the cluster or not; nil when the execution ended before that step.
    /// The cluster completes the oldest reassignment at each poll, so a kill finds moves done, in flight, requested
    /// and pending.
    static func killed(at killAt: Int, actionReachedKafka: Bool)
        -> (journal: [Int: (MoveStatus, String)], priors: [ThrottlePrior], cluster: FakeCluster)?
    {
        let (moves, start, options) = scenario()
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

    /// Every step of the first engine is a kill point, with its action sent or not, and the second engine's first
    /// reads covering every config or not (a topic's and a broker's configs unreadable for two polls): it finishes
    /// every move, starts none twice, and leaves every throttle as it was before the execution.
    @Test(arguments: [false, true], [false, true])
    func aStandbyTakingOverAtAnyStepFinishesEveryMoveAndRestoresTheThrottles(
        actionReachedKafka: Bool, partialReads: Bool
    ) throws {
        let (moves, before, options) = Self.scenario()
        var killPoints = 0
        for killAt in 0... {
            guard let (journal, priors, cluster) = Self.killed(at: killAt, actionReachedKafka: actionReachedKafka)
            else { break }
            killPoints += 1
            var d = Drive(
                RebalanceStateMachine(moves: moves, options: options, journal: journal, priors: priors), cluster)
            if partialReads {
                d.cluster.unreachable = [.topic("topic-0"), .broker(5)]
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
}
