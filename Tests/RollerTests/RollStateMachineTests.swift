import BallastTestSupport
import KafkaModel
import Testing

@testable import Roller

@Suite struct RollStateMachineTests {
    let all = Set((1...9).map { Int32($0) })

    func options() -> RollOptions {
        var o = RollOptions()
        o.timeouts.pollSeconds = 1
        o.timeouts.restartSeconds = 100
        o.timeouts.registerSeconds = 50
        o.timeouts.catchUpSeconds = 200
        o.timeouts.gateSeconds = 30
        o.timeouts.electSeconds = 10
        return o
    }

    /// The snapshot while `down` nodes are stopped and `lagging` nodes are registered but not yet in sync.
    func snapshot(down: Set<Int32> = [], lagging: Set<Int32> = [], leadersOff: Bool = false) -> ClusterSnapshot {
        var (s, _) = Fixture.cluster()
        s.brokers.removeAll { down.contains($0.id) }
        s.editPartitions { p in
            p.isr.removeAll { down.contains($0) || lagging.contains($0) }
            if leadersOff || !p.isr.contains(p.leader) { p.leader = p.isr.first ?? -1 }
        }
        return s
    }

    var nodes: [NodeInfo] { Fixture.cluster().1 }

    @Test func aBatchGoesGateRestartAgentsRegistrationCatchUpElectionInOrder() {
        var m = RollStateMachine(nodes: all, options: options())
        #expect(m.start(now: 0).action == .readCluster)
        var step = m.clusterRead(snapshot(), nodes: nodes, now: 0, wallMillis: 0)
        #expect(step.action == .restart([1, 4, 7]))
        #expect(step.events.contains(.planned(done: 0, batches: [[1, 4, 7], [2, 5, 8], [3, 6, 9]])))
        step = m.restartsRequested(failures: [:], now: 1)
        #expect(step.action == .pollAgents([1, 4, 7]))
        step = m.agentStatus([1: .done, 4: .running, 7: .done], now: 2)
        // Agents are polled every 0.5 s even when the cluster is polled every 1 s.
        #expect(step.action == .wait(seconds: 0.5))
        #expect(m.waited(now: 3).action == .pollAgents([1, 4, 7]))
        step = m.agentStatus([4: .done], now: 3)
        #expect(step.action == .readCluster)
        // Node 7 not registered yet: wait.
        step = m.clusterRead(
            snapshot(down: [7], lagging: [1, 4], leadersOff: true), nodes: nodes, now: 4, wallMillis: 0)
        #expect(step.action == .wait(seconds: 1))
        #expect(m.waited(now: 5).action == .readCluster)
        // All registered, replicas catching up: progress, wait.
        step = m.clusterRead(snapshot(lagging: [1, 4, 7], leadersOff: true), nodes: nodes, now: 5, wallMillis: 0)
        #expect(step.action == .wait(seconds: 1))
        #expect(step.events.contains(.registered(node: 7)))
        #expect(step.events.contains(.catchingUp(index: 1, inSync: 0, total: 18)))
        // In sync, leaders already preferred: the batch is done and the next gate reads a fresh snapshot.
        step = m.clusterRead(snapshot(), nodes: nodes, now: 6, wallMillis: 0)
        #expect(step.events.contains(.batchDone(index: 1, nodes: [1, 4, 7])))
        #expect(step.action == .readCluster)
        #expect(m.restarted == [1, 4, 7])
        #expect(m.clusterRead(snapshot(), nodes: nodes, now: 7, wallMillis: 0).action == .restart([2, 5, 8]))
    }

    @Test func preferredLeadersOfTheBatchAreElectedBeforeTheNextBatch() {
        var m = RollStateMachine(nodes: [1], options: options())
        _ = m.start(now: 0)
        _ = m.clusterRead(snapshot(), nodes: nodes, now: 0, wallMillis: 0)
        _ = m.restartsRequested(failures: [:], now: 0)
        _ = m.agentStatus([1: .done], now: 0)
        var moved = snapshot()
        moved.editPartitions { p in if p.replicas[0] == 1 { p.leader = p.replicas[1] } }
        let step = m.clusterRead(moved, nodes: nodes, now: 1, wallMillis: 0)
        #expect(
            step.action
                == .electLeaders([TopicPartition(topic: "orders", partition: 0), .init(topic: "orders", partition: 9)]))
        // The first check after an election comes soon: ElectLeaders answers once the leaders are committed.
        #expect(m.electionDone(now: 1).action == .wait(seconds: 0.25))
        let done = m.clusterRead(snapshot(), nodes: nodes, now: 2, wallMillis: 0)
        #expect(done.events.contains(.leadersElected(count: 2)))
        #expect(done.events.contains(.batchDone(index: 1, nodes: [1])))
        #expect(done.action == .readCluster)
        #expect(m.clusterRead(snapshot(), nodes: nodes, now: 3, wallMillis: 0).action == .finished)
    }

    @Test func aReplicaStillCatchingUpMeansWaitAndATemporaryShrinkElsewhereDoesNotFail() {
        var m = RollStateMachine(nodes: [1], options: options())
        _ = m.start(now: 0)
        _ = m.clusterRead(snapshot(), nodes: nodes, now: 0, wallMillis: 0)
        _ = m.restartsRequested(failures: [:], now: 0)
        _ = m.agentStatus([1: .done], now: 0)
        // Node 5 dropped out of ISR elsewhere; node 1 is caught up: the batch completes.
        let step = m.clusterRead(snapshot(lagging: [5]), nodes: nodes, now: 1, wallMillis: 0)
        #expect(step.events.contains(.batchDone(index: 1, nodes: [1])))
    }

    @Test func theAgentReportingARestartFailedStopsTheRollAtThatNode() {
        var m = RollStateMachine(nodes: all, options: options())
        _ = m.start(now: 0)
        _ = m.clusterRead(snapshot(), nodes: nodes, now: 0, wallMillis: 0)
        _ = m.restartsRequested(failures: [:], now: 0)
        let step = m.agentStatus([1: .done, 4: .failed("exit status 3")], now: 1)
        guard case .fail(let failure) = step.action else {
            Issue.record("expected failure, got \(step.action)")
            return
        }
        #expect(failure.node == 4)
        #expect(failure.message.contains("node 4") && failure.message.contains("exit status 3"))
    }

    @Test func anUnreachableAgentStopsTheRoll() {
        var m = RollStateMachine(nodes: all, options: options())
        _ = m.start(now: 0)
        _ = m.clusterRead(snapshot(), nodes: nodes, now: 0, wallMillis: 0)
        let step = m.restartsRequested(failures: [4: "the agent at http://x is unreachable"], now: 0)
        guard case .fail(let failure) = step.action else { return #expect(Bool(false)) }
        #expect(failure.node == 4 && failure.message.contains("unreachable"))
    }

    @Test func everyWaitTimesOutWithAClearMessage() {
        // Agent never done.
        var m = RollStateMachine(nodes: [1], options: options())
        _ = m.start(now: 0)
        _ = m.clusterRead(snapshot(), nodes: nodes, now: 0, wallMillis: 0)
        _ = m.restartsRequested(failures: [:], now: 0)
        guard case .fail(let f1) = m.agentStatus([1: .running], now: 101).action else { return #expect(Bool(false)) }
        #expect(f1.message.contains("did not report the restart of node 1 done within 100 s"))

        // Node never re-registers.
        m = RollStateMachine(nodes: [1], options: options())
        _ = m.start(now: 0)
        _ = m.clusterRead(snapshot(), nodes: nodes, now: 0, wallMillis: 0)
        _ = m.restartsRequested(failures: [:], now: 0)
        _ = m.agentStatus([1: .done], now: 0)
        #expect(m.clusterRead(snapshot(down: [1]), nodes: nodes, now: 10, wallMillis: 0).action == .wait(seconds: 1))
        guard case .fail(let f2) = m.clusterRead(snapshot(down: [1]), nodes: nodes, now: 51, wallMillis: 0).action
        else { return #expect(Bool(false)) }
        #expect(f2.message.contains("node 1 did not re-register"))

        // Replicas never back in sync.
        m = RollStateMachine(nodes: [1], options: options())
        _ = m.start(now: 0)
        _ = m.clusterRead(snapshot(), nodes: nodes, now: 0, wallMillis: 0)
        _ = m.restartsRequested(failures: [:], now: 0)
        _ = m.agentStatus([1: .done], now: 0)
        _ = m.clusterRead(snapshot(lagging: [1]), nodes: nodes, now: 1, wallMillis: 0)
        guard case .fail(let f3) = m.clusterRead(snapshot(lagging: [1]), nodes: nodes, now: 202, wallMillis: 0).action
        else { return #expect(Bool(false)) }
        #expect(f3.message.contains("not back in ISR") && f3.node == 1)

        // The gate never opens.
        m = RollStateMachine(nodes: all, options: options())
        _ = m.start(now: 0)
        var offline = snapshot()
        offline.editPartitions { p in if p.partition == 2 { p.leader = -1 } }
        #expect(m.clusterRead(offline, nodes: nodes, now: 0, wallMillis: 0).action == .wait(seconds: 1))
        guard case .fail(let f4) = m.clusterRead(offline, nodes: nodes, now: 31, wallMillis: 0).action
        else { return #expect(Bool(false)) }
        #expect(f4.message.contains("safety gate held the roll for 30 s") && f4.message.contains("offline"))
    }

    @Test func aNodeNoAgentManagesFailsTheRoll() {
        var m = RollStateMachine(nodes: [1, 42], options: options())
        _ = m.start(now: 0)
        guard case .fail(let f) = m.clusterRead(snapshot(), nodes: nodes, now: 0, wallMillis: 0).action else {
            return #expect(Bool(false))
        }
        #expect(f.message == "node 42 is not managed by any agent")
    }

    @Test func aResumedRollFirstFinishesItsInFlightBatchWithoutGating() {
        var m = RollStateMachine(
            nodes: all, options: options(), completed: [1, 4, 7], inFlight: [2, 5], batchesDone: 1)
        let step = m.start(now: 0)
        #expect(step.action == .restart([2, 5]))
        #expect(step.events == [.batchStarted(index: 2, nodes: [2, 5], zone: "", cluster: "", downNode: false)])
        #expect(m.batchIndex == 2)
        #expect(m.remaining == [3, 6, 8, 9])
    }
}
