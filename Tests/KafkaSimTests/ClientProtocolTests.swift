import Foundation
import KafkaWire
import Testing

@testable import KafkaSim

/// The client APIs over TCP with KafkaWire: long-polling Fetch, fetch errors, idempotent Produce, a two-member
/// group, and the consumer figures of the control API.
@Suite(.serialized) struct ClientProtocolTests {
    static func fetch(_ offset: Int64, partition: Int32 = 0, maxWaitMs: Int32 = 0, epoch: Int32 = -1) -> FetchRequest {
        FetchRequest(
            maxWaitMs: maxWaitMs, minBytes: 1, maxBytes: 1 << 20,
            topics: [
                .init(
                    topic: "topic-0",
                    partitions: [
                        .init(
                            partition: partition, currentLeaderEpoch: epoch, fetchOffset: offset,
                            partitionMaxBytes: 1 << 20)
                    ])
            ])
    }

    static func produce(_ count: Int, partition: Int32 = 0) -> ProduceRequest {
        ProduceRequest(
            acks: -1, timeoutMs: 1000,
            topicData: [
                .init(name: "topic-0", partitionData: [.init(index: partition, records: batch(records: count))])
            ])
    }

    @Test func aFetchWaitsForDataAndTheConnectionAnswersInOrder() async throws {
        let sim = try await RunningSim.start(try cluster3(minIsr: 1, partitions: 1))
        defer { sim.embedded.cancel() }
        let leader = sim.simulator.withCluster { $0.partitions[0].leader }
        let consumer = try sim.client(leader)
        // A long wait (60 s of cluster time) for data that is not there yet; an ApiVersions behind it.
        consumer.sendRaw(
            try KafkaFrame.request(Self.fetch(0, maxWaitMs: 60_000), version: 11, correlationId: 1, clientId: "c"))
        consumer.sendRaw(try KafkaFrame.request(ApiVersionsRequest(), version: 3, correlationId: 2, clientId: "c"))
        let producer = try sim.client(leader)
        #expect(try producer.request(Self.produce(3), version: 9).responses[0].partitionResponses[0].errorCode == 0)
        let first = try #require(consumer.readFrame())
        let (cid, fetched) = try KafkaFrame.decodeResponse(FetchResponse.self, version: 11, body: first)
        #expect(cid == 1)
        let records = try RecordBatchHeader.parse(fetched.responses[0].partitions[0].records ?? [])
        #expect(records.map(\.recordCount) == [3])
        #expect(fetched.responses[0].partitions[0].highWatermark == 3)
        let second = try #require(consumer.readFrame())
        #expect(try KafkaFrame.decodeResponse(ApiVersionsResponse.self, version: 3, body: second).correlationId == 2)

        // With nothing new, the answer comes empty when the wait ends.
        let empty = try consumer.request(Self.fetch(3, maxWaitMs: 100), version: 11)
        #expect(empty.responses[0].partitions[0].errorCode == 0)
        #expect(empty.responses[0].partitions[0].records == [])
    }

    @Test func fetchErrorsAreKafkas() async throws {
        let sim = try await RunningSim.start(try cluster3(minIsr: 1, partitions: 1))
        defer { sim.embedded.cancel() }
        let (leader, follower, epoch, topicId) = sim.simulator.withCluster { c in
            let p = c.partitions[0]
            return (p.leader, p.replicas.first { $0 != p.leader }!, p.leaderEpoch, KafkaUUID(bytes: c.topics[0].id)!)
        }
        _ = try sim.client(leader).request(Self.produce(2), version: 9)
        // At a follower: NOT_LEADER_OR_FOLLOWER, and from v16 who leads (KIP-951).
        var v17 = Self.fetch(0)
        v17.topics[0].topicId = topicId
        let atFollower = try sim.client(follower).request(v17, version: 17)
        let p = atFollower.responses[0].partitions[0]
        #expect(p.errorCode == KafkaErrorCode.notLeaderOrFollower.rawValue)
        #expect(p.currentLeader.leaderId == leader && p.currentLeader.leaderEpoch == epoch)
        #expect(atFollower.nodeEndpoints.map(\.nodeId) == [leader])
        let c = try sim.client(leader)
        #expect(try c.request(v17, version: 17).responses[0].partitions[0].highWatermark == 2)
        var unknownId = v17
        unknownId.topics[0].topicId = KafkaUUID(high: 1, low: 2)
        #expect(
            try c.request(unknownId, version: 17).responses[0].partitions[0].errorCode
                == KafkaErrorCode.unknownTopicId.rawValue)
        #expect(
            try c.request(Self.fetch(99), version: 11).responses[0].partitions[0].errorCode
                == KafkaErrorCode.offsetOutOfRange.rawValue)
        #expect(
            try c.request(Self.fetch(0, epoch: epoch + 1), version: 12).responses[0].partitions[0].errorCode
                == KafkaErrorCode.unknownLeaderEpoch.rawValue)
        // An incremental fetch session the broker never created.
        var session = Self.fetch(0)
        session.sessionId = 42
        session.sessionEpoch = 3
        #expect(try c.request(session, version: 11).errorCode == KafkaErrorCode.fetchSessionIdNotFound.rawValue)

        let offsets = try c.request(
            ListOffsetsRequest(
                replicaId: -1, topics: [.init(name: "topic-0", partitions: [.init(partitionIndex: 0, timestamp: -1)])]),
            version: 7)
        #expect(offsets.topics[0].partitions[0].offset == 2)
        #expect(offsets.topics[0].partitions[0].leaderEpoch == epoch)
        let ends = try c.request(
            OffsetForLeaderEpochRequest(
                replicaId: -1,
                topics: [
                    .init(
                        topic: "topic-0",
                        partitions: [.init(partition: 0, currentLeaderEpoch: epoch, leaderEpoch: epoch)])
                ]),
            version: 4)
        #expect(ends.topics[0].partitions[0].endOffset == 2)
    }

    @Test func anIdempotentProducerGetsItsRetriesDeduplicatedOverTheWire() async throws {
        let sim = try await RunningSim.start(try cluster3(minIsr: 1, partitions: 1))
        defer { sim.embedded.cancel() }
        let leader = sim.simulator.withCluster { $0.partitions[0].leader }
        let c = try sim.client(leader)
        let pid = try c.request(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000), version: 4)
        #expect(pid.errorCode == 0 && pid.producerEpoch == 0)
        func send(_ sequence: Int32) throws -> ProduceResponse.PartitionProduceResponse {
            let records = RecordBatchHeader.build(
                records: [.init(value: [1]), .init(value: [2])], timestamp: 1, producerId: pid.producerId,
                producerEpoch: 0, baseSequence: sequence)
            let r = ProduceRequest(
                acks: -1, timeoutMs: 1000,
                topicData: [.init(name: "topic-0", partitionData: [.init(index: 0, records: records)])])
            return try c.request(r, version: 7).responses[0].partitionResponses[0]
        }
        #expect(try send(0).baseOffset == 0)
        #expect(try send(2).baseOffset == 2)
        let retry = try send(2)
        #expect(retry.errorCode == 0 && retry.baseOffset == 2)
        #expect(try send(6).errorCode == KafkaErrorCode.outOfOrderSequenceNumber.rawValue)
        #expect(sim.simulator.withCluster { $0.partitions[0].logEndOffset } == 4)
        let transactional = try c.request(
            InitProducerIdRequest(transactionalId: "tx", transactionTimeoutMs: 60_000), version: 4)
        #expect(transactional.errorCode == KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue)
    }

    @Test func twoMembersFormAGroupCommitAndLeaveOverTheWireAndTheStatsCountIt() async throws {
        // Time scale 10 and one-minute sessions: 6 s of real time between a member's requests before it could
        // expire, so a loaded machine cannot drop a member mid-test (the 3 s initial delay is 0.3 s).
        let sim = try await RunningSim.start(try cluster3(minIsr: 1, partitions: 2), timeScale: 10)
        defer { sim.embedded.cancel() }
        let any = try sim.client(1)
        var found = try any.request(FindCoordinatorRequest(key: "g"), version: 3)
        #expect(found.errorCode == KafkaErrorCode.coordinatorNotAvailable.rawValue)
        found = try any.request(FindCoordinatorRequest(key: "g"), version: 3)
        #expect(found.errorCode == 0)
        let a = try sim.client(found.nodeId)
        let b = try sim.client(found.nodeId)
        func join(_ client: TestClient, _ memberId: String) throws {
            client.correlationId += 1
            client.sendRaw(
                try KafkaFrame.request(
                    JoinGroupRequest(
                        groupId: "g", sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 60_000, memberId: memberId,
                        protocolType: "consumer", protocols: [.init(name: "range", metadata: [7])]),
                    version: 5, correlationId: client.correlationId, clientId: "c"))
        }
        func joined(_ client: TestClient) throws -> JoinGroupResponse {
            var answer: JoinGroupResponse
            repeat {
                answer = try KafkaFrame.decodeResponse(
                    JoinGroupResponse.self, version: 5, body: try #require(client.readFrame())
                )
                .response
                // Right after the offsets topic was made its coordinator may still load: join again.
                if answer.errorCode == KafkaErrorCode.coordinatorLoadInProgress.rawValue { try join(client, "") }
            } while answer.errorCode == KafkaErrorCode.coordinatorLoadInProgress.rawValue
            return answer
        }
        try join(a, "")
        let idA = try joined(a).memberId
        try join(b, "")
        let idB = try joined(b).memberId
        try join(a, idA)
        try join(b, idB)
        let (ja, jb) = (try joined(a), try joined(b))
        #expect(ja.generationId == 1 && jb.generationId == 1)
        let leader = ja.leader == idA ? a : b
        let follower = ja.leader == idA ? b : a
        let leaderId = ja.leader
        let followerId = leaderId == idA ? idB : idA
        #expect((ja.leader == idA ? ja : jb).members.map(\.metadata) == [[7], [7]])

        follower.correlationId += 1
        follower.sendRaw(
            try KafkaFrame.request(
                SyncGroupRequest(groupId: "g", generationId: 1, memberId: followerId, assignments: []), version: 3,
                correlationId: follower.correlationId, clientId: "c"))
        let mine = try leader.request(
            SyncGroupRequest(
                groupId: "g", generationId: 1, memberId: leaderId,
                assignments: [.init(memberId: leaderId, assignment: [0]), .init(memberId: followerId, assignment: [1])]),
            version: 3)
        #expect(mine.assignment == [0])
        let theirs = try KafkaFrame.decodeResponse(
            SyncGroupResponse.self, version: 3, body: try #require(follower.readFrame()))
        #expect(theirs.response.assignment == [1])
        #expect(
            try leader.request(HeartbeatRequest(groupId: "g", generationId: 1, memberId: leaderId), version: 3)
                .errorCode == 0)

        let commit = try leader.request(
            OffsetCommitRequest(
                groupId: "g", generationIdOrMemberEpoch: 1, memberId: leaderId,
                topics: [
                    .init(
                        name: "topic-0",
                        partitions: [.init(partitionIndex: 0, committedOffset: 17, committedMetadata: "m")])
                ]),
            version: 7)
        #expect(commit.topics[0].partitions[0].errorCode == 0)
        let old = try leader.request(
            OffsetFetchRequest(groupId: "g", topics: [.init(name: "topic-0", partitionIndexes: [0, 1])]), version: 7)
        #expect(old.topics[0].partitions.map(\.committedOffset) == [17, -1])
        #expect(old.topics[0].partitions[0].metadata == "m")
        let batched = try leader.request(OffsetFetchRequest(groups: [.init(groupId: "g", topics: nil)]), version: 8)
        #expect(batched.groups[0].topics.first?.partitions.map(\.committedOffset) == [17])

        let listed = try leader.request(ListGroupsRequest(), version: 4)
        #expect(listed.groups.map(\.groupId) == ["g"])
        #expect(listed.groups.first?.groupState == "Stable")
        let described = try leader.request(DescribeGroupsRequest(groups: ["g", "nope"]), version: 5)
        #expect(described.groups[0].groupState == "Stable")
        #expect(described.groups[0].protocolData == "range")
        #expect(Set(described.groups[0].members.map(\.memberAssignment)) == [[0], [1]])
        // An unknown group is Dead at its coordinator; any other broker is not its coordinator.
        let nopeCoordinator = sim.simulator.withCluster { $0.coordinator(of: "nope") }
        if nopeCoordinator == found.nodeId {
            #expect(described.groups[1].groupState == "Dead" && described.groups[1].errorCode == 0)
        } else {
            #expect(described.groups[1].errorCode == KafkaErrorCode.notCoordinator.rawValue)
        }
        // Any other broker is not the coordinator.
        let other = (1...3).map { Int32($0) }.first { $0 != found.nodeId }!
        #expect(
            try sim.client(other).request(
                HeartbeatRequest(groupId: "g", generationId: 1, memberId: leaderId), version: 3
            )
            .errorCode == KafkaErrorCode.notCoordinator.rawValue)

        let left = try follower.request(
            LeaveGroupRequest(groupId: "g", members: [.init(memberId: followerId)]), version: 3)
        #expect(left.members.map(\.errorCode) == [0])
        #expect(
            try leader.request(HeartbeatRequest(groupId: "g", generationId: 1, memberId: leaderId), version: 3)
                .errorCode
                == KafkaErrorCode.rebalanceInProgress.rawValue)

        let (status, body) = try await http("GET", port: sim.controlPort, "/v1/stats")
        #expect(status == 200)
        let stats = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let groups = stats?["groups"] as? [[String: Any]]
        #expect(groups?.first?["group"] as? String == "g")
        #expect(groups?.first?["rebalances"] as? Int == 2)
        #expect(groups?.first?["completedRebalances"] as? Int == 1)
        #expect(groups?.first?["committedPartitions"] as? Int == 1)
        #expect(stats?["rebalances"] as? Int == 2)
    }

    @Test func theStatsCountFetchAnswersAndConsumerGaps() async throws {
        let sim = try await RunningSim.start(try cluster3(minIsr: 1, partitions: 1), timeScale: 10)
        defer { sim.embedded.cancel() }
        let leader = sim.simulator.withCluster { $0.partitions[0].leader }
        let c = try sim.client(leader)
        _ = try c.request(Self.produce(2), version: 9)
        _ = try c.request(Self.fetch(0), version: 11)
        _ = try c.request(Self.fetch(99), version: 11)
        let before = sim.simulator.clusterNow()
        _ = try c.request(Self.produce(1), version: 9)
        // The consumer comes back for the new record only after 100 ms of cluster time or more.
        _ = try c.request(Self.fetch(2, maxWaitMs: 100), version: 11)
        let waited = sim.simulator.withCluster { c in c.now } - before
        _ = try c.request(Self.fetch(3, maxWaitMs: 0), version: 11)
        let (_, body) = try await http("GET", port: sim.controlPort, "/v1/stats")
        let stats = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let fetch = stats?["fetch"] as? [String: Int]
        #expect(fetch?["NONE"] == 3)
        #expect(fetch?["OFFSET_OUT_OF_RANGE"] == 1)
        #expect(stats?["fetchTotal"] as? Int == 4)
        let gaps = stats?["consumerGaps"] as? [String: Any]
        let longest = gaps?["longest"] as? [String: Any]
        #expect(longest?["topic"] as? String == "topic-0")
        #expect((longest?["ms"] as? Int ?? -1) >= 0)
        #expect(Int64(longest?["ms"] as? Int ?? .max) <= waited)
        #expect((gaps?["open"] as? [Any])?.isEmpty == true)
        let log = stats?["log"] as? [String: Any]
        #expect(log?["partitionsWithData"] as? Int == 1)
    }
}
