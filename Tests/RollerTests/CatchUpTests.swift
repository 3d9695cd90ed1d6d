import BallastTestSupport
import KafkaModel
import Testing

@testable import Roller

/// The issue's scenario in miniature: 6 brokers over 3 racks ({1,4}, {2,5}, {3,6}), 24 partitions RF 3, min ISR 2,
/// 12.5 KB/s written to each partition (300 KB/s in all), every replica throttled (`*`) when a rate is given.
@Suite struct CatchUpTests {
    let write = 12_800.0

    func cluster() -> (ClusterSnapshot, [NodeInfo]) { Fixture.cluster(brokers: 6, racks: 3, partitions: 24) }

    /// A sample at `at` seconds: every replica holds `write · at` bytes, except `behind` (replica → bytes missing).
    func sample(
        _ s: ClusterSnapshot, at: Double, throttle: Double?, behind: [ReplicaRef: Int64] = [:]
    ) -> ReplicationSample {
        var sizes: [ReplicaRef: Int64] = [:]
        for p in s.allPartitions {
            for r in p.replicas {
                let ref = ReplicaRef(p.topicPartition, broker: r)
                sizes[ref] = Int64(write * (at + 1000)) - (behind[ref] ?? 0)
            }
        }
        var out = ReplicationSample(at: at, sizes: sizes)
        if let throttle {
            for id in 1...6 { out.leaderRate[Int32(id)] = throttle }
            out.leaderReplicas["orders"] = "*"
        }
        return out
    }

    func model(throttle: Double?) -> CatchUpModel {
        let (s, _) = cluster()
        let a = sample(s, at: 0, throttle: throttle)
        let b = sample(s, at: 10, throttle: throttle)
        return CatchUpModel(
            snapshot: s, sample: b, writeRates: CatchUpModel.writeRates(from: a, to: b, snapshot: s),
            unthrottledRate: nil)
    }

    @Test func writeRatesAreTheLeadersLogGrowthPerSecond() {
        let m = model(throttle: nil)
        #expect(m.writeRates.count == 24)
        #expect(m.writeRates.values.allSatisfy { abs($0 - write) < 1 })
    }

    /// Leadership concentrating: with nodes 1 and 4 down, node 2 leads their partitions (A = [1,2,3], B = [4,2,6])
    /// beside its own (O = [2,3,5]), 4 partitions each, every one written at `write`.
    func concentrating(throttle: Double) -> CatchUpModel {
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
        let a = sample(s, at: 0, throttle: throttle)
        let b = sample(s, at: 10, throttle: throttle)
        return CatchUpModel(
            snapshot: s, sample: b, writeRates: CatchUpModel.writeRates(from: a, to: b, snapshot: s),
            unthrottledRate: nil)
    }

    @Test func aLeaderQuotaSpentOnInSyncFollowersMakesABatchSlowerThanOneAtATime() {
        // Quota 25 w. Node 1 alone: node 2 spends 12 w on in-sync followers and 4 w on the writes node 1 must follow,
        // 9 w left for 4 w·R of lag (0.44 R). Nodes 1 and 4: 16 w + 8 w spent, 1 w left for 8 w·R (8 R).
        let m = concentrating(throttle: 25 * write)
        let together = m.predict(batch: [1, 4], downSeconds: 30)
        let alone = m.predict(batch: [1], downSeconds: 30)
        #expect(abs(alone.seconds - 4.0 / 9 * 30) < 0.01)
        #expect(abs(together.seconds - 8 * 30) < 0.01)
        #expect(together.bottleneck.hasPrefix("node 2's leader.replication.throttled.rate 313 KB/s"))
        #expect(m.size(of: [1, 4], restartSeconds: 30).nodes == [1])
        // With a quota of 40 w the batch costs 0.5 R against 2 × 0.17 R + R: it stays.
        #expect(concentrating(throttle: 40 * write).size(of: [1, 4], restartSeconds: 30).nodes == [1, 4])
    }

    @Test func aQuotaWithRoomKeepsTheRackBatch() {
        let m = model(throttle: 1024 * 1024)
        #expect(m.size(of: [1, 4], restartSeconds: 30).nodes == [1, 4])
    }

    @Test func withoutThrottleOrObservedRateCatchUpIsCheapAndTheBatchStays() {
        let m = model(throttle: nil)
        let sizing = m.size(of: [1, 4], restartSeconds: 30)
        #expect(sizing.nodes == [1, 4])
        #expect(sizing.predicted.seconds == 0)
    }

    @Test func writesThatOutrunTheQuotaPredictAStall() {
        // 100 KB/s: the in-sync followers alone take it all.
        let m = model(throttle: 100 * 1024)
        #expect(m.predict(batch: [1, 4], downSeconds: 30).seconds == .infinity)
        #expect(m.size(of: [1, 4], restartSeconds: 30).nodes == [1])
    }

    @Test func anObservedUnthrottledRateBoundsCatchUp() {
        var m = model(throttle: nil)
        m.unthrottledRate = 200 * 1024
        // Node 1 holds 12 replicas, each 30 s of writes behind, and must follow 150 KB/s of new writes: 50 KB/s left.
        let p = m.predict(batch: [1], downSeconds: 30)
        #expect(abs(p.seconds - 12 * write * 30 / (200 * 1024 - 12 * write)) < 0.01)
        #expect(p.bottleneck.contains("observed catch-up rate"))
    }

    @Test func theThrottledReplicaListIsReadAsKafkaDoes() {
        let (s, _) = cluster()
        var x = sample(s, at: 0, throttle: 1000)
        let tp = TopicPartition("orders", 3)
        x.leaderReplicas["orders"] = "3:4, 5:1"
        #expect(x.isThrottled(tp, broker: 4, leaderSide: true))
        #expect(!x.isThrottled(tp, broker: 5, leaderSide: true))
        #expect(!x.isThrottled(tp, broker: 4, leaderSide: false))
        x.leaderRate[4] = nil
        #expect(!x.isThrottled(tp, broker: 4, leaderSide: true))
    }

    // MARK: The state machine

    func options() -> RollOptions {
        var o = RollOptions()
        o.timeouts.pollSeconds = 1
        o.timeouts.catchUpSeconds = 200
        o.timeouts.stallSeconds = 20
        return o
    }

    @Test func theGateRestartsOneNodeWhenTheBatchWouldCatchUpSlowerAndSaysWhy() {
        let model = concentrating(throttle: 25 * write)
        let s = model.snapshot
        let nodes = (1...6).map { NodeInfo(id: Int32($0), roles: [.broker], zone: "r\(($0 - 1) % 3)") }
        var m = RollStateMachine(nodes: [1, 4], options: options())
        _ = m.start(now: 0)
        // A sample from an earlier read, one now: the write rates come from the two.
        m.samples = [sample(s, at: 0, throttle: 25 * write)]
        let step = m.clusterRead(
            s, nodes: nodes, replication: sample(s, at: 10, throttle: 25 * write), now: 10, wallMillis: 0)
        #expect(step.action == .restart([1]))
        let sized = step.events.compactMap {
            if case .batchSized(let z, let planned) = $0 { (z, planned) } else { nil }
        }
        #expect(sized.count == 1)
        #expect(sized.first?.1 == [1, 4])
        #expect(sized.first?.0.nodes == [1])
        #expect(sized.first?.0.predicted.bottleneck.contains("node 2's leader.replication.throttled.rate") == true)
    }

    @Test func withoutMeasurementsTheGateKeepsThePlannedBatch() {
        let (s, nodes) = cluster()
        var m = RollStateMachine(nodes: [1, 4], options: options())
        _ = m.start(now: 0)
        #expect(m.clusterRead(s, nodes: nodes, now: 0, wallMillis: 0).action == .restart([1, 4]))
    }

    /// Runs node 1 through restart and registration; returns the machine in catch-up.
    func restarted(_ o: RollOptions) -> RollStateMachine {
        let (s, nodes) = cluster()
        var m = RollStateMachine(nodes: [1], options: o)
        _ = m.start(now: 0)
        _ = m.clusterRead(s, nodes: nodes, now: 0, wallMillis: 0)
        _ = m.restartsRequested(failures: [:], now: 0)
        _ = m.agentStatus([1: .done], now: 1)
        return m
    }

    @Test func preferredLeadersComeBackAsSoonAsTheirReplicaIsInSyncWhileOthersCatchUp() {
        var m = restarted(options())
        let (base, nodes) = cluster()
        // Node 1 back in ISR of partition 0 (it prefers node 1) but not yet of the others; leaders moved away.
        var s = base
        s.editPartitions { p in
            if p.replicas.contains(1) && p.partition != 0 { p.isr.removeAll { $0 == 1 } }
            if p.leader == 1 { p.leader = p.replicas[1] }
        }
        var step = m.clusterRead(s, nodes: nodes, now: 2, wallMillis: 0)
        #expect(step.action == .electLeaders([TopicPartition("orders", 0)]))
        #expect(m.electionDone(now: 2).action == .wait(seconds: 0.25))
        // Asked once: the next read, with the same state, waits for the rest.
        step = m.clusterRead(s, nodes: nodes, now: 3, wallMillis: 0)
        #expect(step.action == .wait(seconds: 1))
    }

    @Test func aReplicaWithoutProgressIsDiagnosedWithTheThrottleAndTheTimeoutSaysSo() {
        var o = options()
        o.timeouts.catchUpSeconds = 60
        var m = restarted(o)
        let (base, nodes) = cluster()
        var s = base
        s.editPartitions { p in
            if p.partition == 5 { p.isr.removeAll { $0 == 1 } }
        }
        let replica = ReplicaRef(TopicPartition("orders", 5), broker: 1)
        var stalled: [StallDiagnosis] = []
        var last: RollStateMachine.Step?
        // The lag never shrinks: 100 KB behind at every sample.
        for t in stride(from: 2.0, through: 70, by: 2) {
            let step = m.clusterRead(
                s, nodes: nodes,
                replication: sample(base, at: t, throttle: 100 * 1024, behind: [replica: 100_000]),
                now: t, wallMillis: 0)
            stalled += step.events.compactMap { if case .stalled(let d) = $0 { d } else { nil } }
            last = step
            if case .fail = step.action { break }
            _ = m.waited(now: t)
        }
        #expect(stalled.count == 1)
        let d = stalled.first
        #expect(d?.replica == replica)
        #expect(d?.leader == 6)
        #expect(d?.lagBytes == 100_000)
        #expect(d?.cause.contains("node 6's leader.replication.throttled.rate is 100 KB/s") == true)
        #expect(d?.cause.contains("in-sync followers") == true)
        guard case .fail(let failure) = last?.action else {
            Issue.record("the catch-up did not time out")
            return
        }
        #expect(failure.message.contains("no catch-up progress on orders-5 from leader 6"))
    }

    @Test func aShrinkingLagIsNotAStall() {
        var m = restarted(options())
        let (base, nodes) = cluster()
        var s = base
        s.editPartitions { p in if p.partition == 5 { p.isr.removeAll { $0 == 1 } } }
        let replica = ReplicaRef(TopicPartition("orders", 5), broker: 1)
        for t in stride(from: 2.0, through: 60, by: 2) {
            let step = m.clusterRead(
                s, nodes: nodes,
                replication: sample(base, at: t, throttle: nil, behind: [replica: Int64(200_000 - t * 1000)]),
                now: t, wallMillis: 0)
            #expect(!step.events.contains { if case .stalled = $0 { true } else { false } })
            _ = m.waited(now: t)
        }
    }

    /// An observed catch-up rate is what a catch-up reached (one that ended between two samples looks slow), not a
    /// capacity: at or below the writes it must not predict "never" and cut an unthrottled rack batch to one node.
    @Test func anObservedCatchUpRateBelowTheWritesNeitherPredictsNeverNorShrinksTheBatch() {
        let (s, _) = cluster()
        let a = sample(s, at: 0, throttle: nil)
        let b = sample(s, at: 10, throttle: nil)
        let rates = CatchUpModel.writeRates(from: a, to: b, snapshot: s)
        let slow = CatchUpModel(snapshot: s, sample: b, writeRates: rates, unthrottledRate: write)
        #expect(slow.predict(batch: [1, 4], downSeconds: 30).seconds.isFinite)
        #expect(slow.size(of: [1, 4], restartSeconds: 30).nodes == [1, 4])
        // A rate above the writes still bounds the prediction, and is named.
        let fast = CatchUpModel(snapshot: s, sample: b, writeRates: rates, unthrottledRate: 100 * write)
        let p = fast.predict(batch: [1, 4], downSeconds: 30)
        #expect(p.seconds > 0 && p.seconds.isFinite)
        #expect(p.bottleneck.contains("observed catch-up rate"), "\(p.bottleneck)")
    }
}
