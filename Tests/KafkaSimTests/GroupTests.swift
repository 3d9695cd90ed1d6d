import KafkaWire
import Testing

@testable import KafkaSim

extension SimCluster {
    /// FindCoordinator until the group's coordinator answers (the first call creates `__consumer_offsets`), then
    /// waits out its load; returns the coordinator.
    mutating func readyCoordinator(_ group: String) throws -> Int32 {
        _ = findCoordinator(group: group)
        advance(to: now + settings.coordinatorLoadMs)
        return try findCoordinator(group: group).get()
    }

    /// JoinGroup as a v4+ dynamic member: MEMBER_ID_REQUIRED, then the join with that id.
    mutating func joinNew(
        _ group: String, broker: Int32, client: String = "c", sessionTimeoutMs: Int32 = 10_000
    ) throws -> (memberId: String, call: SimGroupCall<SimJoinResult>) {
        var r = SimJoinRequest(groupId: group, clientId: client, sessionTimeoutMs: sessionTimeoutMs)
        guard case .done(let first) = joinGroup(r, broker: broker), first.error == .memberIdRequired else {
            throw TestError("no MEMBER_ID_REQUIRED")
        }
        r.memberId = first.memberId
        return (first.memberId, joinGroup(r, broker: broker))
    }

    mutating func joinReply(_ ticket: Int) -> SimJoinResult? {
        if case .join(let r) = takeGroupReply(ticket) { return r }
        return nil
    }

    mutating func syncReply(_ ticket: Int) -> SimSyncResult? {
        if case .sync(let r) = takeGroupReply(ticket) { return r }
        return nil
    }

    /// A stable group of `count` members (each assigned its own index as bytes); returns their ids, leader first.
    mutating func stableGroup(_ group: String, members count: Int, broker: Int32, sessionTimeoutMs: Int32 = 10_000)
        throws -> [String]
    {
        var tickets: [Int] = []
        for i in 0..<count {
            let (_, call) = try joinNew(group, broker: broker, client: "c\(i)", sessionTimeoutMs: sessionTimeoutMs)
            guard case .pending(let t) = call else { throw TestError("join \(i) did not wait") }
            tickets.append(t)
        }
        // The initial delay, once more for the members that joined during it.
        advance(to: now + 6_000)
        let joins = tickets.compactMap { joinReply($0) }
        guard joins.count == count, let leader = joins.first(where: { !$0.members.isEmpty }) else {
            throw TestError("the join did not complete: \(joins)")
        }
        let ids = [leader.memberId] + joins.map(\.memberId).filter { $0 != leader.memberId }
        var assignments: [String: [UInt8]] = [:]
        for (i, id) in ids.enumerated() { assignments[id] = [UInt8(i)] }
        for id in ids.reversed() {
            _ = syncGroup(
                group: group, generation: leader.generation, memberId: id, instanceId: nil, protocolType: "consumer",
                protocolName: "range", assignments: id == leader.memberId ? assignments : [:], broker: broker)
        }
        return ids
    }
}

@Suite struct GroupTests {
    @Test func theFirstFindCoordinatorCreatesTheOffsetsTopicAndAnswersCoordinatorNotAvailable() throws {
        var c = try smallCluster(configs: ["offsets.topic.num.partitions": "5"])
        guard case .failure(let f) = c.findCoordinator(group: "g") else {
            Issue.record("expected COORDINATOR_NOT_AVAILABLE")
            return
        }
        #expect(f.code == .coordinatorNotAvailable)
        let offsets = try #require(c.topic(named: SimCluster.offsetsTopic))
        #expect(offsets.partitions.count == 5)
        #expect(c.partitions[Int(offsets.partitions[0])].replicas.count == 3)
        let q = c.offsetsPartition(for: "g")!
        #expect(try c.findCoordinator(group: "g").get() == c.partitions[Int(offsets.partitions[Int(q)])].leader)
    }

    @Test func groupsArePlacedByJavasStringHash() {
        #expect(SimCluster.javaHash("hello") == 99_162_322)
        #expect(SimCluster.javaHash("") == 0)
        // Negative hashes are masked, as Kafka's Utils.abs.
        #expect(SimCluster.javaHash("polygenelubricants") == Int32.min)
    }

    @Test func threeMembersJoinAfterTheInitialDelayAndGetTheLeadersAssignment() throws {
        var c = try smallCluster()
        let co = try c.readyCoordinator("g")
        let start = c.now
        var tickets: [Int] = []
        for i in 0..<3 {
            let (_, call) = try c.joinNew("g", broker: co, client: "c\(i)")
            guard case .pending(let t) = call else { throw TestError("join \(i) answered at once") }
            tickets.append(t)
        }
        #expect(c.groups["g"]!.state == .preparingRebalance)
        // 3 s of group.initial.rebalance.delay.ms, then 3 s more because members joined during the first delay.
        c.advance(to: start + 5_999)
        #expect(c.joinReply(tickets[0]) == nil)
        c.advance(to: start + 6_000)
        let joins = tickets.compactMap { c.joinReply($0) }
        #expect(joins.count == 3)
        #expect(Set(joins.map(\.generation)) == [1])
        #expect(Set(joins.map(\.leader)).count == 1)
        let leader = try #require(joins.first { $0.memberId == $0.leader })
        #expect(leader.members.count == 3)
        #expect(joins.filter { $0.memberId != $0.leader }.allSatisfy { $0.members.isEmpty })
        #expect(leader.protocolName == "range")

        // A follower's SyncGroup waits for the leader's, which answers both.
        let follower = joins.first { $0.memberId != $0.leader }!.memberId
        guard
            case .pending(let waiting) = c.syncGroup(
                group: "g", generation: 1, memberId: follower, instanceId: nil, protocolType: "consumer",
                protocolName: "range", assignments: [:], broker: co)
        else { throw TestError("the follower's sync did not wait") }
        let assignments = Dictionary(uniqueKeysWithValues: joins.enumerated().map { ($1.memberId, [UInt8($0)]) })
        let mine = c.syncGroup(
            group: "g", generation: 1, memberId: leader.memberId, instanceId: nil, protocolType: "consumer",
            protocolName: "range", assignments: assignments, broker: co)
        #expect(
            mine
                == .done(
                    .init(protocolType: "consumer", protocolName: "range", assignment: assignments[leader.memberId]!)))
        #expect(c.syncReply(waiting)?.assignment == assignments[follower])
        #expect(c.groups["g"]!.state == .stable)
        #expect(c.groups["g"]!.stats.rebalances == 1)
        #expect(c.groups["g"]!.stats.completedRebalances == 1)
        #expect(c.groups["g"]!.stats.longestRebalanceMs == 6_000)
    }

    @Test func aMemberThatStopsHeartbeatingIsRemovedAfterItsSessionAndTheOthersRebalance() throws {
        var c = try smallCluster()
        let co = try c.readyCoordinator("g")
        let ids = try c.stableGroup("g", members: 3, broker: co)
        let live = Array(ids.prefix(2))  // ids[2] stops heartbeating
        for t in stride(from: c.now + 3_000, through: c.now + 9_000, by: 3_000) {
            c.advance(to: t)
            for id in live {
                #expect(c.heartbeat(group: "g", generation: 1, memberId: id, instanceId: nil, broker: co) == .none)
            }
        }
        c.advance(to: c.now + 1_001)
        #expect(c.groups["g"]!.members.map(\.id).sorted() == live.sorted())
        #expect(c.groups["g"]!.state == .preparingRebalance)
        #expect(c.groups["g"]!.stats.sessionTimeouts == 1)
        #expect(
            c.heartbeat(group: "g", generation: 1, memberId: live[0], instanceId: nil, broker: co)
                == .rebalanceInProgress)
        // Both rejoin; the second join completes the rebalance at once (no initial delay outside an empty group).
        guard
            case .pending(let t0) = c.joinGroup(
                .init(groupId: "g", memberId: live[0], sessionTimeoutMs: 10_000), broker: co)
        else { throw TestError("first rejoin answered at once") }
        guard
            case .done(let second) = c.joinGroup(
                .init(groupId: "g", memberId: live[1], sessionTimeoutMs: 10_000), broker: co)
        else { throw TestError("second rejoin waited") }
        #expect(second.generation == 2)
        #expect(c.joinReply(t0)?.generation == 2)
        #expect(
            c.heartbeat(group: "g", generation: 1, memberId: live[0], instanceId: nil, broker: co) == .illegalGeneration
        )
    }

    @Test func leavingRebalancesTheRestAndTheLastLeaveEmptiesTheGroup() throws {
        var c = try smallCluster()
        let co = try c.readyCoordinator("g")
        let ids = try c.stableGroup("g", members: 2, broker: co)
        #expect(c.leaveGroup(group: "g", members: [(ids[0], nil)], broker: co).members == [.none])
        #expect(c.groups["g"]!.state == .preparingRebalance)
        #expect(c.groups["g"]!.leader == ids[1])
        #expect(
            c.leaveGroup(group: "g", members: [(ids[1], nil), ("nobody", nil)], broker: co).members == [
                .none, .unknownMemberId,
            ])
        #expect(c.groups["g"]!.state == .empty)
        #expect(c.groups["g"]!.generation == 2)
        #expect(c.groups["g"]!.members.isEmpty)
    }

    @Test func commitsNeedTheCurrentGenerationAndOffsetsSurviveACoordinatorMove() throws {
        var c = try smallCluster()
        let co = try c.readyCoordinator("g")
        let ids = try c.stableGroup("g", members: 1, broker: co)
        let tp = SimTopicPartition(topic: "t", partition: 0)
        #expect(
            c.commitOffsets(
                group: "g", generation: 1, memberId: ids[0], instanceId: nil, offsets: [(tp, .init(offset: 42))],
                broker: co) == [.none])
        #expect(
            c.commitOffsets(
                group: "g", generation: 7, memberId: ids[0], instanceId: nil, offsets: [(tp, .init(offset: 1))],
                broker: co) == [.illegalGeneration])
        #expect(
            c.commitOffsets(
                group: "g", generation: -1, memberId: "", instanceId: nil, offsets: [(tp, .init(offset: 1))], broker: co
            ) == [.unknownMemberId])
        let unknown = SimTopicPartition(topic: "nope", partition: 0)
        #expect(
            c.commitOffsets(
                group: "g", generation: 1, memberId: ids[0], instanceId: nil, offsets: [(unknown, .init(offset: 1))],
                broker: co) == [.unknownTopicOrPartition])

        try c.stop(co)
        let next = try c.findCoordinator(group: "g").get()
        #expect(next != co)
        #expect(c.fetchOffsets(group: "g", only: [tp], broker: co).error == .notCoordinator)
        #expect(c.fetchOffsets(group: "g", only: [tp], broker: next).error == .coordinatorLoadInProgress)
        c.advance(to: c.now + c.settings.coordinatorLoadMs)
        let fetched = c.fetchOffsets(group: "g", only: [tp], broker: next)
        #expect(fetched.error == .none)
        #expect(fetched.offsets.first?.1?.offset == 42)
        // The member and its generation were written: it carries on with the new coordinator, no rebalance.
        #expect(c.heartbeat(group: "g", generation: 1, memberId: ids[0], instanceId: nil, broker: next) == .none)
        #expect(c.groups["g"]!.stats.rebalances == 1)
    }

    @Test func aJoinWaitingWhenTheCoordinatorMovesAnswersNotCoordinator() throws {
        var c = try smallCluster()
        let co = try c.readyCoordinator("g")
        let (_, call) = try c.joinNew("g", broker: co)
        guard case .pending(let ticket) = call else { throw TestError("the join answered at once") }
        try c.stop(co)
        c.advance(to: c.now + 1)
        #expect(c.joinReply(ticket)?.error == .notCoordinator)
        // Nothing was written for the group before its first generation: the new coordinator has it empty.
        #expect(c.groups["g"]?.members.isEmpty ?? true)
    }

    @Test func groupTimersStopWhileNoCoordinatorHoldsTheGroup() throws {
        var c = try smallCluster()
        let co = try c.readyCoordinator("g")
        let ids = try c.stableGroup("g", members: 1, broker: co)
        let lastHeartbeat = c.now
        try c.kill(co)
        // The crash is noticed after 9 s; the new coordinator loads and starts the 10 s session afresh.
        c.advance(to: lastHeartbeat + 12_000)
        #expect(c.groups["g"]!.members.map(\.id) == ids)
        let next = try c.findCoordinator(group: "g").get()
        #expect(next != co)
        #expect(c.heartbeat(group: "g", generation: 1, memberId: ids[0], instanceId: nil, broker: next) == .none)
        c.advance(to: c.now + 10_001)
        #expect(c.groups["g"]!.members.isEmpty, "without heartbeats the session ends on the new coordinator")
    }

    @Test func aStaticMemberRejoiningAStableGroupKeepsItsAssignmentWithoutARebalance() throws {
        var c = try smallCluster()
        let co = try c.readyCoordinator("g")
        let r = SimJoinRequest(groupId: "g", instanceId: "pod-0", clientId: "c", sessionTimeoutMs: 10_000)
        guard case .pending(let t) = c.joinGroup(r, broker: co) else { throw TestError("static join answered at once") }
        c.advance(to: c.now + 3_000)
        let reply = c.joinReply(t)
        let joined = try #require(reply)
        #expect(joined.generation == 1)
        _ = c.syncGroup(
            group: "g", generation: 1, memberId: joined.memberId, instanceId: "pod-0", protocolType: "consumer",
            protocolName: "range", assignments: [joined.memberId: [9]], broker: co)
        // The pod restarts: a new member id for the same instance, at once, same generation.
        guard case .done(let again) = c.joinGroup(r, broker: co) else { throw TestError("the static rejoin waited") }
        #expect(again.error == .none)
        #expect(again.generation == 1)
        #expect(again.memberId != joined.memberId)
        #expect(again.skipAssignment)
        #expect(c.groups["g"]!.stats.rebalances == 1)
        #expect(
            c.heartbeat(group: "g", generation: 1, memberId: joined.memberId, instanceId: "pod-0", broker: co)
                == .fencedInstanceId)
        let sync = c.syncGroup(
            group: "g", generation: 1, memberId: again.memberId, instanceId: "pod-0", protocolType: "consumer",
            protocolName: "range", assignments: [:], broker: co)
        #expect(sync == .done(.init(protocolType: "consumer", protocolName: "range", assignment: [9])))
    }

    @Test func badJoinsAnswerTheErrorKafkaGives() throws {
        var c = try smallCluster()
        let co = try c.readyCoordinator("g")
        func error(_ r: SimJoinRequest, broker: Int32? = nil) -> KafkaErrorCode? {
            if case .done(let result) = c.joinGroup(r, broker: broker ?? c.coordinator(of: r.groupId)) {
                return result.error
            }
            return nil
        }
        #expect(error(.init(groupId: "g", sessionTimeoutMs: 1_000)) == .invalidSessionTimeout)
        #expect(error(.init(groupId: "")) == .invalidGroupId)
        #expect(error(.init(groupId: "g", memberId: "ghost")) == .unknownMemberId)
        let other = (1...3).map { Int32($0) }.first { $0 != co }!
        #expect(error(.init(groupId: "g"), broker: other) == .notCoordinator)
        _ = try c.stableGroup("g", members: 1, broker: co)
        #expect(error(.init(groupId: "g", protocolType: "connect")) == .inconsistentGroupProtocol)
    }

    @Test func anEmptyGroupsOffsetsExpireAndTheGroupIsForgottenWithItsFigures() throws {
        var c = try smallCluster(configs: ["offsets.retention.minutes": "10"])
        let co = try c.readyCoordinator("g")
        let ids = try c.stableGroup("g", members: 1, broker: co)
        let tp = SimTopicPartition(topic: "t", partition: 0)
        _ = c.commitOffsets(
            group: "g", generation: 1, memberId: ids[0], instanceId: nil, offsets: [(tp, .init(offset: 5))], broker: co)
        _ = c.leaveGroup(group: "g", members: [(ids[0], nil)], broker: co)
        c.advance(to: c.now + 5 * 60_000)
        #expect(c.groups["g"]?.offsets[tp]?.offset == 5)
        c.advance(to: c.now + 10 * 60_000)
        #expect(c.groups["g"] == nil)
        #expect(c.groupStats()["g"]?.rebalances == 2)
    }
}
