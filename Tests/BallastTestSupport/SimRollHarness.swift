public import Agent
import KafkaAdmin
public import KafkaSim
import Logging
import Operations
public import Roller

/// What the simulator roll tests share: the cluster, and a roll of every node through one agent over HTTP.
public enum SimRollHarness {
    /// 9 brokers in 3 racks (nodes 1-3 combined broker+controllers), 3 topics × 6 partitions, RF 3, min ISR 2,
    /// a 2 s start-up and real Kafka 4.1's 4.5 s controlled shutdown (cluster time), time scale 10
    /// unless given; `replicationBytesPerSecond` limits catch-up. (A 1 s shutdown gave clients 0.1 s of real time to follow the
    /// leaders that moved before the broker closed their connections: too little on a loaded machine.)
    public static func start(replicationBytesPerSecond: Int64? = nil, timeScale: Double = 10) async throws
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
        if let replicationBytesPerSecond { settings.replicationBytesPerSecond = replicationBytesPerSecond }
        return try await EmbeddedSimulator.start(try topology.build(settings: settings), timeScale: timeScale)
    }

    /// Rolls every node the agent (serving `driver`) manages; the roll's failure, if it failed, is the result.
    public static func roll(
        _ sim: EmbeddedSimulator, driver: some NodeDriver, options: RollOptions,
        onEvent: @escaping @Sendable (RollEvent) -> Void
    ) async throws -> Result<[Int32], RollFailure> {
        let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrap: sim.bootstrap))
        let result = try await withAgent(driver: driver) { url in
            let executor = RollExecutor(
                operationId: "sim-roll", nodes: nil, options: options, cluster: KafkaAdminClusterReader(admin: admin),
                agents: [HTTPAgentClient(endpoint: url, token: "t", timeoutSeconds: 60)], journal: nil,
                logger: Logger(label: "test.roll"))
            do { return Result<[Int32], RollFailure>.success(try await executor.run(onEvent: onEvent)) } catch let f
                as RollFailure
            {
                return .failure(f)
            }
        }
        await admin.shutdown()
        return result
    }
}
