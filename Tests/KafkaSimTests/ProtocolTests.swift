import BallastTestSupport
import Foundation
import KafkaWire
import Testing

@testable import KafkaSim

func cluster3(minIsr: Int = 2, partitions: Int = 3) throws -> SimCluster {
    var topo = SimTopology()
    topo.brokers = 3
    topo.racks = 3
    topo.topics = 1
    topo.partitions = partitions
    topo.minInsyncReplicas = minIsr
    return try topo.build()
}

@Suite(.serialized) struct ProtocolTests {
    @Test func apiVersionsListsTheServedApisAndRejectsUnknownVersions() async throws {
        let sim = try await RunningSim.start(try cluster3())
        defer { Task { await sim.stop() } }
        let c = try sim.client(1)
        let resp = try c.request(ApiVersionsRequest(clientSoftwareName: "t", clientSoftwareVersion: "1"), version: 3)
        #expect(resp.errorCode == 0)
        let keys = Set(resp.apiKeys.map(\.apiKey))
        #expect(keys == Set(KafkaProtocolResponder.supported.map(\.0.rawValue)))
        #expect(keys.contains(ApiKey.fetch.rawValue))
        #expect(!keys.contains(ApiKey.addPartitionsToTxn.rawValue))
        #expect(resp.apiKeys.first { $0.apiKey == ApiKey.describeConfigs.rawValue }?.minVersion == 1)

        // A version above what the broker knows: UNSUPPORTED_VERSION in a v0 answer (KIP-511).
        var frame = try KafkaFrame.request(ApiVersionsRequest(), version: 0, correlationId: 7, clientId: "t")
        frame[6] = 0
        frame[7] = 99
        c.sendRaw(frame)
        let body = try #require(c.readFrame())
        let (cid, v0) = try KafkaFrame.decodeResponse(ApiVersionsResponse.self, version: 0, body: body)
        #expect(cid == 7)
        #expect(v0.errorCode == 35)
        #expect(!v0.apiKeys.isEmpty)
        await sim.stop()
    }

    @Test func metadataReportsRacksControllerAndOfflineReplicas() async throws {
        let clock = ManualClock()
        let sim = try await RunningSim.start(try cluster3(minIsr: 1, partitions: 1), timeScale: 10, clock: clock)
        let c = try sim.client(1)
        var md = try c.request(MetadataRequest(topics: nil), version: 12)
        #expect(md.brokers.map(\.nodeId).sorted() == [1, 2, 3])
        #expect(Set(md.brokers.compactMap(\.rack)) == ["rack-a", "rack-b", "rack-c"])
        #expect(md.controllerId == 1)
        #expect(md.brokers.first { $0.nodeId == 2 }?.port == Int32(sim.port(2)))
        #expect(md.topics.first?.name == "topic-0")
        #expect(md.topics.first?.partitions.first?.isrNodes.count == 3)

        // A crashed broker: still in the ISR until fenced (9 s cluster time, 0.9 s here), then offline.
        sim.simulator.withCluster { try? $0.kill(3) }
        clock.advance(by: .milliseconds(800))
        md = try c.request(MetadataRequest(topics: nil), version: 12)
        #expect(md.topics[0].partitions[0].isrNodes.contains(3))
        clock.advance(by: .milliseconds(200))
        md = try c.request(MetadataRequest(topics: nil), version: 12)
        #expect(!md.topics[0].partitions[0].isrNodes.contains(3))
        #expect(md.topics[0].partitions[0].offlineReplicas == [3])
        #expect(!md.brokers.map(\.nodeId).contains(3))
        // Its port refuses service.
        let dead = try? TestClient(port: sim.port(3))
        #expect(dead.map { $0.isClosedByPeer() } ?? true)

        let unknown = try c.request(
            MetadataRequest(topics: [.init(name: "nope")], allowAutoTopicCreation: false), version: 12)
        #expect(unknown.topics.first?.errorCode == 3)
        await sim.stop()
    }

    @Test func acksAllProduceGetsNotEnoughReplicasUnderMinIsrAndNotLeaderAtAFollower() async throws {
        let sim = try await RunningSim.start(try cluster3(minIsr: 2, partitions: 1))
        let (leader, followers) = sim.simulator.withCluster { c in
            (c.partitions[0].leader, c.partitions[0].replicas.filter { $0 != c.partitions[0].leader })
        }
        let produce = ProduceRequest(
            acks: -1, timeoutMs: 1000,
            topicData: [.init(name: "topic-0", partitionData: [.init(index: 0, records: batch(records: 5))])])
        let atLeader = try sim.client(leader)
        var resp = try atLeader.request(produce, version: 9)
        #expect(resp.responses[0].partitionResponses[0].errorCode == 0)
        #expect(resp.responses[0].partitionResponses[0].baseOffset == 0)
        resp = try atLeader.request(produce, version: 9)
        #expect(resp.responses[0].partitionResponses[0].baseOffset == 5)

        resp = try sim.client(followers[0]).request(produce, version: 9)
        #expect(resp.responses[0].partitionResponses[0].errorCode == 6)

        sim.simulator.withCluster { c in
            try? c.stop(followers[0])
            try? c.stop(followers[1])
        }
        resp = try atLeader.request(produce, version: 9)
        #expect(resp.responses[0].partitionResponses[0].errorCode == 19)
        let stats = sim.simulator.withCluster { $0.stats.produceByError }
        #expect(stats[.notEnoughReplicas] == 1)
        #expect(stats[KafkaErrorCode.none] == 2)
        await sim.stop()
    }

    @Test func throttledReassignmentOverTheWireReportsProgressAndFinishes() async throws {
        var topo = SimTopology()
        topo.brokers = 4
        topo.topics = 0
        var cluster = try topo.build()
        try cluster.createTopic(
            name: "big", partitions: 1, replicationFactor: 3, assignment: [[1, 2, 3]], baseBytes: [100_000_000])
        // Time scale 20: the 10 s (cluster) copy at 10 MB/s takes 0.5 s of the test's clock.
        let clock = ManualClock()
        let sim = try await RunningSim.start(cluster, timeScale: 20, clock: clock)
        let c4 = try sim.client(4)
        let set = IncrementalAlterConfigsRequest(resources: [
            .init(
                resourceType: 4, resourceName: "4",
                configs: [.init(name: "follower.replication.throttled.rate", configOperation: 0, value: "10000000")])
        ])
        #expect(try c4.request(set, version: 1).responses[0].errorCode == 0)
        let c1 = try sim.client(1)
        let topicThrottle = IncrementalAlterConfigsRequest(resources: [
            .init(
                resourceType: 2, resourceName: "big",
                configs: [.init(name: "follower.replication.throttled.replicas", configOperation: 0, value: "0:4")])
        ])
        #expect(try c1.request(topicThrottle, version: 1).responses[0].errorCode == 0)
        let alter = AlterPartitionReassignmentsRequest(topics: [
            .init(name: "big", partitions: [.init(partitionIndex: 0, replicas: [4, 2, 3])])
        ])
        let altered = try c1.request(alter, version: 0)
        #expect(altered.errorCode == 0)
        #expect(altered.responses[0].partitions[0].errorCode == 0)

        let listed = try c1.request(ListPartitionReassignmentsRequest(topics: nil), version: 0)
        #expect(listed.topics.first?.partitions.first?.addingReplicas == [4])
        #expect(listed.topics.first?.partitions.first?.removingReplicas == [1])

        clock.advance(by: .milliseconds(200))
        let dirs = try c4.request(DescribeLogDirsRequest(topics: nil), version: 4)
        let size = dirs.results.first?.topics.first?.partitions.first?.partitionSize ?? -1
        #expect(size > 0 && size < 100_000_000, "the new replica is partly copied, not \(size)")

        // Not done before 10 s of cluster time (0.5 s of the clock at scale 20), done soon after.
        clock.advance(by: .milliseconds(240))
        #expect(try c1.request(ListPartitionReassignmentsRequest(topics: nil), version: 0).topics.isEmpty == false)
        clock.advance(by: .milliseconds(100))
        #expect(try c1.request(ListPartitionReassignmentsRequest(topics: nil), version: 0).topics.isEmpty)
        let md = try c1.request(MetadataRequest(topics: [.init(name: "big")]), version: 12)
        #expect(md.topics[0].partitions[0].replicaNodes == [4, 2, 3])
        await sim.stop()
    }

    @Test func configsOverTheWire() async throws {
        let sim = try await RunningSim.start(try cluster3())
        let c = try sim.client(2)
        let readOnly = try c.request(
            IncrementalAlterConfigsRequest(resources: [
                .init(
                    resourceType: 4, resourceName: "2",
                    configs: [.init(name: "log.dirs", configOperation: 0, value: "/x")])
            ]), version: 1)
        #expect(readOnly.responses[0].errorCode == 42)
        #expect(readOnly.responses[0].errorMessage == "Cannot update these configs dynamically: Set(log.dirs)")
        let ok = try c.request(
            AlterConfigsRequest(resources: [
                .init(resourceType: 4, resourceName: "", configs: [.init(name: "log.retention.ms", value: "1234")])
            ]), version: 2)
        #expect(ok.responses[0].errorCode == 0)
        let described = try c.request(
            DescribeConfigsRequest(
                resources: [
                    .init(resourceType: 4, resourceName: "2", configurationKeys: ["log.retention.ms", "log.dirs"])
                ], includeSynonyms: true),
            version: 4)
        let byName = Dictionary(uniqueKeysWithValues: described.results[0].configs.map { ($0.name, $0) })
        #expect(byName["log.retention.ms"]?.value == "1234")
        #expect(byName["log.retention.ms"]?.configSource == 3)
        #expect(byName["log.dirs"]?.readOnly == true)
        #expect(byName["log.retention.ms"]?.synonyms.first?.source == 3)
        let wrongBroker = try c.request(
            DescribeConfigsRequest(resources: [.init(resourceType: 4, resourceName: "1", configurationKeys: nil)]),
            version: 4)
        #expect(wrongBroker.results[0].errorCode == 42)
        await sim.stop()
    }

    @Test func adminApisAnswer() async throws {
        let sim = try await RunningSim.start(try cluster3())
        let c = try sim.client(1)
        let created = try c.request(
            CreateTopicsRequest(topics: [
                .init(
                    name: "new", numPartitions: 4, replicationFactor: 3,
                    configs: [.init(name: "min.insync.replicas", value: "2")])
            ]),
            version: 7)
        #expect(created.topics[0].errorCode == 0)
        #expect(created.topics[0].numPartitions == 4)
        let again = try c.request(
            CreateTopicsRequest(topics: [.init(name: "new", numPartitions: 1, replicationFactor: 1)]), version: 7)
        #expect(again.topics[0].errorCode == 36)
        let tooMany = try c.request(
            CreateTopicsRequest(topics: [.init(name: "rf9", numPartitions: 1, replicationFactor: 9)]), version: 7)
        #expect(tooMany.topics[0].errorCode == 38)
        let grown = try c.request(
            CreatePartitionsRequest(topics: [.init(name: "new", count: 6, assignments: nil)]), version: 3)
        #expect(grown.results[0].errorCode == 0)
        let elect = try c.request(
            ElectLeadersRequest(electionType: 0, topicPartitions: [.init(topic: "new", partitions: [0])]), version: 2)
        #expect(elect.replicaElectionResults[0].partitionResult[0].errorCode == 84)
        let cluster = try c.request(DescribeClusterRequest(), version: 1)
        #expect(cluster.brokers.count == 3)
        let controllers = try c.request(DescribeClusterRequest(endpointType: 2), version: 1)
        #expect(controllers.controllerId == 1)
        let quorum = try c.request(
            DescribeQuorumRequest(topics: [
                .init(topicName: "__cluster_metadata", partitions: [.init(partitionIndex: 0)])
            ]), version: 2)
        #expect(quorum.topics[0].partitions[0].leaderId == 1)
        #expect(quorum.topics[0].partitions[0].currentVoters.map(\.replicaId) == [1, 2, 3])
        let deleted = try c.request(DeleteTopicsRequest(topicNames: ["new"]), version: 5)
        #expect(deleted.responses[0].errorCode == 0)
        await sim.stop()
    }

    @Test func controlApiStopsKillsStartsAddsAndReportsStats() async throws {
        let clock = ManualClock()
        let sim = try await RunningSim.start(try cluster3(), timeScale: 100, clock: clock)
        let port = sim.controlPort
        var r = try await http("GET", port: port, "/v1/brokers")
        #expect(r.status == 200)
        #expect(r.body.contains("\"rack\":\"rack-a\""))
        r = try await http("POST", port: port, "/v1/brokers/2/stop")
        #expect(r.status == 200)
        #expect(r.body.contains("\"state\":\"stopping\""))
        r = try await http("POST", port: port, "/v1/brokers/2/stop")
        #expect(r.status == 409)
        r = try await http("POST", port: port, "/v1/brokers/9/kill")
        #expect(r.status == 404)
        r = try await http("POST", port: port, "/v1/brokers", body: "{\"rack\":\"rack-b\",\"cluster\":\"k8s-2\"}")
        #expect(r.status == 200)
        #expect(r.body.contains("\"id\":4"))
        // Registered after its start-up delay (6 s of cluster time, 60 ms of the clock at scale 100).
        clock.advance(by: .milliseconds(100))
        #expect(try sim.client(4).request(ApiVersionsRequest(), version: 0).errorCode == 0)
        r = try await http("DELETE", port: port, "/v1/brokers/4")
        #expect(r.status == 204)
        r = try await http("GET", port: port, "/v1/stats")
        #expect(r.status == 200)
        #expect(r.body.contains("\"underReplicated\":3"))
        await sim.stop()
    }
}
