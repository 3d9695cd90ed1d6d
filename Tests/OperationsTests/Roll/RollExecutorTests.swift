import AgentContract
import BallastStore
import BallastTestSupport
import Foundation
import KafkaAdmin
import KafkaModel
import Logging
import MetricsTestKit
import Roller
import Synchronization
import Testing

@testable import ConfigPlanning
@testable import Operations

/// The executor against an in-memory cluster and agent, on a clock where every wait passes at once: timeouts are
/// counted in clock time, so a loaded machine cannot make a roll time out or pass.
@Suite struct RollExecutorTests {
    /// The defaults' poll interval, with timeouts short enough that a roll that can never finish fails after a few
    /// dozen polls.
    static func options() -> RollOptions {
        var o = RollOptions()
        o.timeouts.pollSeconds = 2
        o.timeouts.gateSeconds = 60
        o.timeouts.restartSeconds = 30
        o.timeouts.registerSeconds = 30
        o.timeouts.catchUpSeconds = 60
        o.timeouts.electSeconds = 30
        o.timeouts.agentUnreachableSeconds = 20
        return o
    }

    final class Events: Sendable {
        let list = Mutex<[RollEvent]>([])
        func add(_ e: RollEvent) { list.withLock { $0.append(e) } }
        var all: [RollEvent] { list.withLock { $0 } }
        var batches: [[Int32]] {
            all.compactMap { if case .batchStarted(_, let nodes, _, _, _) = $0 { nodes } else { nil } }
        }
    }

    func executor(
        _ fake: FakeKafka, journal: (any OperationsStore)? = nil, resume: RollResumeState? = nil,
        clock: ImmediateClock = ImmediateClock()
    ) -> RollExecutor<ImmediateClock> {
        RollExecutor(
            operationId: "roll-test", nodes: nil, options: Self.options(), cluster: fake, agents: [fake],
            journal: journal, resume: resume, clock: clock, logger: Logger(label: "test"))
    }

    @Test func everyNodeRestartsOnceInThreeZoneBatchesWithoutGoingBelowMinIsrAndLeadersReturn() async throws {
        let fake = FakeKafka(Fixture.cluster().0)
        let events = Events()
        let restarted = try await executor(fake).run { events.add($0) }
        #expect(restarted.sorted() == (1...9).map { Int32($0) })
        #expect(fake.restarts.sorted() == (1...9).map { Int32($0) })
        #expect(events.batches == [[1, 4, 7], [2, 5, 8], [3, 6, 9]])
        #expect(fake.minIsrSeen >= 2)
        #expect(fake.allPreferred)
        #expect(events.all.last == .finished(restarted: restarted))
    }

    func expectFailure(
        _ fake: FakeKafka, node: Int32, containing text: String, restarts: [Int32]
    ) async {
        let events = Events()
        do {
            try await executor(fake).run { events.add($0) }
            Issue.record("the roll should have failed")
        } catch let failure as RollFailure {
            #expect(failure.node == node)
            #expect(failure.message.contains(text), "\(failure.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(fake.restarts == restarts)
        #expect(events.all.filter { if case .failed = $0 { true } else { false } }.count == 1)
    }

    @Test func anUnreachableAgentStopsTheRollAtThatNodeAndRestartsNothingMore() async {
        let fake = FakeKafka(Fixture.cluster().0) { $0.unreachable = [4] }
        await expectFailure(fake, node: 4, containing: "unreachable", restarts: [1])
    }

    /// An agent that answers a restart request with 502 (its driver could not reach its simulator or Kubernetes API)
    /// is asked again with the same request id; the roll goes on. Refusals (4xx) still stop it.
    @Test func aRestartRequestAnsweredWithABadGatewayIsAskedAgainWithTheSameRequestId() async throws {
        let fake = FakeKafka(Fixture.cluster().0)
        let agent = FlakyRestarts(fake, failures: 3)
        let restarted = try await RollExecutor(
            operationId: "roll-test", nodes: nil, options: Self.options(), cluster: fake, agents: [agent],
            journal: nil, clock: ImmediateClock(), logger: Logger(label: "test")
        ).run()
        #expect(restarted.sorted() == (1...9).map { Int32($0) })
        #expect(fake.restarts.count == 9)
        let asked = agent.asked.withLock { $0 }
        #expect(asked.prefix(4).allSatisfy { $0 == asked[0] })
        #expect(asked.count == 9 + 3)
    }

    @Test func aFailingRestartCommandStopsTheRoll() async {
        let fake = FakeKafka(Fixture.cluster().0) { $0.failing = [4] }
        await expectFailure(fake, node: 4, containing: "restart command exited with 1", restarts: [1, 4, 7])
    }

    @Test func aNodeThatNeverReturnsStopsTheRollAtRegistration() async {
        let fake = FakeKafka(Fixture.cluster().0) { $0.neverReturns = [7] }
        await expectFailure(fake, node: 7, containing: "did not re-register", restarts: [1, 4, 7])
    }

    @Test func aRestartThatNeverFinishesTimesOut() async {
        let fake = FakeKafka(Fixture.cluster().0) { $0.neverDone = [1] }
        await expectFailure(
            fake, node: 1, containing: "did not report the restart of node 1 done", restarts: [1, 4, 7])
    }

    @Test func replicasThatNeverCatchUpTimeOut() async {
        let fake = FakeKafka(Fixture.cluster().0, catchUpReads: 1_000_000)
        await expectFailure(fake, node: 1, containing: "not back in ISR", restarts: [1, 4, 7])
    }

    @Test func aRollKilledMidBatchResumesWithoutRestartingAnyNodeTwiceOrSkippingOne() async throws {
        let dir = NSTemporaryDirectory() + "ballast-resume-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try SQLiteOperationsStore(directory: dir)
        try await journal.begin(operationId: "roll-test", spec: Data("{}".utf8))
        // The roller dies right after the agent accepted node 5's restart (batch 2: 2, 5, 8).
        let fake = FakeKafka(Fixture.cluster().0) { $0.crashAfterRequest = [5] }
        await #expect(throws: CancellationError.self) { try await executor(fake, journal: journal).run() }
        #expect(fake.restarts == [1, 4, 7, 2, 5])

        fake.state.withLock { $0.crashAfterRequest = [] }
        let state = try await SQLiteOperationsStore(directory: dir).resumeState(
            try #require(try await journal.latestUnfinished()))
        #expect(state.completed == [1, 4, 7] && state.inFlight == [2, 5])
        let events = Events()
        try await executor(fake, journal: journal, resume: state).run { events.add($0) }
        #expect(fake.restarts.sorted() == (1...9).map { Int32($0) })
        #expect(Set(fake.restarts).count == fake.restarts.count)
        #expect(events.batches.first == [2, 5])
        #expect(events.all.contains(.batchStarted(index: 2, nodes: [2, 5], zone: "", cluster: "", downNode: false)))
        #expect(try await journal.steps("roll-test").filter { $0.kind == .batchDone }.map(\.batch) == [1, 2, 3, 4])
        #expect(fake.minIsrSeen >= 2)
        #expect(try await journal.latestUnfinished() == nil)
    }

    /// Agents are polled every 0.5 s; an agent that restarts (here: 16 polls, 8 s of clock time without an answer)
    /// must not fail a roll whose tolerance is 20 s. Counting failed polls × the 2 s cluster poll interval did.
    @Test func anAgentThatIsUnreachableForEightSecondsDoesNotFailTheRoll() async throws {
        let fake = FakeKafka(Fixture.cluster().0) { $0.operationOutage = [4: 16] }
        let clock = ImmediateClock()
        let restarted = try await executor(fake, clock: clock).run()
        #expect(restarted.sorted() == (1...9).map { Int32($0) })
        #expect(fake.state.withLock { $0.operationOutage[4] } == 0)
    }

    @Test func anAgentThatIsUnreachableForLongerThanTheToleranceFailsTheRollNamingTheNode() async {
        // 70 polls at 0.5 s: 35 s without an answer, more than the 20 s tolerance (and the 30 s restart timeout).
        let fake = FakeKafka(Fixture.cluster().0) { $0.operationOutage = [4: 70] }
        await expectFailure(
            fake, node: 4, containing: "stopped answering for 20 s, longer than the 20 s allowed", restarts: [1, 4, 7])
    }

    @Test func aRollCountsItsRestartsBatchesAndAgentCallsInMetrics() async throws {
        let metrics = TestMetrics()
        let fake = FakeKafka(Fixture.cluster().0)
        var e = executor(fake)
        e.metrics = RollMetrics(factory: metrics)
        try await e.run()
        #expect(try metrics.expectCounter("ballast_roll_restarts_requested_total").totalValue == 9)
        #expect(try metrics.expectCounter("ballast_roll_restarts_done_total").totalValue == 9)
        #expect(try metrics.expectTimer("ballast_roll_batch_duration_seconds").values.count == 3)
        #expect(try metrics.expectCounter("ballast_rolls_total", [("result", "finished")]).totalValue == 1)
        #expect(try metrics.expectTimer("ballast_agent_call_duration_seconds", [("call", "restart")]).values.count == 9)
        #expect(try !metrics.expectTimer("ballast_agent_call_duration_seconds", [("call", "operation")]).values.isEmpty)
    }

    @Test func gateHoldsAndAFailedRollAreCountedByReason() async throws {
        let metrics = TestMetrics()
        var snapshot = Fixture.cluster().0
        snapshot.editPartitions { if $0.partition == 0 { $0.isr = [] } }
        let fake = FakeKafka(snapshot)
        var e = executor(fake)
        e.metrics = RollMetrics(factory: metrics)
        await #expect(throws: RollFailure.self) { try await e.run() }
        #expect(
            try metrics.expectCounter("ballast_roll_gate_holds_total", [("reason", "offline-partitions")]).totalValue
                > 0)
        #expect(try metrics.expectCounter("ballast_rolls_total", [("result", "failed")]).totalValue == 1)
        #expect(try metrics.expectCounter("ballast_roll_restarts_requested_total").totalValue == 0)
    }
}

/// One Kubernetes cluster's agent over a shared `FakeKafka`: it manages some nodes and can be cut off.
final class ClusterAgent: AgentAPI {
    let fake: FakeKafka
    let owned: Set<Int32>
    let endpoint: String
    let cutOff = Mutex(false)
    /// Calls that reached the agent while it was cut off (none may).
    let callsWhileCut = Mutex(0)

    init(_ fake: FakeKafka, name: String, owned: Set<Int32>) {
        self.fake = fake
        self.owned = owned
        endpoint = "fake://\(name)"
    }

    func check() throws {
        if cutOff.withLock({ $0 }) {
            throw AgentClientError(.unreachable, "the agent at \(endpoint) is unreachable: connection refused")
        }
    }

    func nodes() async throws -> [AgentNode] {
        try check()
        return try await fake.nodes().filter { owned.contains($0.id) }.map {
            var n = $0
            n.cluster = endpoint
            return n
        }
    }

    func restart(node: Int32, requestId: String) async throws -> AgentOperation {
        try check()
        return try await fake.restart(node: node, requestId: requestId)
    }

    func operation(_ id: String) async throws -> AgentOperation {
        try check()
        return try await fake.operation(id)
    }
}

/// A Kubernetes cluster's agent cut off mid-roll: its nodes wait with the reason while the other clusters roll,
/// and the roll completes once it answers again, or fails after the tolerance.
@Suite struct UnreachableAgentRollTests {
    static func agents(_ fake: FakeKafka) -> [ClusterAgent] {
        [
            ClusterAgent(fake, name: "east", owned: [1, 4, 7]), ClusterAgent(fake, name: "west", owned: [2, 5, 8]),
            ClusterAgent(fake, name: "central", owned: [3, 6, 9]),
        ]
    }

    func executor(_ fake: FakeKafka, _ agents: [ClusterAgent]) -> RollExecutor<ImmediateClock> {
        var options = RollExecutorTests.options()
        options.timeouts.agentUnreachableSeconds = 60
        return RollExecutor(
            operationId: "roll-cut", nodes: nil, options: options, cluster: fake, agents: agents, journal: nil,
            clock: ImmediateClock(), logger: Logger(label: "test"))
    }

    /// The node ids a waiting event holds because their agent does not answer.
    static func cut(_ e: RollEvent) -> Set<Int32>? {
        guard case .waiting(_, let held) = e else { return nil }
        let ids = held.filter { if case .agentUnreachable = $0.value { true } else { false } }.keys
        return ids.isEmpty ? nil : Set(ids)
    }

    @Test func theRollPausesAtTheCutOffClusterWithTheReasonAndCompletesWhenItsAgentAnswers() async throws {
        let fake = FakeKafka(Fixture.cluster().0)
        let agents = Self.agents(fake)
        let central = agents[2]
        let events = RollExecutorTests.Events()
        let restarted = try await executor(fake, agents).run { e in
            events.add(e)
            if case .batchStarted(1, _, _, _, _) = e { central.cutOff.withLock { $0 = true } }
            // Once only central's nodes are left, waiting for it, it answers again.
            if let cut = Self.cut(e), cut == [3, 6, 9] { central.cutOff.withLock { $0 = false } }
        }
        #expect(restarted.sorted() == (1...9).map { Int32($0) })
        #expect(events.batches == [[1, 4, 7], [2, 5, 8], [3, 6, 9]])
        let pause = try #require(events.all.firstIndex { Self.cut($0) == [3, 6, 9] })
        let lastBatch = try #require(
            events.all.firstIndex { if case .batchStarted(3, _, _, _, _) = $0 { true } else { false } })
        #expect(pause < lastBatch)
        guard case .waiting(_, let held) = events.all[pause] else { return }
        #expect("\(held[3]!)".contains("its agent at fake://central has not answered"))
        #expect(fake.minIsrSeen >= 2)
    }

    @Test func anAgentThatStaysCutOffFailsTheRollAfterTheToleranceAndNothingOfItsClusterRestarts() async {
        let fake = FakeKafka(Fixture.cluster().0)
        let agents = Self.agents(fake)
        do {
            try await executor(fake, agents).run { e in
                if case .batchStarted(1, _, _, _, _) = e { agents[2].cutOff.withLock { $0 = true } }
            }
            Issue.record("the roll should have failed")
        } catch let failure as RollFailure {
            #expect(failure.message.contains("the agent at fake://central (nodes 3,6,9) stopped answering for 6"))
            #expect(failure.message.contains("longer than the 60 s allowed"), "\(failure.message)")
            #expect(failure.node == 3)
        } catch {
            Issue.record("\(error)")
        }
        #expect(Set(fake.restarts) == [1, 4, 7, 2, 5, 8])
    }
}

/// An agent whose first `failures` restart requests are answered 502 (before reaching the fake).
final class FlakyRestarts: AgentAPI {
    let fake: FakeKafka
    let left: Mutex<Int>
    /// The request ids the agent was asked with, in order.
    let asked = Mutex<[String]>([])
    var endpoint: String { "fake://flaky" }

    init(_ fake: FakeKafka, failures: Int) {
        self.fake = fake
        left = Mutex(failures)
    }

    func nodes() async throws -> [AgentNode] { try await fake.nodes() }

    func restart(node: Int32, requestId: String) async throws -> AgentOperation {
        asked.withLock { $0.append(requestId) }
        let fail = left.withLock { n -> Bool in
            guard n > 0 else { return false }
            n -= 1
            return true
        }
        if fail {
            throw AgentClientError(.answered(status: 502), "the agent could not tell whether it manages node \(node)")
        }
        return try await fake.restart(node: node, requestId: requestId)
    }

    func operation(_ id: String) async throws -> AgentOperation { try await fake.operation(id) }
}
