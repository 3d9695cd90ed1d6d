import KafkaWire

/// Consumer groups, classic protocol: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
/// OffsetFetch, ListGroups, DescribeGroups. A JoinGroup waits until its rebalance completes and a follower's
/// SyncGroup until the leader's, as deferred replies.
extension KafkaProtocolResponder {
    static let notModelledTransactions = "The simulator does not model transactions."

    // MARK: FindCoordinator

    static func findCoordinator(_ sim: KafkaSimulator, _ r: FindCoordinatorRequest, version v: Int16)
        -> FindCoordinatorResponse
    {
        let keys = v >= 4 ? r.coordinatorKeys : [r.key]
        let found: [(String, Result<(Int32, Int), SimFailure>)] = sim.withCluster { c in
            keys.map { key in
                // Transaction coordinators are not modelled: the error clients give up on at once, with a message
                // saying why. Share groups (key type 2) are not modelled either.
                guard r.keyType == 0 else {
                    let code: KafkaErrorCode = r.keyType == 1 ? .transactionalIdAuthorizationFailed : .invalidRequest
                    return (key, .failure(SimFailure(code, notModelledTransactions)))
                }
                guard !key.isEmpty else {
                    return (key, .failure(SimFailure(.invalidRequest, "The group id is empty.")))
                }
                return (key, c.findCoordinator(group: key).map { ($0, c.node($0)?.port ?? -1) })
            }
        }
        var resp = FindCoordinatorResponse()
        for (key, result) in found {
            var co = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1)
            switch result {
            case .success(let (id, port)):
                co.nodeId = id
                co.host = host
                co.port = Int32(port)
            case .failure(let f):
                co.errorCode = f.code.rawValue
                co.errorMessage = f.message
            }
            if v >= 4 {
                resp.coordinators.append(co)
            } else {
                resp.errorCode = co.errorCode
                resp.errorMessage = v >= 1 ? co.errorMessage : nil
                resp.nodeId = co.nodeId
                resp.host = co.host
                resp.port = co.port
            }
        }
        return resp
    }

    // MARK: JoinGroup and SyncGroup

    static func joinGroup(
        _ sim: KafkaSimulator, node: Int32, _ r: JoinGroupRequest, version v: Int16, _ header: RequestHeader
    ) -> KafkaReply {
        let instanceId = v >= 5 ? r.groupInstanceId : nil
        let request = SimJoinRequest(
            groupId: r.groupId, memberId: r.memberId, instanceId: instanceId, clientId: header.clientId ?? "",
            sessionTimeoutMs: r.sessionTimeoutMs,
            rebalanceTimeoutMs: v >= 1 ? r.rebalanceTimeoutMs : r.sessionTimeoutMs,
            protocolType: r.protocolType, protocols: r.protocols.map { .init(name: $0.name, metadata: $0.metadata) },
            requireKnownMemberId: v >= 4 && instanceId == nil, supportsSkipAssignment: v >= 9)
        let call = sim.withCluster { c in c.joinGroup(request, broker: node) }
        // The join may have completed the rebalance other members wait for.
        sim.wakeWaiters()
        switch call {
        case .done(let result):
            return encode(joinResponse(result, version: v), version: v, header)
        case .pending(let ticket):
            return .deferred(
                KafkaDeferredReply(simulator: sim) { c in
                    guard case .join(let result) = c.takeGroupReply(ticket) else { return nil }
                    return { encode(joinResponse(result, version: v), version: v, header) }
                })
        }
    }

    static func joinResponse(_ r: SimJoinResult, version v: Int16) -> JoinGroupResponse {
        var resp = JoinGroupResponse(
            errorCode: r.error.rawValue, generationId: r.generation,
            protocolType: v >= 7 ? r.protocolType : nil,
            protocolName: v >= 7 ? r.protocolName : (r.protocolName ?? ""), leader: r.leader, memberId: r.memberId,
            members: r.members.map {
                .init(memberId: $0.memberId, groupInstanceId: $0.instanceId, metadata: $0.metadata)
            })
        if v >= 9 { resp.skipAssignment = r.skipAssignment }
        return resp
    }

    static func syncGroup(
        _ sim: KafkaSimulator, node: Int32, _ r: SyncGroupRequest, version v: Int16, _ header: RequestHeader
    ) -> KafkaReply {
        var assignments: [String: [UInt8]] = [:]
        for a in r.assignments { assignments[a.memberId] = a.assignment }
        let call = sim.withCluster { c in
            c.syncGroup(
                group: r.groupId, generation: r.generationId, memberId: r.memberId,
                instanceId: v >= 3 ? r.groupInstanceId : nil, protocolType: v >= 5 ? r.protocolType : nil,
                protocolName: v >= 5 ? r.protocolName : nil, assignments: assignments, broker: node)
        }
        // The leader's assignment answers the members that wait for it.
        sim.wakeWaiters()
        switch call {
        case .done(let result):
            return encode(syncResponse(result, version: v), version: v, header)
        case .pending(let ticket):
            return .deferred(
                KafkaDeferredReply(simulator: sim) { c in
                    guard case .sync(let result) = c.takeGroupReply(ticket) else { return nil }
                    return { encode(syncResponse(result, version: v), version: v, header) }
                })
        }
    }

    static func syncResponse(_ r: SimSyncResult, version v: Int16) -> SyncGroupResponse {
        SyncGroupResponse(
            errorCode: r.error.rawValue, protocolType: v >= 5 ? r.protocolType : nil,
            protocolName: v >= 5 ? r.protocolName : nil, assignment: r.assignment)
    }

    // MARK: Heartbeat and LeaveGroup

    static func heartbeat(_ sim: KafkaSimulator, node: Int32, _ r: HeartbeatRequest, version v: Int16)
        -> HeartbeatResponse
    {
        let e = sim.withCluster { c in
            c.heartbeat(
                group: r.groupId, generation: r.generationId, memberId: r.memberId,
                instanceId: v >= 3 ? r.groupInstanceId : nil, broker: node)
        }
        sim.wakeWaiters()
        return HeartbeatResponse(errorCode: e.rawValue)
    }

    static func leaveGroup(_ sim: KafkaSimulator, node: Int32, _ r: LeaveGroupRequest, version v: Int16)
        -> LeaveGroupResponse
    {
        let identities: [(memberId: String, instanceId: String?)] =
            v >= 3 ? r.members.map { ($0.memberId, $0.groupInstanceId) } : [(r.memberId, nil)]
        let (error, errors) = sim.withCluster { c in c.leaveGroup(group: r.groupId, members: identities, broker: node) }
        sim.wakeWaiters()
        guard v >= 3 else { return LeaveGroupResponse(errorCode: errors.first?.rawValue ?? error.rawValue) }
        guard error == .none else { return LeaveGroupResponse(errorCode: error.rawValue) }
        return LeaveGroupResponse(
            members: zip(identities, errors).map {
                .init(memberId: $0.memberId, groupInstanceId: $0.instanceId, errorCode: $1.rawValue)
            })
    }

    // MARK: offsets

    static func offsetCommit(_ sim: KafkaSimulator, node: Int32, _ r: OffsetCommitRequest, version v: Int16)
        -> OffsetCommitResponse
    {
        let offsets: [(SimTopicPartition, SimCommittedOffset)] = r.topics.flatMap { t in
            t.partitions.map {
                (
                    SimTopicPartition(topic: t.name, partition: $0.partitionIndex),
                    SimCommittedOffset(
                        offset: $0.committedOffset, leaderEpoch: v >= 6 ? $0.committedLeaderEpoch : -1,
                        metadata: $0.committedMetadata)
                )
            }
        }
        let errors = sim.withCluster { c in
            c.commitOffsets(
                group: r.groupId, generation: r.generationIdOrMemberEpoch, memberId: r.memberId,
                instanceId: v >= 7 ? r.groupInstanceId : nil, offsets: offsets, broker: node)
        }
        var resp = OffsetCommitResponse()
        var i = 0
        for t in r.topics {
            var out = OffsetCommitResponse.OffsetCommitResponseTopic(name: t.name)
            for p in t.partitions {
                out.partitions.append(.init(partitionIndex: p.partitionIndex, errorCode: errors[i].rawValue))
                i += 1
            }
            resp.topics.append(out)
        }
        return resp
    }

    static func offsetFetch(_ sim: KafkaSimulator, node: Int32, _ r: OffsetFetchRequest, version v: Int16)
        -> OffsetFetchResponse
    {
        typealias Wanted = (group: String, only: [SimTopicPartition]?)
        let wanted: [Wanted] =
            v >= 8
            ? r.groups.map { g in
                (
                    g.groupId,
                    g.topics.map { ts in
                        ts.flatMap { t in t.partitionIndexes.map { .init(topic: t.name, partition: $0) } }
                    }
                )
            }
            : [
                (
                    r.groupId,
                    r.topics.map { ts in
                        ts.flatMap { t in t.partitionIndexes.map { .init(topic: t.name, partition: $0) } }
                    }
                )
            ]
        let results = sim.withCluster { c in wanted.map { c.fetchOffsets(group: $0.group, only: $0.only, broker: node) }
        }

        /// Committed offsets grouped by topic, in the order asked (or by name for "all").
        func byTopic(_ offsets: [(SimTopicPartition, SimCommittedOffset?)]) -> [(
            String, [(Int32, SimCommittedOffset?)]
        )] {
            var order: [String] = []
            var parts: [String: [(Int32, SimCommittedOffset?)]] = [:]
            for (tp, o) in offsets {
                if parts[tp.topic] == nil { order.append(tp.topic) }
                parts[tp.topic, default: []].append((tp.partition, o))
            }
            return order.map { ($0, parts[$0]!) }
        }
        var resp = OffsetFetchResponse()
        if v >= 8 {
            resp.groups = zip(wanted, results).map { w, result in
                .init(
                    groupId: w.group,
                    topics: byTopic(result.offsets).map { name, parts in
                        .init(
                            name: name,
                            partitions: parts.map { p, o in
                                .init(
                                    partitionIndex: p, committedOffset: o?.offset ?? -1,
                                    committedLeaderEpoch: o?.leaderEpoch ?? -1, metadata: o?.metadata ?? "")
                            })
                    }, errorCode: result.error.rawValue)
            }
            return resp
        }
        let result = results[0]
        if v >= 2 {
            resp.errorCode = result.error.rawValue
        }
        // Before v2 there is no group-level error: each partition carries it.
        let offsets =
            result.error != .none && v < 2
            ? (wanted[0].only ?? []).map { ($0, SimCommittedOffset?.none) } : result.offsets
        resp.topics = byTopic(offsets).map { name, parts in
            .init(
                name: name,
                partitions: parts.map { p, o in
                    .init(
                        partitionIndex: p, committedOffset: o?.offset ?? -1,
                        committedLeaderEpoch: v >= 5 ? (o?.leaderEpoch ?? -1) : -1, metadata: o?.metadata ?? "",
                        errorCode: v < 2 ? result.error.rawValue : 0)
                })
        }
        return resp
    }

    // MARK: ListGroups and DescribeGroups

    static func listGroups(_ sim: KafkaSimulator, node: Int32, _ r: ListGroupsRequest, version v: Int16)
        -> ListGroupsResponse
    {
        let (error, groups) = sim.withCluster { c in c.listGroups(broker: node) }
        let states = Set((v >= 4 ? r.statesFilter : []).map { $0.lowercased() })
        let types = Set((v >= 5 ? r.typesFilter : []).map { $0.lowercased() })
        let listed = groups.filter {
            (states.isEmpty || states.contains($0.state.rawValue.lowercased()))
                && (types.isEmpty || types.contains("classic"))
        }
        return ListGroupsResponse(
            errorCode: error.rawValue,
            groups: listed.map {
                .init(
                    groupId: $0.id, protocolType: $0.protocolType ?? "", groupState: v >= 4 ? $0.state.rawValue : "",
                    groupType: v >= 5 ? "classic" : "")
            })
    }

    static func describeGroups(_ sim: KafkaSimulator, node: Int32, _ r: DescribeGroupsRequest, version v: Int16)
        -> DescribeGroupsResponse
    {
        let results = sim.withCluster { c in r.groups.map { c.describeGroup($0, broker: node) } }
        // No authorizer: a group's READ, DELETE and DESCRIBE operations (AclOperation codes 3, 6 and 8).
        let operations: Int32 = v >= 3 && r.includeAuthorizedOperations ? (1 << 3 | 1 << 6 | 1 << 8) : Int32.min
        return DescribeGroupsResponse(
            groups: zip(r.groups, results).map { id, result in
                var out = DescribeGroupsResponse.DescribedGroup(groupId: id, authorizedOperations: operations)
                switch result {
                case .failure(let f):
                    out.errorCode = f.code.rawValue
                case .success(nil):
                    out.groupState = SimGroup.State.dead.rawValue
                case .success(let g?):
                    out.groupState = g.state.rawValue
                    out.protocolType = g.protocolType ?? ""
                    // Metadata and assignments only for a stable group, as Kafka.
                    let stable = g.state == .stable
                    out.protocolData = stable ? g.protocolName ?? "" : ""
                    out.members = g.members.map { m in
                        .init(
                            memberId: m.id, groupInstanceId: v >= 4 ? m.instanceId : nil, clientId: m.clientId,
                            clientHost: m.clientHost,
                            memberMetadata: stable
                                ? m.protocols.first { $0.name == g.protocolName }?.metadata ?? [] : [],
                            memberAssignment: stable ? m.assignment : [])
                    }
                }
                return out
            })
    }
}
