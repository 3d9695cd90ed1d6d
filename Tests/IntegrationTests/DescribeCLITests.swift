import Foundation
import KafkaAdmin
import KafkaModel
import Testing

/// `ballast describe` as a process: exit codes and messages, against nothing or librdkafka's mock cluster.
@Suite(.enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct DescribeCLITests {
    @Test func anUnreachableBootstrapFailsWithinTheTimeoutNamingTheAddress() throws {
        let start = ContinuousClock.now
        // Port 1 on loopback: nothing listens there.
        let r = try run(ballastBinary!, ["describe", "--bootstrap", "127.0.0.1:1", "--timeout", "2"])
        let elapsed = ContinuousClock.now - start
        #expect(r.status == 1)
        #expect(r.stderr.contains("127.0.0.1:1"))
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(elapsed < .seconds(4))
    }

    @Test func aBadFlagIsBadUsage() throws {
        let r = try run(ballastBinary!, ["describe", "--bootstrap", "127.0.0.1:1", "--no-such-flag"])
        #expect(r.stderr.contains("--no-such-flag"))
        #expect(r.status == 2)
    }

    @Test func aBootstrapWithoutPortIsBadUsage() throws {
        let r = try run(ballastBinary!, ["describe", "--bootstrap", "localhost"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("localhost"))
    }

    @Test func describeOfTheMockClusterListsBrokersByRackAndTheTopics() throws {
        let mock = try RdKafkaMockCluster(brokers: 3)
        try mock.createTopic("orders", partitions: 6, replicationFactor: 3)
        for (id, rack) in [(1, "az-a"), (2, "az-b"), (3, "az-a")] { try mock.setRack(broker: Int32(id), rack: rack) }
        let r = try run(ballastBinary!, ["describe", "--bootstrap", mock.bootstrap, "--timeout", "2", "--json"])
        // The mock cluster has no DescribeConfigs, so min.insync.replicas is unknown and describe refuses to guess.
        #expect(r.status == 1)
        #expect(r.stderr.contains("DescribeConfigs"))
    }
}
