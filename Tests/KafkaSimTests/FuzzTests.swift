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
            case .noResponse, .deferred: break
            }
        }
        #expect(answered > 0)
        #expect(closed > 0)
    }

    /// The client APIs (Fetch, ListOffsets, OffsetForLeaderEpoch, InitProducerId, the group APIs, idempotent
    /// Produce), valid and mutated, against a cluster with data, a group and its offsets topic: every frame gets an
    /// answer, a close or a deferred answer whose poll runs too, never a crash, and the broker still serves.
    @Test func fuzzedClientRequestsNeverCrashTheSimulator() async throws {
        let sim = KafkaSimulator(cluster: try cluster3(minIsr: 1, partitions: 3))
        let rng = SplitMix64(seed: 7)
        // State for the requests to reach deep: records on every partition, the offsets topic, a group.
        let (leaders, coordinator) = sim.withCluster { c in
            for p in 0..<3 {
                _ = c.produce(
                    broker: c.partitions[p].leader, topic: "topic-0", partition: Int32(p), acks: 1, records: 5,
                    bytes: 500)
            }
            _ = c.findCoordinator(group: "g")
            return (c.partitions.prefix(3).map(\.leader), c.coordinator(of: "g"))
        }
        sim.withCluster { c in c.advance(to: c.now + 1000) }
        let idempotent = RecordBatchHeader.build(
            records: [.init(value: [1, 2, 3])], timestamp: 1, producerId: 0, producerEpoch: 0, baseSequence: 0)
        let topic = "topic-0"
        func frame<R: KafkaRequest>(_ r: R, _ v: Int16) throws -> [UInt8] {
            Array(try KafkaFrame.request(r, version: v, correlationId: 1, clientId: "f").dropFirst(4))
        }
        var valid: [(node: Int32, frame: [UInt8])] = [
            (
                leaders[0],
                try frame(
                    FetchRequest(
                        maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20,
                        topics: [
                            .init(
                                topic: topic,
                                partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])
                        ]), 11)
            ),
            (
                leaders[0],
                try frame(
                    FetchRequest(
                        maxWaitMs: 50, minBytes: 1 << 20, maxBytes: 1 << 20,
                        topics: [
                            .init(
                                topic: topic, partitions: [.init(partition: 0, fetchOffset: 2, partitionMaxBytes: 10)])
                        ]), 12)
            ),
            (
                leaders[1],
                try frame(
                    ListOffsetsRequest(
                        replicaId: -1,
                        topics: [.init(name: topic, partitions: [.init(partitionIndex: 1, timestamp: -2)])]), 7)
            ),
            (
                leaders[1],
                try frame(
                    OffsetForLeaderEpochRequest(
                        replicaId: -1,
                        topics: [
                            .init(
                                topic: topic, partitions: [.init(partition: 1, currentLeaderEpoch: -1, leaderEpoch: 0)])
                        ]), 4)
            ),
            (leaders[2], try frame(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60000), 4)),
            (
                leaders[2],
                try frame(
                    ProduceRequest(
                        acks: -1, timeoutMs: 1,
                        topicData: [.init(name: topic, partitionData: [.init(index: 2, records: idempotent)])]), 9)
            ),
            (1, try frame(FindCoordinatorRequest(key: "g"), 3)),
            (1, try frame(FindCoordinatorRequest(keyType: 0, coordinatorKeys: ["g", "h"]), 4)),
            (
                coordinator,
                try frame(
                    JoinGroupRequest(
                        groupId: "g", sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: "",
                        protocolType: "consumer",
                        protocols: [.init(name: "range", metadata: [0, 1])]), 5)
            ),
            (
                coordinator,
                try frame(
                    SyncGroupRequest(
                        groupId: "g", generationId: 1, memberId: "m",
                        assignments: [.init(memberId: "m", assignment: [1])]), 3)
            ),
            (coordinator, try frame(HeartbeatRequest(groupId: "g", generationId: 1, memberId: "m"), 3)),
            (coordinator, try frame(LeaveGroupRequest(groupId: "g", members: [.init(memberId: "m")]), 4)),
            (
                coordinator,
                try frame(
                    OffsetCommitRequest(
                        groupId: "g", generationIdOrMemberEpoch: -1, memberId: "",
                        topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, committedOffset: 3)])]), 7)
            ),
            (coordinator, try frame(OffsetFetchRequest(groupId: "g", topics: nil), 7)),
            (coordinator, try frame(OffsetFetchRequest(groups: [.init(groupId: "g", topics: nil)]), 8)),
            (coordinator, try frame(ListGroupsRequest(), 4)),
            (coordinator, try frame(DescribeGroupsRequest(groups: ["g", "x"]), 5)),
        ]
        valid.append((1, valid[0].frame))
        let frames = valid
        // 20 000 frames take seconds on a loaded machine: off the cooperative pool, which other tests need.
        let (answered, closed, deferred) = try await onThread {
            var rng = rng
            var answered = 0
            var closed = 0
            var deferred = 0
            for i in 0..<20_000 {
                let (node, original) = frames[i % frames.count]
                var f = original
                if i >= frames.count {
                    for _ in 0..<(1 + rng.next() % 4) where !f.isEmpty {
                        f[Int(rng.next() % UInt64(f.count))] = UInt8(truncatingIfNeeded: rng.next())
                    }
                    if rng.next() % 3 == 0 { f = Array(f.prefix(Int(rng.next() % UInt64(f.count + 1)))) }
                }
                switch KafkaProtocolResponder.respond(sim, node: node, frame: f) {
                case .respond: answered += 1
                case .close: closed += 1
                case .noResponse: break
                case .deferred(let later):
                    deferred += 1
                    later.wait { _ in }
                }
            }
            sim.tick()
            return (answered, closed, deferred)
        }
        #expect(answered > 1000)
        #expect(closed > 1000)
        #expect(deferred > 0)
        // Still serving: the data is there and the group coordinator answers.
        let fetch = KafkaProtocolResponder.respond(sim, node: leaders[0], frame: valid[0].frame)
        guard case .respond(let bytes) = fetch else {
            Issue.record("the Fetch after fuzzing got \(fetch)")
            return
        }
        let (_, response) = try KafkaFrame.decodeResponse(
            FetchResponse.self, version: 11, body: Array(bytes.dropFirst(4)))
        #expect(response.responses.first?.partitions.first?.errorCode == 0)
        #expect(try RecordBatchHeader.parse(response.responses[0].partitions[0].records ?? []).count >= 1)
    }

    @Test func unknownApiKeyAndOversizedFramesCloseTheConnection() async throws {
        let sim = try await RunningSim.start(try cluster3())
        // API key 21 (DeleteRecords) is not served: closed.
        var c = try sim.client(1)
        var frame = try KafkaFrame.request(ApiVersionsRequest(), version: 0, correlationId: 1, clientId: "t")
        frame[4] = 0
        frame[5] = 21
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
