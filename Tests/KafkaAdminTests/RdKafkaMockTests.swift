import KafkaModel
import KafkaWire
import Testing

@testable import KafkaAdmin

/// librdkafka's mock cluster speaks Kafka over loopback TCP: Metadata and ApiVersions, not DescribeConfigs or
/// DescribeCluster. Enough for the metadata path through both transports.
@Suite struct RdKafkaMockTests {
    static func configuration(_ bootstrap: String) -> KafkaAdminConfiguration {
        var c = KafkaAdminConfiguration(bootstrap: bootstrap)
        c.requestTimeout = .seconds(2)
        return c
    }

    @Test func metadataThroughLibrdkafkaListsMockBrokersTopicsAndLeaders() async throws {
        let mock = try RdKafkaMockCluster(brokers: 3)
        try mock.createTopic("orders", partitions: 4, replicationFactor: 3)
        try mock.setLeader(topic: "orders", partition: 0, broker: 2)
        let rd = try RdKafkaClient(configuration: Self.configuration(mock.bootstrap))
        let md = try await rd.metadata()
        #expect(md.brokers.map(\.id) == [1, 2, 3])
        let orders = try #require(md.topics.first { $0.name == "orders" })
        #expect(orders.partitions.map(\.id) == [0, 1, 2, 3])
        #expect(orders.partitions[0].leader == 2)
        #expect(orders.partitions.allSatisfy { $0.replicas.count == 3 && $0.isr.count == 3 })
    }

    @Test func snapshotTakesRacksOverTheNativeConnectionAndRefusesToGuessMinIsr() async throws {
        let mock = try RdKafkaMockCluster(brokers: 3)
        try mock.createTopic("orders", partitions: 3, replicationFactor: 3)
        try mock.setRack(broker: 1, rack: "az-a")
        try mock.setRack(broker: 2, rack: "az-b")
        try mock.setRack(broker: 3, rack: "az-c")
        let admin = try KafkaAdmin(configuration: Self.configuration(mock.bootstrap))
        // The mock has no DescribeConfigs: without a stated fallback the snapshot fails, naming the API.
        await #expect {
            try await admin.snapshot()
        } throws: { ($0 as? KafkaAdminError)?.message.contains("DescribeConfigs") == true }
        let s = try await admin.snapshot(minInSyncReplicasIfUnknown: 2)
        await admin.shutdown()
        #expect(s.brokers.map(\.rack) == ["az-a", "az-b", "az-c"])
        let orders = try #require(s.topics.first { $0.name == "orders" })
        #expect(orders.minInSyncReplicas == 2)
        #expect(orders.partitions.count == 3)
        #expect(s.underReplicatedPartitions.isEmpty)
        #expect(s.offlinePartitions.isEmpty)
        // The mock speaks Metadata v0-2, which has no leader epoch: it stays -1 (unknown) rather than a guess.
        #expect(orders.partitions.allSatisfy { $0.leaderEpoch == -1 })
    }

    @Test func nativeRoutingReachesAGivenBrokerAndFallsBackToMetadataForTheCluster() async throws {
        let mock = try RdKafkaMockCluster(brokers: 3)
        let native = try NativeClient(configuration: Self.configuration(mock.bootstrap), logger: .init(label: "t"))
        let info = try await native.refreshCluster()
        #expect(info.brokers.map(\.id) == [1, 2, 3])
        // The mock speaks Metadata v0-2 and no DescribeCluster: the highest common version is 2.
        let c = try await native.connection(for: .any)
        #expect(c.brokerVersions[3] == 0...2)
        #expect(try c.version(for: MetadataRequest.self) == 2)
        #expect(!c.supports(DescribeClusterRequest.self))
        let c3 = try await native.connection(for: .broker(3))
        #expect(c3.peer == "\(info.brokers[2].host):\(info.brokers[2].port)")
        await native.shutdown()
    }

    @Test func aBrokerThatGoesDownAndUpIsReconnected() async throws {
        let mock = try RdKafkaMockCluster(brokers: 1)
        let native = try NativeClient(configuration: Self.configuration(mock.bootstrap), logger: .init(label: "t"))
        _ = try await native.refreshCluster()
        try mock.setBroker(1, up: false)
        await #expect(throws: KafkaAdminError.self) { try await native.refreshCluster() }
        try mock.setBroker(1, up: true)
        let info = try await native.refreshCluster()
        #expect(info.brokers.count == 1)
        await native.shutdown()
    }
}
