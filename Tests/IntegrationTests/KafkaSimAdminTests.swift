import KafkaAdmin
import KafkaModel
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
        let sim = try await EmbeddedSimulator.start(try topo.build(), timeScale: 10)
        defer { sim.cancel() }

        var c = KafkaAdminConfiguration(bootstrap: sim.bootstrap)
        c.requestTimeout = .seconds(60)
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
