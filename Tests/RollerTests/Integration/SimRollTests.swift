import Agent
import Foundation
import KafkaAdmin
import KafkaSim
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import Roller

/// Rolls against the simulator over real TCP: 9 brokers in 3 racks, RF 3, min ISR 2, replication throttled so
/// that catching up takes longer than a restart, and an acks=all load on every partition throughout.
@Suite(.serialized) struct SimRollTests {
    struct Sim {
        let simulator: KafkaSimulator
        let server: KafkaSimServer
        let task: Task<Void, any Error>
    }

    static func startSim() async throws -> Sim {
        var topology = SimTopology()
        topology.brokers = 9
        topology.racks = 3
        topology.topics = 3
        topology.partitions = 6
        topology.replicationFactor = 3
        topology.minInsyncReplicas = 2
        var settings = SimSettings()
        settings.startupDelayMs = 2000
        settings.shutdownDurationMs = 1000
        // Each broker leads/follows 6 partitions fed at ~80 KB/s each in cluster time (~0.5 MB/s into a
        // follower): a 3 s outage leaves ~1.5 MB to copy at a net 0.25 MB/s, ~6 s, longer than the restart.
        settings.replicationBytesPerSecond = 750 * 1024
        let sim = KafkaSimulator(cluster: try topology.build(settings: settings), timeScale: 10)
        var config = KafkaSimServer.Configuration()
        config.basePort = 0
        config.controlPort = 0
        var logger = Logger(label: "test.sim")
        logger.logLevel = .critical
        let server = KafkaSimServer(
            simulator: sim, configuration: config, responder: KafkaProtocolResponder.make(sim), logger: logger)
        let task = Task { try await server.run() }
        guard await server.waitUntilReady() != nil else {
            task.cancel()
            if case .failure(let error) = await task.result { throw error }
            throw RollFailure("the simulator did not bind its listeners within 60 s")
        }
        return Sim(simulator: sim, server: server, task: task)
    }

    /// An acks=all producer on every partition, through each partition's current leader.
    final class Producer: Sendable {
        let counts = Mutex<(ok: Int, notEnoughReplicas: Int, failed: Int)>((0, 0, 0))

        func run(_ sim: KafkaSimulator) async {
            while !Task.isCancelled {
                let outcomes = sim.withCluster { c -> [ProduceOutcome] in
                    c.partitions.map { p in
                        c.produce(
                            broker: p.leader, topic: c.topics[Int(p.topic)].name, partition: p.id, acks: -1,
                            records: 10, bytes: 800)
                    }
                }
                counts.withLock { c in
                    for o in outcomes {
                        switch o {
                        case .appended: c.ok += 1
                        case .error(.notEnoughReplicas): c.notEnoughReplicas += 1
                        case .error: c.failed += 1
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    @Test func ballastRollsNineBrokersInThreeBatchesWithoutOneNotEnoughReplicas() async throws {
        let sim = try await Self.startSim()
        defer { sim.task.cancel() }
        let producer = Producer()
        let load = Task { await producer.run(sim.simulator) }
        try await Task.sleep(for: .seconds(1))

        let port = Mutex(0)
        let agent = AgentServer.application(
            driver: SimDriver(control: sim.server.controlURL!, pollMilliseconds: 20),
            configuration: .init(token: "t"), logger: Logger(label: "test.agent"),
            onServerRunning: { p in port.withLock { $0 = p } })
        let group = ServiceGroup(services: [agent], logger: Logger(label: "test"))
        let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrap: sim.server.bootstrap))
        var options = RollOptions()
        options.timeouts.pollSeconds = 0.1
        let events = RollExecutorTests.Events()
        let restarted = try await withThrowingTaskGroup(of: [Int32]?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            while port.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            let executor = RollExecutor(
                operationId: "sim-roll", nodes: nil, options: options,
                cluster: KafkaAdminClusterReader(admin: admin),
                agents: [HTTPAgentClient(endpoint: "http://127.0.0.1:\(port.withLock { $0 })", token: "t")],
                journal: nil, logger: Logger(label: "test.roll"))
            let result = try await executor.run { events.add($0) }
            await group.triggerGracefulShutdown()
            return result
        }
        load.cancel()
        await admin.shutdown()
        let counts = producer.counts.withLock { $0 }
        #expect(restarted.sorted() == (1...9).map { Int32($0) })
        #expect(events.batches.count == 3)
        #expect(counts.ok > 0)
        #expect(counts.notEnoughReplicas == 0)
        #expect(counts.failed == 0)
        // Catch-up was really waited for: progress events show replicas out of sync at some point.
        #expect(
            events.all.contains { if case .catchingUp(_, let inSync, let total) = $0 { inSync < total } else { false } }
        )
        let preferred = sim.simulator.withCluster { c in c.partitions.allSatisfy { $0.leader == $0.replicas[0] } }
        #expect(preferred)
    }

    @Test func aNaiveRollThatMovesOnWhenABrokerIsUpCausesNotEnoughReplicas() async throws {
        let sim = try await Self.startSim()
        defer { sim.task.cancel() }
        let producer = Producer()
        let load = Task { await producer.run(sim.simulator) }
        try await Task.sleep(for: .seconds(1))
        let driver = SimDriver(control: sim.server.controlURL!, pollMilliseconds: 20)
        for node in (1...9).map({ Int32($0) }) { try await driver.restart(node: node) }
        try await Task.sleep(for: .milliseconds(200))
        load.cancel()
        #expect(producer.counts.withLock { $0.notEnoughReplicas } > 0)
    }
}
