import Foundation
import KafkaWire
import Testing

@testable import KafkaSim

/// The client frames captured from real Kafka 4.1 (Tests/KafkaWireTests/Fixtures/real-kafka-4.1, MANIFEST.md),
/// replayed against the simulator in the same state: the answers must be Kafka's, field for field.
@Suite(.serialized) struct GoldenReplayTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../KafkaWireTests/Fixtures/real-kafka-4.1").standardizedFileURL
    static let apiVersions = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/real-kafka-4.1/api-versions.json").standardizedFileURL

    static func frame(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    /// A fixture request sent as it was captured; the answer decoded in its version.
    static func replay<R: KafkaResponse>(_ name: String, _ type: R.Type, on client: TestClient) throws -> R {
        let body = try frame(name)
        let (header, _) = try KafkaFrame.decodeRequestHeader(body)
        return try send(body, type, version: header.apiVersion, on: client)
    }

    static func send<R: KafkaResponse>(_ body: [UInt8], _ type: R.Type, version: Int16, on client: TestClient) throws
        -> R
    {
        let size = UInt32(body.count)
        client.sendRaw(
            [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + body)
        guard let answer = client.readFrame() else { throw TestError("no answer") }
        return try KafkaFrame.decodeResponse(R.self, version: version, body: answer).response
    }

    static func expected<R: KafkaResponse>(_ name: String, _ type: R.Type) throws -> R {
        let (header, _) = try KafkaFrame.decodeRequestHeader(
            try frame(name.replacingOccurrences(of: "Response", with: "Request")))
        return try KafkaFrame.decodeResponse(R.self, version: header.apiVersion, body: try frame(name)).response
    }

    /// `fixture-topic` as on the harness: 12 partitions, RF 3, min ISR 2; here all led by broker 1.
    static func cluster() throws -> SimCluster {
        var topo = SimTopology()
        topo.brokers = 3
        topo.topics = 0
        var c = try topo.build()
        try c.createTopic(
            name: "fixture-topic", partitions: 12, replicationFactor: 3, configs: ["min.insync.replicas": "2"],
            assignment: Array(repeating: [1, 2, 3], count: 12))
        return c
    }

    @Test func theClientApisAreAdvertisedInKafka41sVersionsCutToTheSharedJson() throws {
        struct Table: Decodable {
            struct Api: Decodable {
                struct Range: Decodable {
                    var min: Int16
                    var max: Int16
                }
                var apiKey: Int16
                var broker41: Range?
            }
            var apis: [Api]
        }
        let table = try JSONDecoder().decode(Table.self, from: Data(contentsOf: Self.apiVersions))
        let kafka = Dictionary(uniqueKeysWithValues: table.apis.compactMap { a in a.broker41.map { (a.apiKey, $0) } })
        let clientApis: [ApiKey] = [
            .fetch, .listOffsets, .offsetForLeaderEpoch, .initProducerId, .findCoordinator, .joinGroup, .syncGroup,
            .heartbeat, .leaveGroup, .offsetCommit, .offsetFetch, .listGroups, .describeGroups,
        ]
        for (key, range) in KafkaProtocolResponder.supported {
            let real = try #require(kafka[key.rawValue], "\(key) is not served by Kafka 4.1")
            #expect(range.lowerBound == real.min, "\(key) min")
            #expect(range.upperBound == min(real.max, key.validVersions.upperBound), "\(key) max")
        }
        let served = Set(KafkaProtocolResponder.supported.map(\.0))
        for key in clientApis { #expect(served.contains(key), "\(key) is not served") }
        // Transactions, share groups and KIP-848 consumer groups are not modelled, so not advertised.
        for key: ApiKey in [.addPartitionsToTxn, .endTxn, .txnOffsetCommit, .consumerGroupHeartbeat, .shareFetch] {
            #expect(!served.contains(key))
        }
    }

    @Test func kcatsProduceListOffsetsAndFetchGetKafkasAnswers() async throws {
        let sim = try await RunningSim.start(try Self.cluster())
        defer { sim.embedded.cancel() }
        let c = try sim.client(1)
        let produced = try Self.replay("ProduceRequest-v7.bin", ProduceResponse.self, on: c)
        #expect(produced == (try Self.expected("ProduceResponse-v7.bin", ProduceResponse.self)))
        let listed = try Self.replay("ListOffsetsRequest-v2.bin", ListOffsetsResponse.self, on: c)
        #expect(listed == (try Self.expected("ListOffsetsResponse-v2.bin", ListOffsetsResponse.self)))
        // librdkafka fetches read_committed: an empty (not null) aborted-transactions list, the batch as written.
        let fetched = try Self.replay("FetchRequest-v11.bin", FetchResponse.self, on: c)
        #expect(fetched == (try Self.expected("FetchResponse-v11.bin", FetchResponse.self)))
    }

    @Test func theJavaConsumersGroupRequestsGetKafkasAnswers() async throws {
        let sim = try await RunningSim.start(try Self.cluster(), timeScale: 100)
        defer { sim.embedded.cancel() }
        let any = try sim.client(1)
        // The first FindCoordinator creates __consumer_offsets and answers COORDINATOR_NOT_AVAILABLE.
        let first = try Self.replay("FindCoordinatorRequest-v6.bin", FindCoordinatorResponse.self, on: any)
        #expect(first == (try Self.expected("FindCoordinatorResponse-v6.bin", FindCoordinatorResponse.self)))
        let coordinator = sim.simulator.withCluster { $0.coordinator(of: "fixture-group") }
        let co = try sim.client(coordinator)

        // ListOffsets v10 (earliest, leader epoch 0) before the group: offset 0 in epoch 0.
        let listed = try Self.replay("ListOffsetsRequest-v10.bin", ListOffsetsResponse.self, on: any)
        #expect(listed == (try Self.expected("ListOffsetsResponse-v10.bin", ListOffsetsResponse.self)))

        // JoinGroup v9 without a member id: MEMBER_ID_REQUIRED with a "console-consumer-<uuid>" id.
        var joined = try Self.retryWhileLoading {
            try Self.replay("JoinGroupRequest-v9.bin", JoinGroupResponse.self, on: co)
        }
        var expectedJoin = try Self.expected("JoinGroupResponse-v9.bin", JoinGroupResponse.self)
        #expect(joined.memberId.hasPrefix("console-consumer-") && joined.memberId.count == expectedJoin.memberId.count)
        expectedJoin.memberId = joined.memberId
        #expect(joined == expectedJoin)

        // The join with that id (not captured) completes after the initial delay; then the captured SyncGroup,
        // OffsetFetch, OffsetCommit and LeaveGroup, with the captured member id replaced by ours.
        let member = joined.memberId
        let (header, capturedJoin) = try KafkaFrame.decodeRequest(
            JoinGroupRequest.self, body: try Self.frame("JoinGroupRequest-v9.bin"))
        var join = capturedJoin
        join.memberId = member
        joined = try Self.send(
            Array(try KafkaFrame.request(join, version: 9, correlationId: 9, clientId: header.clientId).dropFirst(4)),
            JoinGroupResponse.self, version: 9, on: co)
        #expect(joined.errorCode == 0 && joined.generationId == 1 && joined.leader == member)
        #expect(joined.protocolType == "consumer" && joined.protocolName == "range")

        let captured = "console-consumer-cea1f5d5-62a3-40e0-88f5-a31d95f87ff9"
        func ours(_ name: String) throws -> [UInt8] {
            let bytes = try Self.frame(name)
            let from = Array(captured.utf8)
            let to = Array(member.utf8)
            #expect(from.count == to.count)
            var out = bytes
            var i = 0
            while i + from.count <= out.count {
                if Array(out[i..<i + from.count]) == from { out.replaceSubrange(i..<i + from.count, with: to) }
                i += 1
            }
            return out
        }
        let synced = try Self.send(try ours("SyncGroupRequest-v5.bin"), SyncGroupResponse.self, version: 5, on: co)
        #expect(synced == (try Self.expected("SyncGroupResponse-v5.bin", SyncGroupResponse.self)))
        let fetched = try Self.replay("OffsetFetchRequest-v9.bin", OffsetFetchResponse.self, on: co)
        #expect(fetched == (try Self.expected("OffsetFetchResponse-v9.bin", OffsetFetchResponse.self)))
        let committed = try Self.send(
            try ours("OffsetCommitRequest-v9.bin"), OffsetCommitResponse.self, version: 9, on: co)
        #expect(committed == (try Self.expected("OffsetCommitResponse-v9.bin", OffsetCommitResponse.self)))
        var left = try Self.send(try ours("LeaveGroupRequest-v5.bin"), LeaveGroupResponse.self, version: 5, on: co)
        left.members = left.members.map {
            var m = $0; m.memberId = captured; return m
        }
        #expect(left == (try Self.expected("LeaveGroupResponse-v5.bin", LeaveGroupResponse.self)))
    }

    /// A group request right after the offsets topic was created may meet its coordinator still loading.
    static func retryWhileLoading(_ body: () throws -> JoinGroupResponse) throws -> JoinGroupResponse {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let r = try body()
            if r.errorCode != KafkaErrorCode.coordinatorLoadInProgress.rawValue || ContinuousClock.now > deadline {
                return r
            }
        }
    }
}
