import Agent
import AgentContract
import AgentKubernetesDriver
import BallastTestSupport
import Foundation
import KafkaAdmin
import KafkaModel
import KafkaSim
import KubernetesAPI
import KubernetesSim
import Logging
import Roller
import Synchronization
import Testing

@testable import Operations

/// Rolls of one Kafka cluster stretched over three simulated Kubernetes clusters, through one `kubernetes` agent
/// per cluster, each with its own agent token and its own kubeconfig (its cluster's API, token and CA), under the
/// real acks=all client of `SimRollTests`.
@Suite(.serialized) struct KubernetesRollTests {
    /// 9 brokers in 3 racks, rack i in Kubernetes cluster k8s-i; RF 3, min ISR 2; catch-up slower than a restart.
    static func harness() async throws -> KubernetesHarness {
        var topology = SimTopology()
        topology.brokers = 9
        topology.racks = 3
        topology.clusters = 3
        topology.topics = 3
        topology.partitions = 6
        var settings = SimSettings()
        settings.startupDelayMs = 2000
        // Real Kafka 4.1 takes 4.5 s from a controlled shutdown to the process exit (docs/simulator.md).
        settings.shutdownDurationMs = 4500
        settings.replicationBytesPerSecond = 15_000
        return try await KubernetesHarness.start(topology, settings: settings)
    }

    /// One agent per Kubernetes cluster, with the `kubernetes` driver and its own token.
    final class Agents: Sendable {
        let drivers: [String: KubernetesDriver]
        let running: Mutex<[String: RunningAgent]>
        let harness: KubernetesHarness

        init(_ h: KubernetesHarness) async throws {
            harness = h
            var drivers: [String: KubernetesDriver] = [:]
            var running: [String: RunningAgent] = [:]
            do {
                for e in h.endpoints {
                    let client = try KubernetesClient(connection: try .kubeconfig(path: e.kubeconfig, context: nil))
                    var c = KubernetesDriver.Configuration()
                    c.restartTimeout = .seconds(300)
                    let driver: KubernetesDriver
                    do {
                        driver = try KubernetesDriver(
                            client: client, configuration: c, logger: Logger(label: "test.driver"))
                    } catch {
                        try? await client.shutdown()
                        throw error
                    }
                    drivers[e.name] = driver
                    running[e.name] = try await RunningAgent.start(
                        driver: driver, token: Self.token(e.name), cluster: e.name)
                }
            } catch {
                // A client dropped without shutdown() traps in its deinit and would take the test process with it.
                for a in running.values { await a.stop() }
                for d in drivers.values { try? await d.client.shutdown() }
                throw error
            }
            self.drivers = drivers
            self.running = Mutex(running)
        }

        static func token(_ cluster: String) -> String { "agent-token-of-\(cluster)" }

        var clients: [HTTPAgentClient] {
            running.withLock { r in
                r.keys.sorted().map { HTTPAgentClient(endpoint: r[$0]!.url, token: Self.token($0)) }
            }
        }

        func stop(_ cluster: String) async { await running.withLock { $0[cluster]! }.stop() }

        /// Starts the cluster's agent again where its clients look for it.
        func restart(_ cluster: String) async throws {
            let old = running.withLock { $0[cluster]! }
            let agent = try await RunningAgent.start(
                driver: drivers[cluster]!, token: Self.token(cluster), cluster: cluster, port: old.port)
            running.withLock { $0[cluster] = agent }
        }

        func shutdown() async {
            for a in running.withLock({ Array($0.values) }) { await a.stop() }
            for d in drivers.values { try? await d.client.shutdown() }
        }
    }

    static func roll(
        _ h: KubernetesHarness, _ agents: Agents, onEvent: @escaping @Sendable (RollEvent) -> Void
    ) async throws -> [Int32] {
        let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrap: h.sim.bootstrap))
        var options = RollOptions()
        options.timeouts.pollSeconds = 0.1
        let executor = RollExecutor(
            operationId: "stretch-roll", nodes: nil, options: options, cluster: KafkaAdminClusterReader(admin: admin),
            agents: agents.clients, journal: nil, logger: Logger(label: "test.roll"))
        let result: Result<[Int32], any Error>
        do { result = .success(try await executor.run(onEvent: onEvent)) } catch { result = .failure(error) }
        await admin.shutdown()
        return try result.get()
    }

    /// Every broker's pod deleted once and made again once, and every broker started once.
    static func everyPodReplacedOnce(_ h: KubernetesHarness) {
        for e in h.endpoints {
            h.kubernetes.withCluster(e.name) { w in
                for pod in w.pods.values {
                    #expect(w.deletions[pod.broker] == 1 && w.creations[pod.broker] == 2, "\(pod.name) in \(e.name)")
                    #expect(pod.object.isReady)
                }
            }
        }
        let starts = h.sim.simulator.withCluster { c in c.nodes.map(\.starts) }
        #expect(starts == Array(repeating: 1, count: 9))
    }

    static func clusterOf(_ h: KubernetesHarness) -> [Int32: String] {
        h.sim.simulator.withCluster { c in Dictionary(uniqueKeysWithValues: c.nodes.map { ($0.id, $0.cluster) }) }
    }

    @Test func aRollOverThreeKubernetesClustersReplacesEveryPodOnceWithoutOneFailedDelivery() async throws {
        try await KubernetesHarness.with({ try await Self.harness() }) { h in
            let agents = try await Agents(h)
            let producer = try await SimRollTests.Producer.start(
                bootstrap: h.sim.bootstrap, topics: SimRollTests.topics(h.sim))
            let events = RollExecutorTests.Events()
            let restarted: [Int32]
            do {
                restarted = try await Self.roll(h, agents) { events.add($0) }
            } catch {
                _ = try? await producer.stop()
                await agents.shutdown()
                throw error
            }
            let counts = try await producer.stop()
            await agents.shutdown()
            #expect(restarted.sorted() == (1...9).map { Int32($0) })
            // One batch per Kubernetes cluster (each cluster is one rack here).
            let clusterOf = Self.clusterOf(h)
            #expect(events.batches.count == 3)
            #expect(events.batches.allSatisfy { Set($0.map { clusterOf[$0]! }).count == 1 })
            #expect(counts.ok > 0 && counts.ok == counts.sent)
            #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
            Self.everyPodReplacedOnce(h)
        }
    }

    @Test func anAgentCutOffMidRollPausesItsClusterWithAReasonAndTheRollCompletesWhenItReturns() async throws {
        try await KubernetesHarness.with({ try await Self.harness() }) { h in
            let agents = try await Agents(h)
            let clusterOf = Self.clusterOf(h)
            let producer = try await SimRollTests.Producer.start(
                bootstrap: h.sim.bootstrap, topics: SimRollTests.topics(h.sim))
            let (stream, continuation) = AsyncStream<RollEvent>.makeStream()
            let events = RollExecutorTests.Events()
            let rolling = Task {
                defer { continuation.finish() }
                return try await Self.roll(h, agents) { e in
                    events.add(e)
                    continuation.yield(e)
                }
            }
            // When the first batch starts, cut off the agent of another Kubernetes cluster; once the roll has done
            // everything else and waits for that cluster alone, start its agent again.
            var cut: String?
            var startsWhenPaused: [Int]?
            var pause: [Int32: HoldReason]?
            for await event in stream {
                if cut == nil, case .batchStarted(_, let nodes, _, _, _) = event {
                    let first = clusterOf[nodes[0]]!
                    cut = h.endpoints.map(\.name).last { $0 != first }!
                    await agents.stop(cut!)
                }
                if let c = cut, pause == nil, case .waiting(_, let held) = event {
                    let mine = Set(clusterOf.filter { $0.value == c }.keys)
                    let unreachable = held.filter { if case .agentUnreachable = $0.value { true } else { false } }
                    if Set(held.keys) == mine && unreachable.count == mine.count {
                        pause = held
                        startsWhenPaused = mine.sorted().map { id in h.sim.simulator.withCluster { $0.node(id)!.starts }
                        }
                        try await agents.restart(c)
                    }
                }
            }
            let restarted: [Int32]
            do {
                restarted = try await rolling.value
            } catch {
                _ = try? await producer.stop()
                await agents.shutdown()
                throw error
            }
            let counts = try await producer.stop()
            await agents.shutdown()
            let held = try #require(pause, "the roll never paused for the cut-off cluster alone")
            #expect(startsWhenPaused == [0, 0, 0], "a node of the cut-off cluster was restarted without its agent")
            let reason = "\(held.values.first!)"
            #expect(reason.contains("has not answered") && reason.contains("restarts nothing that agent manages"))
            #expect(restarted.sorted() == (1...9).map { Int32($0) })
            // The cut-off cluster's batch came after the pause, and last.
            #expect(events.batches.count == 3)
            #expect(events.batches.last.map { Set($0.map { clusterOf[$0]! }) } == [cut!])
            #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
            Self.everyPodReplacedOnce(h)
        }
    }

    @Test func aKubernetesAPICutOffMidRollPausesItsClusterWithTheReasonAndTheRollCompletesWhenItIsBack() async throws {
        try await KubernetesHarness.with({ try await Self.harness() }) { h in
            let agents = try await Agents(h)
            let clusterOf = Self.clusterOf(h)
            let producer = try await SimRollTests.Producer.start(
                bootstrap: h.sim.bootstrap, topics: SimRollTests.topics(h.sim))
            let (stream, continuation) = AsyncStream<RollEvent>.makeStream()
            let events = RollExecutorTests.Events()
            let rolling = Task {
                defer { continuation.finish() }
                return try await Self.roll(h, agents) { e in
                    events.add(e)
                    continuation.yield(e)
                }
            }
            // When the first batch starts, cut off another cluster's Kubernetes API (its agent stays up, answering
            // 502); once the roll waits for that cluster alone, restore the API.
            var cut: String?
            var startsWhenPaused: [Int]?
            var pause: [Int32: HoldReason]?
            for await event in stream {
                if cut == nil, case .batchStarted(_, let nodes, _, _, _) = event {
                    let first = clusterOf[nodes[0]]!
                    cut = h.endpoints.map(\.name).last { $0 != first }!
                    try h.kubernetes.setOutage(true, cluster: cut!)
                }
                if let c = cut, pause == nil, case .waiting(_, let held) = event {
                    let mine = Set(clusterOf.filter { $0.value == c }.keys)
                    let unreachable = held.filter { if case .agentUnreachable = $0.value { true } else { false } }
                    if Set(held.keys) == mine && unreachable.count == mine.count {
                        pause = held
                        startsWhenPaused = mine.sorted().map { id in h.sim.simulator.withCluster { $0.node(id)!.starts }
                        }
                        try h.kubernetes.setOutage(false, cluster: c)
                    }
                }
            }
            let restarted: [Int32]
            do {
                restarted = try await rolling.value
            } catch {
                _ = try? await producer.stop()
                await agents.shutdown()
                throw error
            }
            let counts = try await producer.stop()
            await agents.shutdown()
            let held = try #require(pause, "the roll never paused for the cut-off cluster alone")
            #expect(startsWhenPaused == [0, 0, 0], "a node of the cut-off cluster was restarted without its API")
            let reason = "\(held.values.first!)"
            #expect(reason.contains("answered 502") && reason.contains("503"), "\(reason)")
            #expect(reason.contains("restarts nothing that agent manages"))
            #expect(restarted.sorted() == (1...9).map { Int32($0) })
            #expect(events.batches.count == 3)
            #expect(events.batches.last.map { Set($0.map { clusterOf[$0]! }) } == [cut!])
            #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
            Self.everyPodReplacedOnce(h)
        }
    }
}
