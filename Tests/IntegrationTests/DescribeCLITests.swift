import Foundation
import KafkaAdmin
import KafkaModel
import KafkaSim
import Testing

/// `ballast describe` as a process: exit codes and messages, against nothing or librdkafka's mock cluster.
@Suite(.enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct DescribeCLITests {
    @Test func anUnreachableBootstrapFailsNamingTheAddress() async throws {
        // Port 1 on loopback: nothing listens there. (How long it takes is not checked: with every CLI test
        // starting the debug binary at once on a loaded 2-core machine, one run took 41 s for a 1 s timeout.)
        let r = try await run(ballastBinary!, ["describe", "--bootstrap", "127.0.0.1:1", "--timeout", "1"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("127.0.0.1:1"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func aBadFlagIsBadUsage() async throws {
        let r = try await run(ballastBinary!, ["describe", "--bootstrap", "127.0.0.1:1", "--no-such-flag"])
        #expect(r.stderr.contains("--no-such-flag"))
        #expect(r.status == 2)
    }

    @Test func aBootstrapWithoutPortIsBadUsage() async throws {
        let r = try await run(ballastBinary!, ["describe", "--bootstrap", "localhost"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("localhost"))
    }

    @Test func describeOfAClusterWithoutDescribeConfigsRefusesToGuessMinIsr() async throws {
        let mock = try RdKafkaMockCluster(brokers: 3)
        try mock.createTopic("orders", partitions: 6, replicationFactor: 3)
        for (id, rack) in [(1, "az-a"), (2, "az-b"), (3, "az-a")] { try mock.setRack(broker: Int32(id), rack: rack) }
        let r = try await run(ballastBinary!, ["describe", "--bootstrap", mock.bootstrap, "--timeout", "2", "--json"])
        // The mock cluster has no DescribeConfigs, so min.insync.replicas is unknown and describe refuses to guess.
        #expect(r.status == 1)
        #expect(r.stderr.contains("DescribeConfigs"))
    }

    @Test func describeOfTheSimulatedClusterListsBrokersByRackAndTheTopics() async throws {
        var topology = SimTopology()
        topology.brokers = 3
        topology.racks = 2
        topology.topics = 2
        topology.partitions = 3
        let sim = try await EmbeddedSimulator.start(try topology.build(), timeScale: 10)
        defer { sim.cancel() }
        let r = try await run(ballastBinary!, ["describe", "--bootstrap", sim.bootstrap])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("Brokers 3 in 2 racks"), "\(r.stdout)")
        #expect(
            lines.contains { $0.hasPrefix("  rack-a: 1 127.0.0.1:") && $0.contains(", 3 127.0.0.1:") }, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("  rack-b: 2 127.0.0.1:") }, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("Topics 2 ") && $0.hasSuffix("partitions 6") }, "\(r.stdout)")
        #expect(lines.contains("No partition at risk."), "\(r.stdout)")

        let json = try await run(ballastBinary!, ["describe", "--bootstrap", sim.bootstrap, "--json"])
        #expect(json.status == 0)
        let decoded = try JSONDecoder().decode(DescribeOutput.self, from: Data(json.stdout.utf8))
        #expect(decoded.brokers.map(\.id).sorted() == [1, 2, 3])
        #expect(Set(decoded.topics.map(\.name)) == ["topic-0", "topic-1"])
    }

    struct DescribeOutput: Decodable {
        struct Broker: Decodable { var id: Int32 }
        struct Topic: Decodable { var name: String }
        var brokers: [Broker]
        var topics: [Topic]
    }
}
