import BallastTestSupport
import KafkaModel
import Testing

@testable import Roller

@Suite struct BatchPlannerTests {
    let all = Set((1...9).map { Int32($0) })

    @Test func rackAwareRF3OverThreeZonesRestartsOneZonePerBatch() {
        let (s, n) = Fixture.cluster()
        let plan = Fixture.planner(s, n).plan(nodes: all)
        #expect(plan.batches.map(\.nodes) == [[1, 4, 7], [2, 5, 8], [3, 6, 9]])
        #expect(plan.batches.map(\.zone) == ["r0", "r1", "r2"])
        #expect(plan.heldFromFirst[2] == .otherGroup(zone: "r0", cluster: ""))
        #expect(plan.blocked.isEmpty && plan.unplanned.isEmpty)
    }

    @Test func withoutZoneGroupingTheBatchIsStillOneReplicaPerPartition() {
        let (s, n) = Fixture.cluster()
        var o = RollOptions()
        o.batchWithinZone = false
        var p = Fixture.planner(s, n, o)
        let d = p.nextBatch(remaining: all)
        // Nodes 1,4,7 share no partition (consecutive placement over 9 brokers); 2 shares one with 1.
        #expect(d.batch == [1, 4, 7])
        if case .isrTooSmall(_, let after, let required, let together) = d.held[2] {
            #expect(after == 1 && required == 2 && together == [1])
        } else {
            Issue.record("node 2 held for \(String(describing: d.held[2]))")
        }
    }

    @Test func nonRackAwarePlacementShrinksBatches() {
        let (s0, n) = Fixture.cluster()
        var s = s0
        // Every partition on three brokers of one rack: 1,4,7 (r0), 2,5,8 (r1), 3,6,9 (r2).
        s.editPartitions { p in
            let base = Int32(p.partition % 3) + 1
            p.replicas = [base, base + 3, base + 6]
            p.isr = p.replicas
            p.leader = base
        }
        let plan = Fixture.planner(s, n).plan(nodes: all)
        #expect(plan.batches.count == 9)
        #expect(plan.batches.allSatisfy { $0.nodes.count == 1 })
        if case .isrTooSmall(let ref, _, _, let together) = plan.heldFromFirst[4] {
            #expect(ref.topic == "orders" && together == [1])
        } else {
            Issue.record("node 4 held for \(String(describing: plan.heldFromFirst[4]))")
        }
    }

    @Test func topicsWithReplicationFactorAtMostMinIsrAreReportedAndDoNotHold() {
        let (s0, n) = Fixture.cluster()
        var s = s0
        s.topics.append(
            TopicInfo(
                name: "fragile", minInSyncReplicas: 2,
                partitions: [PartitionInfo(topic: "fragile", partition: 0, leader: 1, replicas: [1, 2], isr: [1, 2])]))
        let plan = Fixture.planner(s, n).plan(nodes: all)
        #expect(plan.batches.count == 3)
        #expect(plan.warnings.count == 1)
        #expect(plan.warnings.first?.contains("fragile") == true)
    }

    @Test func aPartitionAlreadyUnderMinIsrHoldsEveryNodeHostingItsReplicas() {
        let (s0, n) = Fixture.cluster()
        var s = s0
        s.editPartitions { p in
            if p.partition == 0 { p.isr = [p.replicas[0]] }  // replicas 1,2,3; only 1 in sync
        }
        var planner = Fixture.planner(s, n)
        let d = planner.nextBatch(remaining: all)
        #expect(!d.batch.contains(1) && !d.batch.contains(2) && !d.batch.contains(3))
        #expect(d.batch == [4, 7])
        #expect(d.held[1] == .underMinIsr(TopicPartition(topic: "orders", partition: 0), isr: 1, minIsr: 2))
        #expect(d.held[2] == .underMinIsr(TopicPartition(topic: "orders", partition: 0), isr: 1, minIsr: 2))
    }

    @Test func anOfflinePartitionHoldsTheWholeRollUnlessOverridden() {
        let (s0, n) = Fixture.cluster()
        var s = s0
        s.editPartitions { p in
            if p.partition == 5 {
                p.leader = -1
                p.isr = []
            }
        }
        var planner = Fixture.planner(s, n)
        let d = planner.nextBatch(remaining: all)
        #expect(d.batch.isEmpty)
        #expect(d.blocked == [.offlinePartitions(count: 1, example: TopicPartition(topic: "orders", partition: 5))])

        var o = RollOptions()
        o.allowOfflinePartitions = true
        var overridden = Fixture.planner(s, n, o)
        let d2 = overridden.nextBatch(remaining: all)
        #expect(!d2.batch.isEmpty)
        #expect(d2.warnings.contains { $0.contains("offline") })
    }

    @Test func activeSignalsAboveTheFailureThresholdHoldTheRoll() {
        let (s, n) = Fixture.cluster()
        var o = RollOptions()
        o.failureThreshold = 1
        var planner = Fixture.planner(s, n, o)
        #expect(planner.nextBatch(remaining: all, activeSignals: 1).batch.count == 3)
        let d = planner.nextBatch(remaining: all, activeSignals: 2)
        #expect(d.batch.isEmpty && d.blocked == [.failureBudget(active: 2, threshold: 1)])
    }

    /// Nodes 1, 2, 3 are combined broker+controller voters, one per zone; 1 leads the quorum.
    func kraft(lagging: Int32? = nil) -> (ClusterSnapshot, [NodeInfo]) {
        var (s, n) = Fixture.cluster()
        let now: Int64 = 1_000_000
        s.quorum = QuorumInfo(
            leaderId: 1, highWatermark: 500,
            voters: [1, 2, 3].map {
                $0 == lagging
                    ? QuorumReplica(replicaId: $0, logEndOffset: 100, lastCaughtUpTimestamp: now - 60_000)
                    : QuorumReplica(replicaId: $0, logEndOffset: 500, lastCaughtUpTimestamp: now)
            })
        for i in n.indices where n[i].id <= 3 { n[i].roles = [.broker, .controller] }
        return (s, n)
    }

    @Test func oneControllerPerBatchAndTheActiveControllerLast() {
        let (s, n) = kraft()
        let plan = Fixture.planner(s, n).plan(nodes: all)
        #expect(plan.batches.count == 3)
        for b in plan.batches { #expect(b.nodes.filter { $0 <= 3 }.count <= 1) }
        #expect(plan.batches.last?.nodes.contains(1) == true)
        #expect(plan.heldFromFirst[1] == .activeControllerLast)
    }

    @Test func controllersInOneZoneGoInSeparateBatches() {
        var (s, n) = kraft()
        // Controllers 1, 4, 7 all in zone r0; 1 leads.
        s.quorum?.voters = [1, 4, 7].map {
            QuorumReplica(replicaId: $0, logEndOffset: 500, lastCaughtUpTimestamp: 1_000_000)
        }
        for i in n.indices { n[i].roles = [1, 4, 7].contains(n[i].id) ? [.broker, .controller] : [.broker] }
        var planner = Fixture.planner(s, n)
        let d = planner.nextBatch(remaining: all)
        #expect(d.batch.filter { [1, 4, 7].contains($0) }.count <= 1)
        #expect(!d.batch.contains(1))
        let plan = planner.plan(nodes: all)
        #expect(plan.batches.last?.nodes.contains(1) == true)
        for b in plan.batches { #expect(b.nodes.filter { [1, 4, 7].contains($0) }.count <= 1) }
    }

    @Test func aCaughtUpMajorityOfVotersMustRemain() {
        let (s, n) = kraft(lagging: 2)
        var planner = Fixture.planner(s, n)
        let d = planner.nextBatch(remaining: all)
        // Caught up: 1 (leader) and 3; majority 2. Restarting 3 would leave 1.
        #expect(!d.batch.contains(3))
        let heldAlone = planner.nextBatch(remaining: [3])
        #expect(heldAlone.batch.isEmpty)
        #expect(heldAlone.held[3] == .quorumMajority(caughtUpAfter: 1, majority: 2))
        // The lagging voter itself may restart: it is not part of the caught-up majority.
        #expect(planner.nextBatch(remaining: [2]).batch == [2])
    }

    @Test func aDownNodeGoesFirstAloneWithoutTheUnderMinIsrRule() {
        let (s0, n) = Fixture.cluster()
        var s = s0
        // Broker 5 is stopped: unregistered, out of every ISR; partition 3 (4,5,6) also lost 6 → under min ISR.
        s.brokers.removeAll { $0.id == 5 }
        s.editPartitions { p in
            p.isr.removeAll { $0 == 5 }
            if p.partition == 3 { p.isr = [4] }
        }
        var planner = Fixture.planner(s, n)
        let d = planner.nextBatch(remaining: all)
        #expect(d.batch == [5] && d.isDownNode)
        #expect(d.held[1] == .downNodeFirst(5))
    }

    @Test func aNodeItsAgentReportsNotReadyGoesFirst() {
        let (s, n0) = Fixture.cluster()
        var n = n0
        n[7].ready = false  // node 8
        var planner = Fixture.planner(s, n)
        let d = planner.nextBatch(remaining: all)
        // Node 8 is still in every ISR, and no partition is short: it may go, alone.
        #expect(d.batch == [8] && d.isDownNode)
    }

    @Test func maxBatchCapsTheBatch() {
        let (s, n) = Fixture.cluster()
        var o = RollOptions()
        o.maxBatch = 2
        let plan = Fixture.planner(s, n, o).plan(nodes: all)
        #expect(plan.batches.map(\.nodes.count) == [2, 2, 2, 1, 1, 1])
        #expect(plan.heldFromFirst[7] == .batchFull(2))
    }

    @Test func headroomKeepsAnExtraReplicaInSync() {
        // RF 4, min ISR 2, headroom 1: at most one replica of a partition down at a time.
        let (s, n) = Fixture.cluster(brokers: 8, racks: 2, partitions: 8, rf: 4, minIsr: 2)
        var o = RollOptions()
        o.batchWithinZone = false
        var without = Fixture.planner(s, n)
        var with = Fixture.planner(s, n, o)
        o.headroom = 1
        var withHeadroom = Fixture.planner(s, n, o)
        let ids = Set((1...8).map { Int32($0) })
        #expect(with.nextBatch(remaining: ids).batch.count > withHeadroom.nextBatch(remaining: ids).batch.count)
        #expect(!without.nextBatch(remaining: ids).batch.isEmpty)
    }

    @Test func aShrunkIsrElsewhereHoldsOnlyTheNodesOfThatPartition() {
        let (s0, n) = Fixture.cluster()
        var s = s0
        s.editPartitions { p in
            if p.partition == 1 { p.isr = [2, 3] }  // replicas 2,3,4; 4 catching up
        }
        var planner = Fixture.planner(s, n)
        let d = planner.nextBatch(remaining: [2, 5, 8])
        // 2 would leave partition 1 with only 3 in sync.
        #expect(d.batch == [5, 8])
        #expect(
            d.held[2]
                == .isrTooSmall(TopicPartition(topic: "orders", partition: 1), isrAfter: 1, required: 2, together: []))
    }

    @Test func theGateAgreesWithItselfOnEveryPlannedBatch() {
        // Brute-force check on a small cluster: every planned batch satisfies the ISR rule directly.
        let (s, n) = Fixture.cluster(brokers: 6, racks: 3, partitions: 30, rf: 3, minIsr: 2, rackAware: false)
        let plan = Fixture.planner(s, n).plan(nodes: Set((1...6).map { Int32($0) }))
        #expect(plan.batches.flatMap(\.nodes).sorted() == (1...6).map { Int32($0) })
        for b in plan.batches {
            let batch = Set(b.nodes)
            for p in s.allPartitions { #expect(p.isr.filter { !batch.contains($0) }.count >= 2) }
        }
    }
}
