import BallastTestSupport
import KafkaModel
import Rebalancer
import Testing

@testable import Roller

/// The catch-up throttle remedy (`--catch-up-throttle lift|RATE`) as the state machine decides it: which rates it
/// changes, that each key's prior goes to the journal with the change, and that every key goes back exactly, when
/// the batch is in sync, on failure and on resume.
@Suite struct CatchUpThrottleTests {
    let write = 12_800.0
    let leader6 = ThrottleKey(.broker(6), ThrottleConfig.leaderRate)

    func cluster() -> (ClusterSnapshot, [NodeInfo]) { Fixture.cluster(brokers: 6, racks: 3, partitions: 24) }

    /// Every leader throttled at `rate` on every replica (`*`); node 6's rate set at its own level to "102400".
    func sample(_ s: ClusterSnapshot, at: Double, rate: Double? = 100 * 1024, behind: Int64 = 100_000)
        -> ReplicationSample
    {
        var sizes: [ReplicaRef: Int64] = [:]
        for p in s.allPartitions {
            for r in p.replicas {
                sizes[ReplicaRef(p.topicPartition, broker: r)] =
                    Int64(write * (at + 1000)) - (r == 1 && p.partition == 5 ? behind : 0)
            }
        }
        var out = ReplicationSample(at: at, sizes: sizes)
        if let rate {
            for id in Int32(1)...6 { out.leaderRate[id] = rate }
            out.ownLeaderRate[6] = "102400"
        }
        out.leaderReplicas["orders"] = "*"
        return out
    }

    func options(_ remedy: CatchUpThrottle?) -> RollOptions {
        var o = RollOptions()
        o.timeouts.pollSeconds = 1
        o.timeouts.catchUpSeconds = 60
        o.catchUpThrottle = remedy
        return o
    }

    /// Node 1 restarted and registered; its replica of orders-5 (led by node 6) out of the ISR.
    func catchingUp(_ o: RollOptions) -> (RollStateMachine, ClusterSnapshot, [NodeInfo]) {
        let (base, nodes) = cluster()
        var m = RollStateMachine(nodes: [1], options: o)
        _ = m.start(now: 0)
        _ = m.clusterRead(base, nodes: nodes, now: 0, wallMillis: 0)
        _ = m.restartsRequested(failures: [:], now: 0)
        _ = m.agentStatus([1: .done], now: 1)
        var s = base
        s.editPartitions { p in if p.partition == 5 { p.isr.removeAll { $0 == 1 } } }
        return (m, s, nodes)
    }

    @Test func theLeaderRateHoldingTheCatchUpIsLiftedWithItsPriorJournaledAndPutBackExactlyOnceInSync() {
        var (m, s, nodes) = catchingUp(options(.lift))
        #expect(s.allPartitions.first { $0.partition == 5 }?.leader == 6)
        var step = m.clusterRead(s, nodes: nodes, replication: sample(s, at: 2), now: 2, wallMillis: 0)
        // Only the leader of the lagging replica, with its own value as the prior, journaled with the change.
        #expect(
            step.action
                == .alterThrottles(
                    [ThrottleChange(key: leader6, value: "9223372036854775807")],
                    priors: [ThrottlePrior(key: leader6, value: "102400")]))
        #expect(step.events.contains(.throttlesLifted([ThrottleChange(key: leader6, value: "9223372036854775807")])))
        step = m.throttlesAltered(failures: [:], now: 2)
        #expect(step.action == .wait(seconds: 1))
        // Lifted, the rate no longer shows: the key stays lifted, nothing more changes.
        step = m.clusterRead(s, nodes: nodes, replication: sample(s, at: 4, rate: nil), now: 4, wallMillis: 0)
        #expect(step.action == .wait(seconds: 1))
        _ = m.waited(now: 4)
        // In sync: the key goes back to the exact prior string before the preferred election.
        let (inSync, _) = cluster()
        step = m.clusterRead(inSync, nodes: nodes, now: 6, wallMillis: 0)
        #expect(step.action == .alterThrottles([ThrottleChange(key: leader6, value: "102400")], priors: []))
        step = m.throttlesAltered(failures: [:], now: 6)
        #expect(step.events.contains(.throttlesRestored([leader6])))
        #expect(m.throttlesToRestore.isEmpty)
    }

    @Test func aRateNotSetAtTheBrokersOwnLevelIsDeletedAfterwards() {
        var (m, s, nodes) = catchingUp(options(.lift))
        var x = sample(s, at: 2)
        x.ownLeaderRate = [:]  // the rate comes from the cluster-wide default
        _ = m.clusterRead(s, nodes: nodes, replication: x, now: 2, wallMillis: 0)
        _ = m.throttlesAltered(failures: [:], now: 2)
        #expect(m.throttlesToRestore == [ThrottleChange(key: leader6, value: nil)])
    }

    @Test func aRateIsRaisedOnlyWhereItIsLowerAndNeverLowered() {
        var (m, s, nodes) = catchingUp(options(.rate(50 * 1024)))
        // 100 KB/s is already above 50 KB/s: left alone.
        var step = m.clusterRead(s, nodes: nodes, replication: sample(s, at: 2), now: 2, wallMillis: 0)
        #expect(step.action == .wait(seconds: 1))
        _ = m.waited(now: 2)
        (m, s, nodes) = catchingUp(options(.rate(1024 * 1024)))
        step = m.clusterRead(s, nodes: nodes, replication: sample(s, at: 2), now: 2, wallMillis: 0)
        #expect(
            step.action
                == .alterThrottles(
                    [ThrottleChange(key: leader6, value: "1048576")],
                    priors: [ThrottlePrior(key: leader6, value: "102400")]
                ))
    }

    @Test func withoutTheFlagNothingIsChanged() {
        var (m, s, nodes) = catchingUp(options(nil))
        let step = m.clusterRead(s, nodes: nodes, replication: sample(s, at: 2), now: 2, wallMillis: 0)
        #expect(step.action == .wait(seconds: 1))
    }

    @Test func aFailedRollPutsTheThrottleBackFirstAndNamesWhatCouldNotBe() {
        var (m, s, nodes) = catchingUp(options(.lift))
        _ = m.clusterRead(s, nodes: nodes, replication: sample(s, at: 2), now: 2, wallMillis: 0)
        _ = m.throttlesAltered(failures: [:], now: 2)
        // Never catches up: at the timeout the restore comes before the failure.
        var step = m.clusterRead(s, nodes: nodes, now: 70, wallMillis: 0)
        #expect(step.action == .alterThrottles([ThrottleChange(key: leader6, value: "102400")], priors: []))
        #expect(!step.events.contains { if case .failed = $0 { true } else { false } })
        step = m.throttlesAltered(failures: [.broker(6): "broker 6 is not available"], now: 70)
        guard case .fail(let failure) = step.action else {
            Issue.record("the roll did not fail: \(step.action)")
            return
        }
        #expect(failure.code == .nodeDidNotRecover)
        #expect(failure.message.contains("not back in ISR"))
        #expect(
            failure.message.contains(
                "the catch-up throttle could not be put back: set leader.replication.throttled.rate of broker 6 back to "
                    + "102400"), "\(failure.message)")
        #expect(step.events.contains(.failed(failure)))
    }

    @Test func aRefusedRestoreIsTriedAgainAtTheGateAndThenFailsTheRoll() {
        var (m, s, nodes) = catchingUp(options(.lift))
        _ = m.clusterRead(s, nodes: nodes, replication: sample(s, at: 2), now: 2, wallMillis: 0)
        _ = m.throttlesAltered(failures: [:], now: 2)
        let (inSync, _) = cluster()
        _ = m.clusterRead(inSync, nodes: nodes, now: 3, wallMillis: 0)
        // Refused: the roll goes on to the election and tries again before the next gate decision.
        var step = m.throttlesAltered(failures: [.broker(6): "refused"], now: 3)
        var attempts = 1
        var t = 4.0
        while attempts < 10 {
            switch step.action {
            case .alterThrottles:
                attempts += 1
                step = m.throttlesAltered(failures: [.broker(6): "refused"], now: t)
            case .fail(let failure):
                #expect(attempts == RollStateMachine.restoreAttemptsAllowed)
                #expect(failure.message.contains("could not be put back"), "\(failure.message)")
                #expect(failure.message.contains("back to 102400"), "\(failure.message)")
                return
            case .finished:
                Issue.record("the roll finished with its throttle not put back")
                return
            case .electLeaders:
                step = m.electionDone(now: t)
            default:
                step = m.clusterRead(inSync, nodes: nodes, now: t, wallMillis: 0)
            }
            t += 1
        }
        Issue.record("the refused restore was tried \(attempts) times without failing the roll")
    }

    @Test func aResumedRollPutsBackWhatItsPreviousRunJournaledBeforeAnythingElse() {
        var m = RollStateMachine(
            nodes: [1, 2], options: options(.lift), completed: [], inFlight: [1],
            throttlePriors: [ThrottlePrior(key: leader6, value: "102400")])
        var step = m.start(now: 0)
        #expect(step.action == .alterThrottles([ThrottleChange(key: leader6, value: "102400")], priors: []))
        step = m.throttlesAltered(failures: [:], now: 0)
        #expect(step.action == .restart([1]))
        #expect(step.events.contains(.throttlesRestored([leader6])))
    }

    @Test func aSampleOlderThanTheLastChangeIsNotTakenForPriors() {
        var (m, s, nodes) = catchingUp(options(.lift))
        // As after an earlier batch of this roll: the key was lifted and put back at 5 s.
        m.throttlePriors[leader6] = .some("102400")
        m.lastThrottleChangeAt = 5
        // A sample read before that restore (it still shows the lifted value as the broker's own): no lift from it;
        // from the next one the key is lifted again, journaled with the value from before the roll.
        var stale = sample(s, at: 4)
        stale.ownLeaderRate[6] = CatchUpThrottle.unlimited
        var step = m.clusterRead(s, nodes: nodes, replication: stale, now: 6, wallMillis: 0)
        #expect(step.action == .wait(seconds: 1))
        _ = m.waited(now: 6)
        var fresh = sample(s, at: 8)
        fresh.ownLeaderRate[6] = "5"
        step = m.clusterRead(s, nodes: nodes, replication: fresh, now: 8, wallMillis: 0)
        #expect(
            step.action
                == .alterThrottles(
                    [ThrottleChange(key: leader6, value: CatchUpThrottle.unlimited)],
                    priors: [ThrottlePrior(key: leader6, value: "102400")]))
    }

    @Test func theBatchIsSizedAsTheRemedyWillLeaveTheThrottles() {
        // The concentrating case of CatchUpTests: a quota spent on in-sync followers cuts [1, 4] to [1] without the
        // remedy; with the throttle lifted while it catches up the rack batch stays.
        var parts: [PartitionInfo] = []
        for (i, r) in ([[1, 2, 3], [4, 2, 6], [2, 3, 5]] as [[Int32]]).enumerated() {
            for k in 0..<4 {
                parts.append(
                    PartitionInfo(topic: "orders", partition: Int32(i * 4 + k), leader: r[0], replicas: r, isr: r))
            }
        }
        let s = ClusterSnapshot(
            clusterId: "c", controllerId: 1,
            brokers: (1...6).map { BrokerInfo(id: Int32($0), host: "h", port: 9000, rack: "r\(($0 - 1) % 3)") },
            topics: [TopicInfo(name: "orders", minInSyncReplicas: 2, partitions: parts)])
        let nodes = (1...6).map { NodeInfo(id: Int32($0), roles: [.broker], zone: "r\(($0 - 1) % 3)") }
        let cases: [(CatchUpThrottle?, [Int32])] = [(nil, [1]), (.lift, [1, 4]), (.rate(1024 * 1024), [1, 4])]
        for (remedy, expected) in cases {
            var m = RollStateMachine(nodes: [1, 4], options: options(remedy))
            _ = m.start(now: 0)
            m.samples = [sample(s, at: 0, rate: 25 * write)]
            let step = m.clusterRead(
                s, nodes: nodes, replication: sample(s, at: 10, rate: 25 * write), now: 10, wallMillis: 0)
            #expect(step.action == .restart(expected), "\(String(describing: remedy))")
        }
    }
}
