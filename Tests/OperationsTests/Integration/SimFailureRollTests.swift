import Agent
import AgentContract
import AgentProcessDriver
import AgentSimDriver
import BallastStore
import BallastTestSupport
import Foundation
import KafkaAdmin
import KafkaModel
import KafkaSim
import Logging
import Roller
import ServiceLifecycle
import Synchronization
import Testing

@testable import ConfigPlanning
@testable import Operations

/// A node that never comes back (Kafka 4.1.0's ClearElrRecord crash at start-up, docs/real-kafka-4.1.md), against
/// the simulator over TCP: the roll stops at that node with one error and restarts nothing more.
@Suite(.serialized) struct SimFailureRollTests {
    typealias Sim = EmbeddedSimulator

    /// The shared 9-broker cluster, without load.
    static func startSim() async throws -> Sim { try await SimRollHarness.start() }

    /// A restart that returns once the process was started (like `systemctl restart`), leaving it to the roller
    /// to notice that the node never registers.
    struct StartAndReturnDriver: NodeDriver {
        let sim: KafkaSimulator
        let listing: SimDriver

        func nodes() async throws -> [AgentNode] { try await listing.nodes() }

        func restart(node: Int32) async throws {
            try sim.withCluster { c throws(SimFailure) in try c.stop(node) }
            while sim.withCluster({ $0.node(node)?.state }) != .stopped { try await Task.sleep(for: .milliseconds(10)) }
            try sim.withCluster { c throws(SimFailure) in try c.start(node) }
        }
    }

    /// Runs a roll of every node through one agent with `driver`. With `markSecondBatch`, when the second batch
    /// begins (before any of its restarts is requested), its highest node is marked to fail its start. Returns the
    /// failure, the roll's events and the marked node.
    static func roll(_ sim: Sim, driver: some NodeDriver, markSecondBatch: Bool = true) async throws -> (
        RollFailure?, RollExecutorTests.Events, Int32?
    ) {
        var options = RollOptions()
        options.timeouts.pollSeconds = 0.1
        options.timeouts.registerSeconds = 3
        options.timeouts.restartSeconds = 30
        let events = RollExecutorTests.Events()
        let victim = Mutex<Int32?>(nil)
        let result = try await SimRollHarness.roll(sim, driver: driver, options: options) { event in
            events.add(event)
            if markSecondBatch, case .batchStarted(2, let nodes, _, _, _) = event, let node = nodes.max() {
                victim.withLock { $0 = node }
                try? sim.simulator.withCluster { c throws(SimFailure) in try c.setFailStarts(1, of: node) }
            }
        }
        let failure: RollFailure?
        if case .failure(let f) = result { failure = f } else { failure = nil }
        return (failure, events, victim.withLock { $0 })
    }

    static func expectStoppedAt(_ victim: Int32, _ sim: Sim, _ events: RollExecutorTests.Events) {
        // Batch 1 rolled; batch 2 (which holds the victim) was begun; no third batch.
        #expect(events.batches.count == 2, "batches: \(events.batches)")
        #expect(events.batches.last?.contains(victim) == true, "batches: \(events.batches)")
        let begun = Set(events.batches.joined())
        let starts = sim.simulator.withCluster { c in
            Dictionary(uniqueKeysWithValues: c.nodes.map { ($0.id, $0.starts) })
        }
        for (node, count) in starts {
            #expect(count == (begun.contains(node) ? 1 : 0), "node \(node) was started \(count) time(s)")
        }
        let state = sim.simulator.withCluster { c in (c.node(victim)!.state, c.node(victim)!.failedStarts) }
        #expect(state == (.stopped, 1))
        let health = sim.simulator.withCluster { $0.stats.health }
        #expect(!health.isEmpty && health.allSatisfy { $0.offline == 0 }, "offline partitions during the roll")
        #expect(sim.simulator.withCluster { $0.healthCounts().offline } == 0)
    }

    @Test func aNodeThatDiesAtStartUpStopsTheRollWithOneErrorNamingIt() async throws {
        let sim = try await Self.startSim()
        defer { sim.cancel() }
        let (failure, events, marked) = try await Self.roll(
            sim,
            driver: SimDriver(
                control: sim.controlURL, timeoutSeconds: 30, pollMilliseconds: 20, requestTimeout: .seconds(60)))
        let victim = try #require(marked, "the roll never began a second batch")
        let f = try #require(failure, "the roll must fail")
        #expect(f.node == victim)
        #expect(f.message.contains("node \(victim)") && f.message.contains("did not come back"), "\(f.message)")
        #expect(f.message.contains("check the node's logs"), "\(f.message)")
        #expect(events.all.filter { if case .failed = $0 { true } else { false } }.count == 1)
        Self.expectStoppedAt(victim, sim, events)
    }

    @Test func aNodeThatNeverRegistersAfterARestartThatReturnedStopsTheRollAtRegistration() async throws {
        let sim = try await Self.startSim()
        defer { sim.cancel() }
        let driver = StartAndReturnDriver(
            sim: sim.simulator,
            listing: SimDriver(control: sim.controlURL, pollMilliseconds: 20, requestTimeout: .seconds(60)))
        let (failure, events, marked) = try await Self.roll(sim, driver: driver)
        let victim = try #require(marked, "the roll never began a second batch")
        let f = try #require(failure, "the roll must fail")
        #expect(f.node == victim)
        #expect(f.message.contains("node \(victim) did not re-register"), "\(f.message)")
        #expect(f.message.contains("did not come back") && f.message.contains("check the node's logs"))
        Self.expectStoppedAt(victim, sim, events)
    }

    /// The real trigger, as the simulator models it (KafkaSim `SimCluster+ClearElrCrash.swift`): a topic deleted,
    /// then the cluster-default min.insync.replicas changed, then a roll. The first batch's combined node exits at
    /// start-up and its broker-only nodes never register; the roll stops there and the quorum keeps its majority.
    @Test func afterTheKafka410ClearElrTriggerTheRollStopsInTheFirstBatchAndKeepsTheQuorum() async throws {
        let sim = try await Self.startSim()
        defer { sim.cancel() }
        try sim.simulator.withCluster { c throws(SimFailure) in
            try c.createTopic(name: "doomed", partitions: 1, replicationFactor: 3)
            try c.deleteTopic(name: "doomed")
            try c.alterConfigs(
                .clusterDefault, [ConfigAlteration(name: "min.insync.replicas", value: "2")], incremental: true,
                validateOnly: false, answeringBroker: 1)
        }
        // Hung broker-only nodes stay `starting`: the sim driver gives up on them after 3 s.
        let (failure, events, _) = try await Self.roll(
            sim,
            driver: SimDriver(
                control: sim.controlURL, timeoutSeconds: 3, pollMilliseconds: 20, requestTimeout: .seconds(60)),
            markSecondBatch: false)
        let f = try #require(failure, "the roll must fail")
        #expect(events.batches.count == 1, "batches: \(events.batches)")
        let first = Set(events.batches.first ?? [])
        #expect(f.node.map { first.contains($0) } == true, "\(f.message)")
        #expect(f.message.contains("did not come back"), "\(f.message)")
        let (starts, states, quorum, offline) = sim.simulator.withCluster { c in
            (
                Dictionary(uniqueKeysWithValues: c.nodes.map { ($0.id, $0.starts) }),
                Dictionary(uniqueKeysWithValues: c.nodes.map { ($0.id, $0.state) }) as [Int32: NodeState],
                c.quorum.leader >= 0, c.healthCounts().offline
            )
        }
        for (node, count) in starts { #expect(count == (first.contains(node) ? 1 : 0), "node \(node)") }
        // Every restarted node failed: the combined one exited, the broker-only ones hang in `starting`.
        #expect(first.allSatisfy { states[$0] == .stopped || states[$0] == .starting }, "\(states)")
        #expect(first.contains { states[$0] == .stopped })
        #expect(quorum, "two of the three controllers are still up")
        #expect(offline == 0)
    }
}
