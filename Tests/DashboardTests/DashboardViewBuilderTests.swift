import DashboardModel
import Foundation
import KafkaModel
import Testing

@Suite struct DashboardViewBuilderTests {
    /// 3 brokers, one per rack a/b/c; topic t (min ISR 2) with partitions whose state the tests choose.
    func snapshot(_ partitions: [PartitionInfo], controller: Int32 = 1, brokers: [Int32] = [1, 2, 3])
        -> ClusterSnapshot
    {
        ClusterSnapshot(
            controllerId: controller,
            brokers: brokers.map { BrokerInfo(id: $0, host: "127.0.0.1", port: 9000 + $0, rack: "r\($0)") },
            topics: [TopicInfo(name: "t", minInSyncReplicas: 2, partitions: partitions)])
    }

    func p(_ n: Int32, leader: Int32, replicas: [Int32] = [1, 2, 3], isr: [Int32]) -> PartitionInfo {
        PartitionInfo(topic: "t", partition: n, leader: leader, replicas: replicas, isr: isr)
    }

    @Test func brokersAreGroupedByTheirAgentsKubernetesClusterThenRack() {
        let view = DashboardViewBuilder.build(
            DashboardInputs(
                cluster: "demo", nowMs: 0, snapshot: snapshot([p(0, leader: 1, isr: [1, 2, 3])]),
                nodes: [
                    DashboardNode(id: 1, kubernetesCluster: "east", ready: true),
                    DashboardNode(id: 2, kubernetesCluster: "west", ready: true),
                ], rackClusters: ["r3": "central"]))
        #expect(view.kubernetesClusters.map(\.name) == ["central", "east", "west"])
        #expect(view.kubernetesClusters[0].racks.map(\.name) == ["r3"])
        #expect(view.brokerCount == 3)
        #expect(view.kubernetesClusters[1].racks[0].brokers[0].isController)
        #expect(view.kubernetesClusters[1].racks[0].brokers[0].leaders == 1)
        #expect(view.kubernetesClusters[1].racks[0].brokers[0].replicas == 1)
    }

    @Test func aBrokerMissingFromMetadataButKnownToItsAgentIsRestarting() {
        let view = DashboardViewBuilder.build(
            DashboardInputs(
                cluster: "demo", nowMs: 0,
                snapshot: snapshot([p(0, leader: 1, isr: [1, 2])], brokers: [1, 2]),
                nodes: [DashboardNode(id: 3, kubernetesCluster: "k", rack: "r3", pod: "kafka-3", ready: false)]))
        let broker = view.kubernetesClusters.flatMap(\.racks).flatMap(\.brokers).first { $0.id == 3 }
        #expect(broker?.state == .restarting)
        #expect(broker?.pod == "kafka-3")
    }

    @Test func brokerStatesFollowTheirPrecedence() {
        typealias B = DashboardViewBuilder
        #expect(B.state(registered: true, podReady: false, draining: true, replicas: 3, outOfSync: 1) == .restarting)
        #expect(B.state(registered: true, podReady: true, draining: true, replicas: 3, outOfSync: 1) == .draining)
        #expect(B.state(registered: true, podReady: nil, draining: false, replicas: 3, outOfSync: 1) == .catchingUp)
        #expect(B.state(registered: true, podReady: true, draining: false, replicas: 0, outOfSync: 0) == .new)
        #expect(B.state(registered: true, podReady: true, draining: false, replicas: 3, outOfSync: 0) == .up)
        #expect(B.state(registered: false, podReady: true, draining: false, replicas: 3, outOfSync: 0) == .restarting)
    }

    @Test func healthCountsEachProblemAndListsTheWorstFirst() {
        let view = DashboardViewBuilder.build(
            DashboardInputs(
                cluster: "demo", nowMs: 0,
                snapshot: snapshot([
                    p(0, leader: 2, isr: [1, 2, 3]),  // off its preferred leader
                    p(1, leader: 1, isr: [1, 2]),  // under-replicated
                    p(2, leader: 1, isr: [1]),  // under min ISR
                    p(3, leader: -1, isr: []),  // offline
                    p(4, leader: 1, isr: [1, 2, 3]),  // healthy
                ])))
        let h = view.health
        #expect(h.partitions == 5)
        #expect(h.offline == 1)
        #expect(h.underMinIsr == 1)
        #expect(h.underReplicated == 3)
        #expect(h.offPreferredLeader == 1)
        #expect(h.worst.map(\.partition) == [3, 2, 1, 0])
        #expect(h.worst.map(\.problem) == [.offline, .underMinIsr, .underReplicated, .offPreferredLeader])
    }

    @Test func aBrokerWithAReplicaOutOfTheIsrIsCatchingUp() {
        let view = DashboardViewBuilder.build(
            DashboardInputs(cluster: "demo", nowMs: 0, snapshot: snapshot([p(0, leader: 1, isr: [1, 2])])))
        let states = Dictionary(
            uniqueKeysWithValues: view.kubernetesClusters.flatMap(\.racks).flatMap(\.brokers).map { ($0.id, $0.state) })
        #expect(states == [1: .up, 2: .up, 3: .catchingUp])
    }

    @Test func aRollsTimelineShowsBatchesRestartsProgressAndTheCurrentHold() {
        let op = OperationView.fromJournal(
            id: "roll-1", kind: "roll", state: "running", startedAt: Date(timeIntervalSince1970: 10),
            steps: [
                RollStep(batch: 1, node: nil, kind: .batchStarted),
                RollStep(batch: 1, node: 3, kind: .restartRequested),
                RollStep(batch: 1, node: 3, kind: .restarted),
                RollStep(batch: 1, node: nil, kind: .batchDone),
                RollStep(batch: 2, node: nil, kind: .batchStarted),
            ], items: [],
            events: [OperationEvent(atMs: 20_000, text: "hold: t-0 under min ISR", holdReason: "under-min-isr")],
            total: 9)
        #expect(op.done == 1)
        #expect(op.total == 9)
        #expect(op.holdReason == "under-min-isr")
        #expect(op.startedAtMs == 10_000)
        #expect(op.timeline.map(\.kind) == [.batch, .restart, .restart, .done, .batch, .hold])
        #expect(op.timeline[3].text == "batch 1 done (brokers 3)")
    }

    @Test func aFinishedOperationShowsNoHold() {
        let op = OperationView.fromJournal(
            id: "r", kind: "roll", state: "finished", startedAt: nil,
            steps: [RollStep(batch: 1, node: nil, kind: .finished)], items: [],
            events: [OperationEvent(atMs: 1, text: "hold", holdReason: "max-batch")])
        #expect(op.holdReason == nil)
    }

    @Test func aRebalancesProgressCountsFinishedMoves() {
        let op = OperationView.fromJournal(
            id: "rb", kind: "rebalance", state: "running", startedAt: nil, steps: [],
            items: [
                ItemState(index: 0, state: "done"), ItemState(index: 1, state: "in-flight"),
                ItemState(index: 2, state: "skipped", detail: "already there"),
            ], events: [])
        #expect(op.done == 2)
        #expect(op.total == 3)
        #expect(op.timeline.map(\.kind) == [.done, .move, .done])
    }

    @Test func aProposalsBarsApplyEveryMove() {
        let s = snapshot([
            p(0, leader: 1, replicas: [1, 2], isr: [1, 2]), p(1, leader: 2, replicas: [2, 3], isr: [2, 3]),
        ])
        let proposal = ProposalView.build(
            hash: "h", mode: "add-brokers", snapshot: s,
            moves: [
                MoveView(
                    topic: "t", partition: 0, oldReplicas: [1, 2], newReplicas: [4, 2], dataMiB: 10, crossCluster: true)
            ], partitionMiB: [TopicPartition("t", 1): 5])
        let bars = Dictionary(uniqueKeysWithValues: proposal.brokers.map { ($0.broker, $0) })
        #expect(bars[1]?.replicasBefore == 1 && bars[1]?.replicasAfter == 0)
        #expect(bars[4]?.replicasBefore == 0 && bars[4]?.replicasAfter == 1)
        #expect(bars[2]?.diskAfterMiB == 15)
        #expect(proposal.crossClusterDataMiB == 10)
    }

    @Test func applicationStatsFindAcknowledgedMessagesNeverConsumed() {
        let stats = ApplicationStats()
        for seq in 0..<3 {
            stats.sent()
            stats.acknowledged(key: "k", sequence: seq)
        }
        stats.consumed(key: "k", sequence: 0)
        stats.consumed(key: "k", sequence: 0)
        stats.consumed(key: "k", sequence: 2)
        // A consumer may read a message before its producer hears the acknowledgement.
        stats.consumed(key: "k", sequence: 3)
        stats.sent()
        stats.acknowledged(key: "k", sequence: 3)
        let t = stats.totals
        #expect(t.unconfirmed == 1)
        #expect(t.duplicates == 1)
        #expect(t.acknowledged == 4)
    }

    @Test func applicationStatsSampleRatesBetweenSamples() {
        let stats = ApplicationStats(capacity: 2)
        stats.sample(nowMs: 0)
        for _ in 0..<10 { stats.sent() }
        stats.sample(nowMs: 2000)
        stats.sample(nowMs: 3000)
        stats.sample(nowMs: 4000)
        let points = stats.view.points
        #expect(points.count == 2)
        #expect(points.map(\.timeMs) == [3000, 4000])
        #expect(points[0].produced == 0)
    }
}
