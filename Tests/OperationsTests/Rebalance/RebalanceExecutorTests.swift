import BallastStore
import BallastTestSupport
import Foundation
import KafkaAdmin
import KafkaModel
import KafkaSim
import Logging
import Planner
import Rebalancer
import Synchronization
import Testing

@testable import Operations

/// The rebalance runner against the simulator over TCP (KafkaAdmin's native connections), journaling into a real
/// operations store: an add-brokers proposal carried out, crashed and resumed, and stopped.
@Suite(.serialized) struct RebalanceExecutorTests {
    final class Events: Sendable {
        let list = Mutex<[RebalanceEvent]>([])
        func add(_ e: RebalanceEvent) { list.withLock { $0.append(e) } }
        var all: [RebalanceEvent] { list.withLock { $0 } }
    }

    /// Records every reassignment request, so a test can tell whether a move was started twice.
    final class RecordingCluster: RebalanceCluster {
        let inner: KafkaAdminRebalanceCluster
        let sent = Mutex<[(TopicPartition, [Int32]?)]>([])
        init(_ inner: KafkaAdminRebalanceCluster) { self.inner = inner }
        func snapshot() async throws -> ClusterSnapshot { try await inner.snapshot() }
        func reassignments() async throws -> [PartitionReassignment] { try await inner.reassignments() }
        func throttles(of r: [ConfigResource]) async -> [ThrottleRead] {
            await inner.throttles(of: r)
        }
        func replicaSizes(brokers: [Int32]) async throws -> [TopicPartition: Int64] {
            try await inner.replicaSizes(brokers: brokers)
        }
        func alterThrottles(_ c: [ThrottleChange]) async -> [ConfigResource: String] { await inner.alterThrottles(c) }
        func alterReassignments(_ t: [TopicPartition: [Int32]?]) async throws -> [TopicPartition: String] {
            sent.withLock { s in for (k, v) in t { s.append((k, v)) } }
            return try await inner.alterReassignments(t)
        }
        func electPreferredLeaders(_ p: [TopicPartition]) async throws -> [TopicPartition: String] {
            try await inner.electPreferredLeaders(p)
        }
        var starts: [TopicPartition: Int] {
            sent.withLock { s in
                var out: [TopicPartition: Int] = [:]
                for (tp, target) in s where target != nil { out[tp, default: 0] += 1 }
                return out
            }
        }
    }

    /// An admin client with a generous request timeout: success is what is tested, and a debug build on a loaded
    /// 2-core machine can take seconds to answer.
    static func admin(_ sim: EmbeddedSimulator) throws -> KafkaAdmin {
        var configuration = KafkaAdminConfiguration(bootstrap: sim.bootstrap)
        configuration.requestTimeout = .seconds(60)
        configuration.connectTimeout = .seconds(30)
        return try KafkaAdmin(configuration: configuration)
    }

    static func options(throttle: Int64, perBroker: Int = 2) -> RebalanceOptions {
        var o = RebalanceOptions()
        o.throttleBytesPerSecond = throttle
        o.movesPerBroker = perBroker
        o.timeouts.pollSeconds = 0.05
        return o
    }

    /// An add-brokers proposal for brokers 4-6 of the harness cluster, planned from the live cluster.
    static func proposal(_ admin: KafkaAdmin) async throws -> Proposal {
        let model = try await ClusterModel.read(from: admin, rackCluster: [:])
        var request = PlanRequest()
        request.mode = .addBrokers
        request.brokers = [4, 5, 6]
        return try await Planner.plan(model, request).proposal
    }

    static func expectPlacement(_ sim: EmbeddedSimulator, _ proposal: Proposal, except: Set<TopicPartition> = []) {
        let placement = SimRebalanceHarness.placement(sim)
        for m in proposal.moves where !except.contains(TopicPartition(m.topic, Int32(m.partition))) {
            let now = placement[TopicPartition(m.topic, Int32(m.partition))]
            #expect(now?.replicas == m.newReplicas.map(Int32.init), "\(m.topic)-\(m.partition)")
            #expect(now?.leader == Int32(m.newLeader), "\(m.topic)-\(m.partition)")
        }
    }

    func tempDir() -> String { NSTemporaryDirectory() + "ballast-rebalance-\(UUID().uuidString)" }

    @Test func anAddBrokersProposalIsCarriedOutExactlyAndLeavesNoThrottle() async throws {
        let sim = try await SimRebalanceHarness.start(SimRebalanceHarness.model(), timeScale: 20)
        defer { sim.cancel() }
        let admin = try Self.admin(sim)
        let proposal = try await Self.proposal(admin)
        #expect(proposal.moves.contains { !$0.newReplicas.allSatisfy($0.oldReplicas.contains) })
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteOperationsStore(directory: dir)
        try await store.begin(operationId: "r1", kind: .rebalance, spec: Data())
        let events = Events()
        let report = try await RebalanceExecutor(
            operationId: "r1", moves: proposal.plannedMoves, hash: proposal.canonicalHash,
            options: Self.options(throttle: 2_000_000), cluster: KafkaAdminRebalanceCluster(admin: admin),
            store: store, logger: Logger(label: "test")
        ).run { events.add($0) }
        await admin.shutdown()
        #expect(report.isClean, "\(report.summary)")
        Self.expectPlacement(sim, proposal)
        #expect(SimRebalanceHarness.throttleConfigs(sim).isEmpty)
        #expect(events.all.contains { if case .throttlesSet = $0 { true } else { false } })
        let items = try await store.items("r1")
        #expect(items.count == proposal.moves.count && items.allSatisfy { $0.state == "done" })
        #expect(try await store.operation("r1")?.status == .finished)
    }

    @Test func aCrashedExecutionResumesWithoutStartingAnyMoveTwiceAndRestoresAPriorThrottle() async throws {
        let sim = try await SimRebalanceHarness.start(SimRebalanceHarness.model(mib: 1), timeScale: 10)
        defer { sim.cancel() }
        // A throttle an operator set before the rebalance: it must be there again at the end.
        try sim.simulator.withCluster { c in
            try c.alterConfigs(
                .broker(4), [.init(name: "follower.replication.throttled.rate", value: "123456")], incremental: true,
                validateOnly: false, answeringBroker: 4)
        }
        let admin = try Self.admin(sim)
        let proposal = try await Self.proposal(admin)
        let cluster = RecordingCluster(KafkaAdminRebalanceCluster(admin: admin))
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteOperationsStore(directory: dir)
        let options = Self.options(throttle: 300_000, perBroker: 2)
        let spec = RebalanceSpec(
            bootstrap: sim.bootstrap, cluster: "sim", mode: "add-brokers", hash: proposal.canonicalHash,
            moves: proposal.plannedMoves, options: options)
        try await store.begin(operationId: "r2", kind: .rebalance, spec: try spec.encoded())
        let executor = RebalanceExecutor(
            operationId: "r2", moves: proposal.plannedMoves, hash: proposal.canonicalHash, options: options,
            cluster: cluster, store: store, logger: Logger(label: "test"))

        // The first run dies (its task is cancelled) right after it started a batch, once one move is done.
        let sawDone = Mutex(false)
        let crashed = Task {
            try await executor.run { event in
                switch event {
                case .moveDone: sawDone.withLock { $0 = true }
                case .movesStarted where sawDone.withLock({ $0 }): withUnsafeCurrentTask { $0?.cancel() }
                default: break
                }
            }
        }
        await #expect(throws: CancellationError.self) { try await crashed.value }
        #expect(try await store.operation("r2")?.status == .running)
        let inFlight = try await admin.listPartitionReassignments()
        #expect(!inFlight.isEmpty, "the crash should leave moves in flight")

        let state = try await RebalanceResumeState.load(from: store, operationId: "r2")
        var resumed = executor
        resumed.resume = state
        let events = Events()
        let report = try await resumed.run { events.add($0) }
        await admin.shutdown()
        #expect(report.isClean, "\(report.summary)")
        #expect(cluster.starts.values.allSatisfy { $0 == 1 }, "\(cluster.starts)")
        // Each move in flight at the crash is followed to its end, never started again: adopted if Kafka still lists
        // it when the resume first reads, or found reassigned if it ended in between (the simulator runs at 10x real
        // time: on a loaded machine a move can end before the resume reads; RebalanceTakeoverTests sweep the
        // adoption itself deterministically).
        let adopted = Set(events.all.compactMap { if case .moveAdopted(let tp) = $0 { tp } else { nil } })
        let reassigned = Set(events.all.compactMap { if case .moveReassigned(let tp) = $0 { tp } else { nil } })
        let wasInFlight = Set(inFlight.map(\.topicPartition))
        #expect(adopted.isSubset(of: wasInFlight), "adopted \(adopted), in flight at the crash \(wasInFlight)")
        #expect(wasInFlight.isSubset(of: adopted.union(reassigned)), "\(events.all)")
        Self.expectPlacement(sim, proposal)
        #expect(SimRebalanceHarness.throttleConfigs(sim) == ["broker 4 follower.replication.throttled.rate": "123456"])
    }

    @Test func aStopRequestRevertsTheMovesInFlightKeepsTheDoneOnesAndRestoresThrottles() async throws {
        let sim = try await SimRebalanceHarness.start(SimRebalanceHarness.model(mib: 1), timeScale: 10)
        defer { sim.cancel() }
        let admin = try Self.admin(sim)
        let proposal = try await Self.proposal(admin)
        let before = SimRebalanceHarness.placement(sim)
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteOperationsStore(directory: dir)
        try await store.begin(operationId: "r3", kind: .rebalance, spec: Data())
        let asked = Mutex(false)
        var executor = RebalanceExecutor(
            operationId: "r3", moves: proposal.plannedMoves, hash: proposal.canonicalHash,
            options: Self.options(throttle: 100_000, perBroker: 1), cluster: KafkaAdminRebalanceCluster(admin: admin),
            store: store, logger: Logger(label: "test"))
        // The stop is asked the moment the first move is done, so moves are still in flight when the executor next
        // checks (a write to the store from here would race with them; RebalanceCLITests stops through the store
        // from another process).
        executor.stopRequested = { asked.withLock { $0 } }
        let report = try await executor.run { event in
            if case .moveDone = event { asked.withLock { $0 = true } }
        }
        #expect(report.outcome == .stopped)
        #expect(report.done >= 1)
        #expect(!report.cancelled.isEmpty)
        #expect(report.leftInFlight.isEmpty && report.throttlesNotRestored.isEmpty)
        #expect(try await admin.listPartitionReassignments().isEmpty)
        await admin.shutdown()
        let after = SimRebalanceHarness.placement(sim)
        for c in report.cancelled { #expect(after[c.topicPartition]?.replicas == before[c.topicPartition]?.replicas) }
        // Every move that copies data is either complete or reverted: nothing is left half-way.
        var completed = 0
        for m in proposal.moves where !m.newReplicas.allSatisfy(m.oldReplicas.contains) {
            let now = after[TopicPartition(m.topic, Int32(m.partition))]?.replicas
            if now == m.newReplicas.map(Int32.init) {
                completed += 1
            } else {
                #expect(now == m.oldReplicas.map(Int32.init), "\(m.topic)-\(m.partition): \(now ?? [])")
            }
        }
        #expect(completed >= 1)
        #expect(SimRebalanceHarness.throttleConfigs(sim).isEmpty)
        #expect(try await store.operation("r3")?.status == .failed)
    }
}
