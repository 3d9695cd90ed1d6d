import Foundation
import KafkaModel
import KafkaWire
import Testing

@testable import KafkaSim

@Suite(.serialized) struct BadInputTests {
    /// Random and mutated frames straight into the responder: every one gets an answer or a close, never a crash.
    @Test func fuzzedFramesNeverCrashTheResponder() throws {
        let sim = KafkaSimulator(cluster: try cluster3())
        var rng = SplitMix64(seed: 42)
        var valid: [[UInt8]] = []
        valid.append(try KafkaFrame.request(MetadataRequest(topics: nil), version: 12, correlationId: 1, clientId: "f"))
        valid.append(try KafkaFrame.request(ApiVersionsRequest(), version: 3, correlationId: 1, clientId: "f"))
        valid.append(
            try KafkaFrame.request(
                ProduceRequest(
                    acks: -1, timeoutMs: 1,
                    topicData: [.init(name: "topic-0", partitionData: [.init(index: 0, records: batch(records: 2))])]),
                version: 9, correlationId: 1, clientId: "f"))
        valid.append(
            try KafkaFrame.request(
                DescribeConfigsRequest(resources: [.init(resourceType: 4, resourceName: "1", configurationKeys: nil)]),
                version: 4,
                correlationId: 1, clientId: "f"))
        valid.append(
            try KafkaFrame.request(
                CreateTopicsRequest(topics: [.init(name: "x", numPartitions: 2, replicationFactor: 2)]), version: 7,
                correlationId: 1,
                clientId: "f"))
        var answered = 0
        var closed = 0
        for i in 0..<20_000 {
            var frame: [UInt8]
            if i % 4 == 0 {
                frame = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                frame = Array(valid[i % valid.count].dropFirst(4))
                for _ in 0..<(1 + rng.next() % 4) where !frame.isEmpty {
                    frame[Int(rng.next() % UInt64(frame.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                if rng.next() % 3 == 0 { frame = Array(frame.prefix(Int(rng.next() % UInt64(frame.count + 1)))) }
            }
            switch KafkaProtocolResponder.respond(sim, node: 1, frame: frame) {
            case .respond: answered += 1
            case .close: closed += 1
            case .noResponse: break
            }
        }
        #expect(answered > 0)
        #expect(closed > 0)
    }

    @Test func unknownApiKeyAndOversizedFramesCloseTheConnection() async throws {
        let sim = try await RunningSim.start(try cluster3())
        // API key 1 (Fetch) is not served: closed.
        var c = try sim.client(1)
        var frame = try KafkaFrame.request(ApiVersionsRequest(), version: 0, correlationId: 1, clientId: "t")
        frame[4] = 0
        frame[5] = 1
        c.sendRaw(frame)
        #expect(c.isClosedByPeer())
        // API key 999 does not exist.
        c = try sim.client(1)
        frame[4] = 0x03
        frame[5] = 0xE7
        c.sendRaw(frame)
        #expect(c.isClosedByPeer())
        // A size above socket.request.max.bytes (100 MiB).
        c = try sim.client(1)
        c.sendRaw([0x06, 0x40, 0x00, 0x01, 0, 0])
        #expect(c.isClosedByPeer())
        // A negative size.
        c = try sim.client(1)
        c.sendRaw([0xFF, 0xFF, 0xFF, 0xF0])
        #expect(c.isClosedByPeer())
        // Garbage that parses as a frame with a truncated body.
        c = try sim.client(1)
        c.sendRaw([0, 0, 0, 3, 0, 3, 0])
        #expect(c.isClosedByPeer())
        // Unsupported version of a served API: closed, as Kafka does for all but ApiVersions.
        c = try sim.client(1)
        var md = try KafkaFrame.request(MetadataRequest(topics: nil), version: 12, correlationId: 1, clientId: "t")
        md[7] = 40
        c.sendRaw(md)
        #expect(c.isClosedByPeer())
        // The broker still serves.
        #expect(try sim.client(1).request(ApiVersionsRequest(), version: 0).errorCode == 0)
        await sim.stop()
    }

    @Test func invalidModelFilesNameTheProblem() throws {
        func load(_ json: String) throws {
            var topology = SimTopology()
            do { topology.model = try ClusterModelFile.decode(Array(json.utf8)) } catch {
                throw SimTopologyError(error.description)
            }
            try topology.validate()
        }
        let cases: [(String, String)] = [
            (#"{"brokers": [], "topics": []}"#, "model field brokers: no brokers"),
            (
                #"{"brokers": [{"id": 1}, {"id": 1}], "topics": []}"#,
                "model field brokers[1].id: broker 1 appears twice"
            ),
            (
                #"{"brokers": [{"id": 1, "state": "zombie"}], "topics": []}"#,
                "model field brokers[0].state: must be one of alive, dead, new, removing"
            ),
            (
                #"{"brokers": [{"id": 1}], "topics": [{"name": "t", "partitions": [{"id": 0, "replicas": [1, 2]}]}]}"#,
                "model field topics[0].partitions[0].replicas: broker 2 is not in brokers"
            ),
            (
                #"{"brokers": [{"id": 1}], "topics": [{"name": "t", "partitions": [{"id": 1, "replicas": [1]}]}]}"#,
                "model field topics[0].partitions: partition ids must be 0..<1 with none missing or repeated"
            ),
            (
                #"{"brokers": [{"id": 1}, {"id": 2}], "topics": [{"name": "t", "partitions": [{"id": 0, "replicas": [1], "leader": 2}]}]}"#,
                "model field topics[0].partitions[0].leader: broker 2 is not one of the replicas"
            ),
        ]
        for (json, message) in cases {
            #expect { try load(json) } throws: { ($0 as? SimTopologyError)?.message == message }
        }
    }

    @Test func modelFileLoadsBrokersTopicsSizesAndDeadBrokers() throws {
        let json = #"""
            {"brokers": [{"id": 1, "rack": "az-a", "cluster": "k8s-east", "state": "alive", "capacity": {"disk": 1000}},
                         {"id": 2, "rack": "az-b", "state": "alive"}, {"id": 3, "rack": "az-c", "state": "dead"}],
             "topics": [{"name": "orders", "minInSyncReplicas": 2,
                         "partitions": [{"id": 0, "replicas": [1, 2, 3], "leader": 2, "load": {"disk": 10, "networkIn": 1}}]}]}
            """#
        var topo = SimTopology()
        topo.model = try ClusterModelFile.decode(Array(json.utf8))
        var c = try topo.build()
        #expect(c.node(1)!.cluster == "k8s-east")
        #expect(c.node(3)!.state == .stopped)
        #expect(c.partitions[0].leader == 2)
        #expect(c.partitions[0].isr == [1, 2])
        #expect(c.minInsyncReplicas(topic: 0) == 2)
        #expect(c.size(of: 0) == 10 * 1_048_576)
        c.advance(to: 1000)
        #expect(c.size(of: 0) == 10 * 1_048_576 + 1024)
        #expect(c.replicaSize(partition: 0, broker: 3) == 10 * 1_048_576)
        #expect(c.diskCapacity(of: 1) == Int64(1000 * 1_048_576))
    }
}
