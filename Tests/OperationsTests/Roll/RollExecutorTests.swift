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
    /// must not fail a roll whose tolerance is 30 s. Counting failed polls × the 2 s cluster poll interval did.
    @Test func anAgentThatIsUnreachableForEightSecondsDoesNotFailTheRoll() async throws {
        let fake = FakeKafka(Fixture.cluster().0) { $0.operationOutage = [4: 16] }
        let clock = ImmediateClock()
        let restarted = try await executor(fake, clock: clock).run()
        #expect(restarted.sorted() == (1...9).map { Int32($0) })
        #expect(fake.state.withLock { $0.operationOutage[4] } == 0)
    }

    @Test func anAgentThatIsUnreachableForLongerThanTheToleranceFailsTheRollNamingTheNode() async {
        // 70 polls at 0.5 s: 35 s without an answer, more than the 30 s tolerance (and less than the restart timeout).
        let fake = FakeKafka(Fixture.cluster().0) { $0.operationOutage = [4: 70] }
        await expectFailure(fake, node: 4, containing: "stopped answering for 30 s", restarts: [1, 4, 7])
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
