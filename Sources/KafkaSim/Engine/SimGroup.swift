public import KafkaWire

/// A consumer group of the classic protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup), as Kafka 4.1's group
/// coordinator runs it (`ClassicGroup` and the classic half of `GroupMetadataManager`): a pure state machine on
/// cluster time. Replies to requests that wait (a JoinGroup until the rebalance completes, a follower's SyncGroup
/// until the leader's) are queued in `outbox` by ticket; `SimCluster+Groups.swift` hands them to the I/O layer.
public struct SimGroup: Sendable {
    public enum State: String, Sendable, CaseIterable {
        case empty = "Empty"
        case preparingRebalance = "PreparingRebalance"
        case completingRebalance = "CompletingRebalance"
        case stable = "Stable"
        case dead = "Dead"
    }

    public let id: String
    public internal(set) var state = State.empty
    public internal(set) var generation: Int32 = 0
    public internal(set) var protocolType: String?
    public internal(set) var protocolName: String?
    public internal(set) var leader: String?
    public internal(set) var members: [SimGroupMember] = []
    /// Member ids handed out with MEMBER_ID_REQUIRED, and when they expire if the member does not join with them.
    var pendingMembers: [String: Int64] = [:]
    /// Members that have not sent SyncGroup since the join completed; removed at `syncDeadline`.
    var pendingSync: Set<String> = []
    var joinDeadline: Int64?
    var syncDeadline: Int64?
    /// In the initial delayed join of an empty group (`group.initial.rebalance.delay.ms`): the rebalance timeout
    /// left, and whether a member joined during the current delay.
    var initialDelay: (remaining: Int64, newMemberAdded: Bool)?
    public internal(set) var offsets: [SimTopicPartition: SimCommittedOffset] = [:]
    /// What Kafka last wrote to `__consumer_offsets` for the group, which a new coordinator loads.
    var persisted: Persisted?
    var emptySince: Int64?
    var rebalanceStartMs: Int64?
    public internal(set) var stats = SimGroupStats()
    var outbox: [(ticket: Int, reply: SimGroupReply)] = []

    struct Persisted: Sendable {
        var state: State
        var generation: Int32
        var protocolType: String?
        var protocolName: String?
        var leader: String?
        var members: [SimGroupMember]
    }

    init(id: String, now: Int64) {
        self.id = id
        emptySince = now
    }

    func index(of memberId: String) -> Int? { members.firstIndex { $0.id == memberId } }
    func staticMember(_ instanceId: String) -> Int? { members.firstIndex { $0.instanceId == instanceId } }
    var rebalanceTimeoutMs: Int64 { Int64(members.map(\.rebalanceTimeoutMs).max() ?? 0) }

    /// The earliest timer of the group (session, pending member, join, sync), if any.
    var nextDeadline: Int64? {
        var all = Array(pendingMembers.values) + members.compactMap(\.deadline)
        if let joinDeadline { all.append(joinDeadline) }
        if let syncDeadline { all.append(syncDeadline) }
        return all.min()
    }

    // MARK: JoinGroup

    mutating func join(
        _ r: SimJoinRequest, ticket: Int, newMemberId: String, config: SimGroupConfig, now: Int64
    ) -> SimGroupCall<SimJoinResult> {
        guard supports(r.protocolType, r.protocols) else {
            return .done(.init(error: .inconsistentGroupProtocol, memberId: r.memberId))
        }
        if r.memberId.isEmpty {
            if let instanceId = r.instanceId {
                if let i = staticMember(instanceId) {
                    return replaceStaticMember(i, newId: newMemberId, r, ticket: ticket, config: config, now: now)
                }
                return addMember(newMemberId, r, ticket: ticket, config: config, now: now)
            }
            if r.requireKnownMemberId {
                pendingMembers[newMemberId] = now + Int64(r.sessionTimeoutMs)
                return .done(.init(error: .memberIdRequired, memberId: newMemberId))
            }
            return addMember(newMemberId, r, ticket: ticket, config: config, now: now)
        }
        if pendingMembers.removeValue(forKey: r.memberId) != nil {
            return addMember(r.memberId, r, ticket: ticket, config: config, now: now)
        }
        if let e = validateMember(r.memberId, r.instanceId) { return .done(.init(error: e, memberId: r.memberId)) }
        let i = index(of: r.memberId)!
        switch state {
        case .preparingRebalance:
            return updateMember(i, r, ticket: ticket, config: config, now: now)
        case .completingRebalance:
            // The same metadata: the member missed the join answer; give it the current generation again.
            guard members[i].protocols == r.protocols else {
                return updateMember(i, r, ticket: ticket, config: config, now: now)
            }
            return .done(joinResult(for: r.memberId, withMembers: leader == r.memberId))
        case .stable:
            // The leader rejoining forces a rebalance (topic metadata may have changed); so does new metadata.
            guard leader != r.memberId, members[i].protocols == r.protocols else {
                return updateMember(i, r, ticket: ticket, config: config, now: now)
            }
            return .done(joinResult(for: r.memberId, withMembers: false))
        case .empty, .dead:
            return .done(.init(error: .unknownMemberId, memberId: r.memberId))
        }
    }

    /// An empty group takes any protocol type with at least one protocol; a non-empty one the group's type and a
    /// protocol every member supports.
    func supports(_ type: String, _ protocols: [SimGroupProtocol]) -> Bool {
        if state == .empty || members.isEmpty { return !type.isEmpty && !protocols.isEmpty }
        guard type == protocolType else { return false }
        return protocols.contains { p in members.allSatisfy { m in m.protocols.contains { $0.name == p.name } } }
    }

    /// Kafka's `ClassicGroup.validateMember`.
    func validateMember(_ memberId: String, _ instanceId: String?) -> KafkaErrorCode? {
        if let instanceId {
            guard let i = staticMember(instanceId) else { return .unknownMemberId }
            return members[i].id == memberId ? nil : .fencedInstanceId
        }
        return index(of: memberId) == nil ? .unknownMemberId : nil
    }

    mutating func addMember(
        _ id: String, _ r: SimJoinRequest, ticket: Int, config: SimGroupConfig, now: Int64
    ) -> SimGroupCall<SimJoinResult> {
        if members.isEmpty { protocolType = r.protocolType }
        // A new member cannot heartbeat before it has joined: its join times out after the new-member timeout.
        members.append(
            SimGroupMember(
                id: id, instanceId: r.instanceId, clientId: r.clientId, clientHost: r.clientHost,
                sessionTimeoutMs: r.sessionTimeoutMs, rebalanceTimeoutMs: r.rebalanceTimeoutMs,
                protocolType: r.protocolType, protocols: r.protocols, joinTicket: ticket, isNew: true,
                deadline: now + config.newMemberJoinTimeoutMs))
        if leader == nil { leader = id }
        if state == .preparingRebalance, initialDelay != nil { initialDelay?.newMemberAdded = true }
        prepareRebalanceOrCompleteJoin(config: config, now: now)
        return .pending(ticket: ticket)
    }

    mutating func updateMember(
        _ i: Int, _ r: SimJoinRequest, ticket: Int, config: SimGroupConfig, now: Int64
    ) -> SimGroupCall<SimJoinResult> {
        if let old = members[i].joinTicket {
            outbox.append((old, .join(.init(error: .rebalanceInProgress, memberId: members[i].id))))
        }
        members[i].protocols = r.protocols
        members[i].sessionTimeoutMs = r.sessionTimeoutMs
        members[i].rebalanceTimeoutMs = r.rebalanceTimeoutMs
        members[i].joinTicket = ticket
        // A member waiting in a rebalance needs no heartbeat.
        if !members[i].isNew { members[i].deadline = nil }
        prepareRebalanceOrCompleteJoin(config: config, now: now)
        return .pending(ticket: ticket)
    }

    mutating func replaceStaticMember(
        _ i: Int, newId: String, _ r: SimJoinRequest, ticket: Int, config: SimGroupConfig, now: Int64
    ) -> SimGroupCall<SimJoinResult> {
        let oldId = members[i].id
        let oldLeader = leader
        if let t = members[i].joinTicket { outbox.append((t, .join(.init(error: .fencedInstanceId, memberId: oldId)))) }
        if let t = members[i].syncTicket { outbox.append((t, .sync(.init(error: .fencedInstanceId)))) }
        members[i].id = newId
        members[i].syncTicket = nil
        members[i].clientId = r.clientId
        members[i].protocols = r.protocols
        members[i].sessionTimeoutMs = r.sessionTimeoutMs
        members[i].rebalanceTimeoutMs = r.rebalanceTimeoutMs
        members[i].deadline = now + Int64(r.sessionTimeoutMs)
        if leader == oldId { leader = newId }
        if pendingSync.remove(oldId) != nil { pendingSync.insert(newId) }
        switch state {
        case .stable where selectProtocol() == protocolName:
            // Same protocol: no rebalance, the member gets the current generation (KIP-345).
            persist()
            let isLeader = leader == newId
            if r.supportsSkipAssignment {
                var result = joinResult(for: newId, withMembers: isLeader)
                result.skipAssignment = isLeader
                return .done(result)
            }
            var result = joinResult(for: newId, withMembers: false)
            result.leader = oldLeader ?? ""
            return .done(result)
        case .stable, .completingRebalance:
            members[i].joinTicket = ticket
            members[i].deadline = nil
            prepareRebalance(config: config, now: now)
        case .preparingRebalance:
            members[i].joinTicket = ticket
            members[i].deadline = nil
            maybeCompleteJoinPhase(config: config, now: now)
        case .empty, .dead:
            return .done(.init(error: .unknownMemberId, memberId: r.memberId))
        }
        return .pending(ticket: ticket)
    }

    func joinResult(for memberId: String, withMembers: Bool) -> SimJoinResult {
        var result = SimJoinResult(
            error: .none, generation: generation, protocolType: protocolType, protocolName: protocolName,
            leader: leader ?? "", memberId: memberId)
        if withMembers, let protocolName {
            result.members = members.map { m in
                .init(
                    memberId: m.id, instanceId: m.instanceId,
                    metadata: m.protocols.first { $0.name == protocolName }?.metadata ?? [])
            }
        }
        return result
    }

    // MARK: rebalancing

    mutating func prepareRebalanceOrCompleteJoin(config: SimGroupConfig, now: Int64) {
        switch state {
        case .stable, .completingRebalance, .empty: prepareRebalance(config: config, now: now)
        case .preparingRebalance, .dead: maybeCompleteJoinPhase(config: config, now: now)
        }
    }

    mutating func prepareRebalance(config: SimGroupConfig, now: Int64) {
        if state == .completingRebalance {
            // Members waiting for their assignment must rejoin.
            for i in members.indices {
                members[i].assignment = []
                if let t = members[i].syncTicket {
                    outbox.append((t, .sync(.init(error: .rebalanceInProgress))))
                    members[i].syncTicket = nil
                    members[i].deadline = now + Int64(members[i].sessionTimeoutMs)
                }
            }
        }
        syncDeadline = nil
        pendingSync = []
        let initial = state == .empty
        state = .preparingRebalance
        stats.rebalances += 1
        if rebalanceStartMs == nil { rebalanceStartMs = now }
        if initial {
            // A new group waits for more members to join: the delay, extended while members keep joining, up to
            // the rebalance timeout.
            joinDeadline = now + config.initialRebalanceDelayMs
            initialDelay = (max(rebalanceTimeoutMs - config.initialRebalanceDelayMs, 0), false)
        } else {
            initialDelay = nil
            joinDeadline = now + rebalanceTimeoutMs
            maybeCompleteJoinPhase(config: config, now: now)
        }
    }

    /// The join phase completes once every member has rejoined (except during the initial delay).
    mutating func maybeCompleteJoinPhase(config: SimGroupConfig, now: Int64) {
        guard state == .preparingRebalance, initialDelay == nil, pendingMembers.isEmpty,
            members.allSatisfy({ $0.joinTicket != nil })
        else { return }
        completeJoin(config: config, now: now)
    }

    mutating func completeJoin(config: SimGroupConfig, now: Int64) {
        joinDeadline = nil
        initialDelay = nil
        // Dynamic members that did not rejoin in time are removed; static ones are kept for their return.
        for m in members where m.joinTicket == nil && m.instanceId == nil { remove(m.id, now: now) }
        if let l = leader, index(of: l).map({ members[$0].joinTicket == nil }) ?? true {
            leader = members.first { $0.joinTicket != nil }?.id ?? members.first?.id
        }
        if !members.isEmpty && !members.contains(where: { $0.joinTicket != nil }) {
            // Only static members that have not rejoined: wait another rebalance timeout.
            joinDeadline = now + rebalanceTimeoutMs
            return
        }
        generation += 1
        guard !members.isEmpty else {
            state = .empty
            protocolName = nil
            leader = nil
            emptySince = now
            persist()
            endRebalance(now: now)
            return
        }
        protocolName = selectProtocol()
        state = .completingRebalance
        for i in members.indices {
            guard let t = members[i].joinTicket else { continue }
            outbox.append((t, .join(joinResult(for: members[i].id, withMembers: members[i].id == leader))))
            members[i].joinTicket = nil
            members[i].isNew = false
            members[i].deadline = now + Int64(members[i].sessionTimeoutMs)
        }
        pendingSync = Set(members.map(\.id))
        syncDeadline = now + rebalanceTimeoutMs
    }

    /// The protocol every member supports that most members prefer.
    func selectProtocol() -> String? {
        guard let first = members.first else { return nil }
        let candidates = first.protocols.map(\.name).filter { name in
            members.allSatisfy { m in m.protocols.contains { $0.name == name } }
        }
        var votes: [String: Int] = [:]
        for m in members {
            if let vote = m.protocols.first(where: { candidates.contains($0.name) }) {
                votes[vote.name, default: 0] += 1
            }
        }
        return candidates.max { (votes[$0] ?? 0) < (votes[$1] ?? 0) }
    }

    mutating func endRebalance(now: Int64) {
        guard let start = rebalanceStartMs else { return }
        let ms = now - start
        stats.rebalancingMs += ms
        stats.longestRebalanceMs = max(stats.longestRebalanceMs, ms)
        rebalanceStartMs = nil
    }

    mutating func persist() {
        persisted = Persisted(
            state: state, generation: generation, protocolType: protocolType, protocolName: protocolName,
            leader: leader, members: members.map { $0.persisted })
    }

    // MARK: SyncGroup, Heartbeat, LeaveGroup

    mutating func sync(
        memberId: String, instanceId: String?, generation: Int32, protocolType: String?, protocolName: String?,
        assignments: [String: [UInt8]], ticket: Int, now: Int64
    ) -> SimGroupCall<SimSyncResult> {
        guard !members.isEmpty else { return .done(.init(error: .unknownMemberId)) }
        if let e = validateMember(memberId, instanceId) { return .done(.init(error: e)) }
        guard generation == self.generation else { return .done(.init(error: .illegalGeneration)) }
        if let protocolType, protocolType != self.protocolType {
            return .done(.init(error: .inconsistentGroupProtocol))
        }
        if let protocolName, protocolName != self.protocolName {
            return .done(.init(error: .inconsistentGroupProtocol))
        }
        let i = index(of: memberId)!
        switch state {
        case .preparingRebalance:
            return .done(.init(error: .rebalanceInProgress))
        case .completingRebalance:
            members[i].syncTicket = ticket
            members[i].deadline = nil
            removePendingSync(memberId)
            if memberId == leader {
                for j in members.indices { members[j].assignment = assignments[members[j].id] ?? [] }
                state = .stable
                persist()
                endRebalance(now: now)
                stats.completedRebalances += 1
                for j in members.indices {
                    guard let t = members[j].syncTicket else { continue }
                    outbox.append((t, .sync(syncResult(members[j]))))
                    members[j].syncTicket = nil
                    members[j].deadline = now + Int64(members[j].sessionTimeoutMs)
                }
            }
            return .pending(ticket: ticket)
        case .stable:
            removePendingSync(memberId)
            members[i].deadline = now + Int64(members[i].sessionTimeoutMs)
            return .done(syncResult(members[i]))
        case .empty, .dead:
            return .done(.init(error: .unknownMemberId))
        }
    }

    func syncResult(_ m: SimGroupMember) -> SimSyncResult {
        SimSyncResult(error: .none, protocolType: protocolType, protocolName: protocolName, assignment: m.assignment)
    }

    mutating func removePendingSync(_ memberId: String) {
        pendingSync.remove(memberId)
        if pendingSync.isEmpty { syncDeadline = nil }
    }

    mutating func heartbeat(memberId: String, instanceId: String?, generation: Int32, now: Int64) -> KafkaErrorCode {
        if state == .dead { return .coordinatorNotAvailable }
        if let e = validateMember(memberId, instanceId) { return e }
        guard generation == self.generation else { return .illegalGeneration }
        let i = index(of: memberId)!
        switch state {
        case .empty, .dead:
            return .unknownMemberId
        case .preparingRebalance:
            members[i].deadline = members[i].joinTicket == nil ? now + Int64(members[i].sessionTimeoutMs) : nil
            return .rebalanceInProgress
        case .completingRebalance, .stable:
            members[i].deadline = now + Int64(members[i].sessionTimeoutMs)
            return .none
        }
    }

    /// LeaveGroup for one member (by member id, or by instance id for a static member).
    mutating func leave(memberId: String, instanceId: String?, config: SimGroupConfig, now: Int64) -> KafkaErrorCode {
        if let instanceId {
            guard let i = staticMember(instanceId) else { return .unknownMemberId }
            guard memberId.isEmpty || members[i].id == memberId else { return .fencedInstanceId }
            removeAndRebalance(members[i].id, config: config, now: now)
            return .none
        }
        if pendingMembers.removeValue(forKey: memberId) != nil {
            maybeCompleteJoinPhase(config: config, now: now)
            return .none
        }
        guard index(of: memberId) != nil else { return .unknownMemberId }
        removeAndRebalance(memberId, config: config, now: now)
        return .none
    }

    /// Removes a member without changing the state: its waiting requests answer UNKNOWN_MEMBER_ID.
    mutating func remove(_ memberId: String, now: Int64) {
        guard let i = index(of: memberId) else { return }
        if let t = members[i].joinTicket {
            outbox.append((t, .join(.init(error: .unknownMemberId, memberId: memberId))))
        }
        if let t = members[i].syncTicket { outbox.append((t, .sync(.init(error: .unknownMemberId)))) }
        members.remove(at: i)
        removePendingSync(memberId)
        if leader == memberId { leader = members.first?.id }
        if members.isEmpty { emptySince = now }
    }

    mutating func removeAndRebalance(_ memberId: String, config: SimGroupConfig, now: Int64) {
        remove(memberId, now: now)
        switch state {
        case .stable, .completingRebalance: prepareRebalance(config: config, now: now)
        case .preparingRebalance: maybeCompleteJoinPhase(config: config, now: now)
        case .empty, .dead: break
        }
    }

    // MARK: timers

    /// Fires what is due at `now`: members whose session expired (a new member whose first join timed out),
    /// member ids handed out but never used, the end of the join phase, members that never synced.
    mutating func fireTimers(config: SimGroupConfig, now: Int64) {
        for (id, deadline) in pendingMembers where deadline <= now {
            pendingMembers[id] = nil
            maybeCompleteJoinPhase(config: config, now: now)
        }
        while let m = members.first(where: { $0.deadline.map { $0 <= now } ?? false }) {
            stats.sessionTimeouts += 1
            removeAndRebalance(m.id, config: config, now: now)
        }
        if let d = joinDeadline, d <= now, state == .preparingRebalance {
            if let delay = initialDelay, delay.newMemberAdded, delay.remaining > 0 {
                joinDeadline = now + min(config.initialRebalanceDelayMs, delay.remaining)
                initialDelay = (max(delay.remaining - config.initialRebalanceDelayMs, 0), false)
            } else {
                completeJoin(config: config, now: now)
            }
        }
        if let d = syncDeadline, d <= now, state == .completingRebalance || state == .stable {
            syncDeadline = nil
            for id in pendingSync { remove(id, now: now) }
            prepareRebalance(config: config, now: now)
        }
    }

    // MARK: coordinator moves

    /// The coordinator lost the group (its `__consumer_offsets` partition moved): waiting requests answer
    /// NOT_COORDINATOR, and the group goes back to what was last written, which the next coordinator loads.
    mutating func unload(now: Int64) {
        for m in members {
            if let t = m.joinTicket { outbox.append((t, .join(.init(error: .notCoordinator, memberId: m.id)))) }
            if let t = m.syncTicket { outbox.append((t, .sync(.init(error: .notCoordinator)))) }
        }
        endRebalance(now: now)
        if let p = persisted {
            state = p.state
            generation = p.generation
            protocolType = p.protocolType
            protocolName = p.protocolName
            leader = p.leader
            members = p.members
        } else {
            state = .empty
            protocolName = nil
            leader = nil
            members = []
        }
        pendingMembers = [:]
        pendingSync = []
        joinDeadline = nil
        syncDeadline = nil
        initialDelay = nil
    }

    /// The new coordinator loaded the group: every member's session starts now.
    mutating func load(now: Int64) {
        for i in members.indices { members[i].deadline = now + Int64(members[i].sessionTimeoutMs) }
    }

    // MARK: OffsetCommit

    /// Kafka's `validateOffsetCommit` for a classic group. A commit without member and generation (a consumer
    /// that assigns partitions itself, or an admin tool) is accepted only while the group is empty.
    func validateCommit(memberId: String, instanceId: String?, generation: Int32) -> KafkaErrorCode? {
        if state == .dead { return .coordinatorNotAvailable }
        if generation >= 0 || !memberId.isEmpty || instanceId != nil {
            if let e = validateMember(memberId, instanceId) { return e }
            if generation != self.generation { return .illegalGeneration }
        } else if state != .empty {
            return .unknownMemberId
        }
        return state == .completingRebalance ? .rebalanceInProgress : nil
    }
}

public struct SimGroupProtocol: Sendable, Equatable {
    public var name: String
    public var metadata: [UInt8]
    public init(name: String, metadata: [UInt8]) {
        self.name = name
        self.metadata = metadata
    }
}

public struct SimGroupMember: Sendable {
    public internal(set) var id: String
    public internal(set) var instanceId: String?
    public internal(set) var clientId: String
    public internal(set) var clientHost: String
    public internal(set) var sessionTimeoutMs: Int32
    public internal(set) var rebalanceTimeoutMs: Int32
    public internal(set) var protocolType: String
    public internal(set) var protocols: [SimGroupProtocol]
    public internal(set) var assignment: [UInt8] = []
    /// The waiting JoinGroup or SyncGroup of the member, by ticket.
    var joinTicket: Int?
    var syncTicket: Int?
    /// Added by a join that has not completed yet.
    var isNew = false
    /// When the member's session (or a new member's first join) expires; nil while it waits in a rebalance.
    var deadline: Int64?

    /// The member as written to `__consumer_offsets`: no requests waiting, no timers.
    var persisted: SimGroupMember {
        var m = self
        m.joinTicket = nil
        m.syncTicket = nil
        m.isNew = false
        m.deadline = nil
        return m
    }
}

public struct SimTopicPartition: Hashable, Sendable, Comparable {
    public var topic: String
    public var partition: Int32
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public static func < (a: Self, b: Self) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
}

public struct SimCommittedOffset: Sendable, Equatable {
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String?
    public var commitMs: Int64
    public init(offset: Int64, leaderEpoch: Int32 = -1, metadata: String? = nil, commitMs: Int64 = 0) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitMs = commitMs
    }
}

/// A JoinGroup as the engine needs it.
public struct SimJoinRequest: Sendable {
    public var groupId: String
    public var memberId: String
    public var instanceId: String?
    public var clientId: String
    public var clientHost = "/127.0.0.1"
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    public var protocolType: String
    public var protocols: [SimGroupProtocol]
    /// JoinGroup v4+ (KIP-394): a dynamic member without an id first gets one with MEMBER_ID_REQUIRED.
    public var requireKnownMemberId: Bool
    /// JoinGroup v9+ (KIP-814): a static leader rejoining a stable group may skip the assignment.
    public var supportsSkipAssignment: Bool

    public init(
        groupId: String, memberId: String = "", instanceId: String? = nil, clientId: String = "client",
        sessionTimeoutMs: Int32 = 45000, rebalanceTimeoutMs: Int32 = 300_000, protocolType: String = "consumer",
        protocols: [SimGroupProtocol] = [.init(name: "range", metadata: [])], requireKnownMemberId: Bool = true,
        supportsSkipAssignment: Bool = true
    ) {
        self.groupId = groupId
        self.memberId = memberId
        self.instanceId = instanceId
        self.clientId = clientId
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.protocolType = protocolType
        self.protocols = protocols
        self.requireKnownMemberId = requireKnownMemberId
        self.supportsSkipAssignment = supportsSkipAssignment
    }
}

public struct SimJoinResult: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var memberId: String
        public var instanceId: String?
        public var metadata: [UInt8]
    }
    public var error: KafkaErrorCode = .none
    public var generation: Int32 = -1
    public var protocolType: String?
    public var protocolName: String?
    public var leader = ""
    public var memberId: String
    public var skipAssignment = false
    public var members: [Member] = []
}

public struct SimSyncResult: Sendable, Equatable {
    public var error: KafkaErrorCode = .none
    public var protocolType: String?
    public var protocolName: String?
    public var assignment: [UInt8] = []
}

public enum SimGroupReply: Sendable, Equatable {
    case join(SimJoinResult)
    case sync(SimSyncResult)
}

/// An answer now, or later under a ticket (`SimCluster.takeGroupReply`).
public enum SimGroupCall<T: Sendable & Equatable>: Sendable, Equatable {
    case done(T)
    case pending(ticket: Int)
}

/// The coordinator configs the classic protocol reads (read-only broker configs, Kafka's defaults).
public struct SimGroupConfig: Sendable {
    public var initialRebalanceDelayMs: Int64 = 3000
    public var minSessionTimeoutMs: Int32 = 6000
    public var maxSessionTimeoutMs: Int32 = 1_800_000
    /// Kafka's `group.classic.new.member.join.timeout` (an internal constant of 5 minutes).
    public var newMemberJoinTimeoutMs: Int64 = 300_000
    public var offsetsRetentionMs: Int64 = 7 * 24 * 3_600_000
    public var offsetMetadataMaxBytes = 4096
}

/// A group's rebalances: started (each move to PreparingRebalance), completed (the leader's assignment made it
/// Stable), time spent rebalancing (cluster ms, until Stable or Empty), and members dropped for a missed session.
public struct SimGroupStats: Sendable, Equatable {
    public var rebalances = 0
    public var completedRebalances = 0
    public var longestRebalanceMs: Int64 = 0
    public var rebalancingMs: Int64 = 0
    public var sessionTimeouts = 0
    public init() {}
}
