import Testing

@testable import KafkaAdmin

@Suite struct RdKafkaMockTests {
    @Test func metadataThroughLibrdkafkaListsMockBrokersTopicsAndLeaders() async throws {
        let mock = try RdKafkaMockCluster(brokers: 3)
        try mock.createTopic("orders", partitions: 4, replicationFactor: 3)
        try mock.setLeader(topic: "orders", partition: 0, broker: 2)
        let rd = try RdKafkaClient(configuration: KafkaAdminConfiguration(bootstrap: mock.bootstrap))
        let md = try await rd.metadata()
        #expect(md.brokers.map(\.id) == [1, 2, 3])
        let orders = try #require(md.topics.first { $0.name == "orders" })
        #expect(orders.partitions.count == 4)
        #expect(orders.partitions[0].leader == 2)
        #expect(orders.partitions.allSatisfy { $0.replicas.count == 3 })
        print("MOCK", md.controllerId, md.clusterId ?? "nil", orders.partitions)
        do {
            let c = try await rd.describeConfigs([.topic("orders")])
            print("MOCK configs", c)
        } catch {
            print("MOCK configs error", error)
        }
    }
}
