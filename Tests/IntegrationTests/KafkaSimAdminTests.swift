import KafkaAdmin
import KafkaSim
import Logging
import Testing

/// KafkaAdmin against the simulator over loopback TCP: librdkafka and the native connection together.
@Suite struct KafkaSimAdminTests {
    @Test func snapshotAndEveryAdminCallWorkAgainstTheSimulator() async throws {
        var topo = SimTopology()
        topo.brokers = 6
        topo.racks = 3
        topo.topics = 4
        topo.partitions = 6
        let sim = KafkaSimulator(cluster: try topo.build(), timeScale: 10)
        var config = KafkaSimServer.Configuration()
        config.basePort = 0
        config.controlPort = 0
        let logger = Logger(label: "sim")
        let server = KafkaSimServer(
            simulator: sim, configuration: config, responder: KafkaProtocolResponder.make(sim), logger: logger)
        let task = Task { try await server.run() }
        defer { task.cancel() }
        _ = await server.waitUntilReady()

        var c = KafkaAdminConfiguration(bootstrap: server.bootstrap)
        c.requestTimeout = .seconds(5)
        let admin = try KafkaAdmin(configuration: c)
        let s = try await admin.snapshot()
        #expect(s.brokers.count == 6)
        #expect(Set(s.brokers.compactMap(\.rack)).count == 3)
        #expect(s.topics.count >= 4)
        #expect(s.topics.filter { !$0.isInternal }.allSatisfy { $0.minInSyncReplicas == 2 })
        #expect(s.offlinePartitions.isEmpty && s.underReplicatedPartitions.isEmpty)
        let configs = try await admin.describeConfigs([.broker(s.brokers[0].id), .clusterDefault])
        #expect(configs.count == 2)
        let elections = try await admin.electLeaders(.preferred)
        #expect(elections.allSatisfy { $0.succeeded })
        #expect(try await admin.listPartitionReassignments().isEmpty)
        let dirs = try await admin.describeLogDirs()
        #expect(dirs.count == 6)
        await admin.shutdown()
    }
}
