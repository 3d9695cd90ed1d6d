import Agent
import KafkaAdmin
import KafkaSim
import Logging
import ServiceLifecycle
import Synchronization

@testable import Roller

/// What the simulator roll tests share: the cluster, and a roll of every node through one agent over HTTP.
enum SimRollHarness {
    /// 9 brokers in 3 racks (nodes 1-3 combined broker+controllers), 3 topics × 6 partitions, RF 3, min ISR 2,
    /// a 2 s start-up and 1 s shutdown (cluster time), time scale 10 unless given; `replicationBytesPerSecond`
    /// limits catch-up.
    static func start(replicationBytesPerSecond: Int64? = nil, timeScale: Double = 10) async throws
        -> EmbeddedSimulator
    {
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
        if let replicationBytesPerSecond { settings.replicationBytesPerSecond = replicationBytesPerSecond }
        return try await EmbeddedSimulator.start(try topology.build(settings: settings), timeScale: timeScale)
    }

    /// Rolls every node the agent (serving `driver`) manages; the roll's failure, if it failed, is the result.
    static func roll(
        _ sim: EmbeddedSimulator, driver: some NodeDriver, options: RollOptions,
        onEvent: @escaping @Sendable (RollEvent) -> Void
    ) async throws -> Result<[Int32], RollFailure> {
        let port = Mutex(0)
        let agent = AgentServer.application(
            driver: driver, configuration: .init(token: "t"), logger: Logger(label: "test.agent"),
            onServerRunning: { p in port.withLock { $0 = p } })
        let group = ServiceGroup(services: [agent], logger: Logger(label: "test"))
        let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrap: sim.bootstrap))
        let result = try await withThrowingTaskGroup(of: Result<[Int32], RollFailure>?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            while port.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            let executor = RollExecutor(
                operationId: "sim-roll", nodes: nil, options: options, cluster: KafkaAdminClusterReader(admin: admin),
                agents: [HTTPAgentClient(endpoint: "http://127.0.0.1:\(port.withLock { $0 })", token: "t")],
                journal: nil, logger: Logger(label: "test.roll"))
            let result: Result<[Int32], RollFailure>
            do { result = .success(try await executor.run(onEvent: onEvent)) } catch let f as RollFailure {
                result = .failure(f)
            }
            await group.triggerGracefulShutdown()
            return result
        }
        await admin.shutdown()
        return result
    }
}
