public import KafkaWire

/// Consumer groups on the cluster: the coordinator of a group is the leader of its `__consumer_offsets` partition
/// (created with `offsets.topic.num.partitions` partitions on the first FindCoordinator, as Kafka does), so it
/// moves when that broker stops or crashes. A new coordinator loads the group for `coordinatorLoadMs`
/// (COORDINATOR_LOAD_IN_PROGRESS meanwhile) from what was written: committed offsets and the last stable
/// membership survive, requests that waited answer NOT_COORDINATOR, and group timers do not run while no
/// coordinator holds the group.
extension SimCluster {
    /// Where a coordinator stands on one `__consumer_offsets` partition.
    struct CoordinatorLoad: Sendable {
        var leader: Int32
        var epoch: Int32
        var readyAt: Int64?
        var loaded: Bool
    }

    // MARK: coordinator

    /// Java's `String.hashCode`, which Kafka's `partitionFor(groupId)` uses.
    static func javaHash(_ s: String) -> Int32 {
        var h: Int32 = 0
        for u in s.utf16 { h = 31 &* h &+ Int32(u) }
        return h
    }

    /// The `__consumer_offsets` partition id that holds `group`, if the topic exists.
    public func offsetsPartition(for group: String) -> Int32? {
        guard let t = topicIndex[Self.offsetsTopic], !topics[t].deleted, !topics[t].partitions.isEmpty else {
            return nil
        }
        return (Self.javaHash(group) & 0x7fff_ffff) % Int32(topics[t].partitions.count)
    }

    func offsetsPartitionIndex(_ q: Int32) -> Int32? {
        topicIndex[Self.offsetsTopic].map { topics[$0].partitions[Int(q)] }
    }

    /// The group's coordinator: the leader of its offsets partition (-1 when offline or the topic is missing).
    public func coordinator(of group: String) -> Int32 {
        guard let q = offsetsPartition(for: group), let p = offsetsPartitionIndex(q) else { return -1 }
        return partitions[Int(p)].leader
    }

    /// Why broker `broker` cannot serve a request for `group` now (nil: it can).
    func coordinatorError(group: String, broker: Int32) -> KafkaErrorCode? {
        guard let q = offsetsPartition(for: group), let p = offsetsPartitionIndex(q) else { return .notCoordinator }
        guard partitions[Int(p)].leader == broker, node(broker)?.isServing == true else { return .notCoordinator }
        return coordinators[q]?.loaded == true ? nil : .coordinatorLoadInProgress
    }

    /// Whether the coordinator of offsets partition `q` runs its groups' timers: loaded and its broker up.
    func coordinatorActive(_ q: Int32) -> Bool {
        guard let load = coordinators[q], load.loaded else { return false }
        return node(load.leader)?.isServing == true
    }

    /// FindCoordinator for a group. The first request creates `__consumer_offsets` and answers
    /// COORDINATOR_NOT_AVAILABLE, as Kafka does; so does an offline offsets partition. When the topic cannot be
    /// created (fewer brokers than `offsets.topic.replication.factor`) the message says why, where Kafka only logs
    /// it.
    public mutating func findCoordinator(group: String) -> Result<Int32, SimFailure> {
        if topicIndex[Self.offsetsTopic] == nil {
            let anyBroker = nodes.first { $0.isBroker }?.id ?? -1
            let count = Int(brokerConfig(anyBroker, "offsets.topic.num.partitions")?.value ?? "") ?? 50
            let rf = Int(brokerConfig(anyBroker, "offsets.topic.replication.factor")?.value ?? "") ?? 3
            do {
                try createTopic(
                    name: Self.offsetsTopic, partitions: count, replicationFactor: rf,
                    configs: [
                        "cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": "104857600",
                    ])
                refreshCoordinators()
                return .failure(SimFailure(.coordinatorNotAvailable, ""))
            } catch {
                return .failure(
                    SimFailure(
                        .coordinatorNotAvailable,
                        "The coordinator is not available: creating \(Self.offsetsTopic) failed: \(error.message)"))
            }
        }
        let leader = coordinator(of: group)
        // Kafka 4.1 sends no message with this error (an empty one).
        guard leader >= 0 else { return .failure(SimFailure(.coordinatorNotAvailable, "")) }
        return .success(leader)
    }

    /// Notices leader changes of `__consumer_offsets` partitions: the old coordinator unloads its groups, the new
    /// one loads them after `coordinatorLoadMs`.
    mutating func refreshCoordinators() {
        guard let t = topicIndex[Self.offsetsTopic], !topics[t].deleted else { return }
        for (q, p) in topics[t].partitions.enumerated() {
            let part = partitions[Int(p)]
            let q = Int32(q)
            var load = coordinators[q]
            if load == nil || load!.leader != part.leader || load!.epoch != part.leaderEpoch {
                if load != nil { forEachGroup(in: q) { g, now in g.unload(now: now) } }
                load = CoordinatorLoad(
                    leader: part.leader, epoch: part.leaderEpoch,
                    readyAt: part.leader >= 0 ? now + settings.coordinatorLoadMs : nil, loaded: false)
            }
            if !load!.loaded, let ready = load!.readyAt, now >= ready {
                load!.loaded = true
                forEachGroup(in: q) { g, now in g.load(now: now) }
            }
            coordinators[q] = load
        }
    }

    mutating func forEachGroup(in q: Int32, _ body: (inout SimGroup, Int64) -> Void) {
        for id in groups.keys where offsetsPartition(for: id) == q {
            var g = groups[id]!
            body(&g, now)
            store(g)
        }
    }

    /// Writes a group back and hands its queued replies over to `groupReplies`.
    mutating func store(_ g: SimGroup) {
        var g = g
        for (ticket, reply) in g.outbox { groupReplies[ticket] = reply }
        g.outbox = []
        groups[g.id] = g
    }

    /// A new group; the figures of a forgotten group of the same id carry on.
    mutating func makeGroup(_ id: String) -> SimGroup {
        var g = SimGroup(id: id, now: now)
        if let old = clientStats.removedGroups.removeValue(forKey: id) { g.stats = old }
        return g
    }

    /// The reply to a request that waited, once there is one.
    public mutating func takeGroupReply(_ ticket: Int) -> SimGroupReply? {
        groupReplies.removeValue(forKey: ticket)
    }

    mutating func newTicket() -> Int {
        nextGroupTicket += 1
        return nextGroupTicket
    }

    func groupConfig() -> SimGroupConfig {
        let b = nodes.first { $0.isBroker }?.id ?? -1
        func int(_ key: String) -> Int64? { brokerConfig(b, key)?.value.flatMap { Int64($0) } }
        var c = SimGroupConfig()
        if let v = int("group.initial.rebalance.delay.ms") { c.initialRebalanceDelayMs = v }
        if let v = int("group.min.session.timeout.ms") { c.minSessionTimeoutMs = Int32(clamping: v) }
        if let v = int("group.max.session.timeout.ms") { c.maxSessionTimeoutMs = Int32(clamping: v) }
        if let v = int("offsets.retention.minutes") { c.offsetsRetentionMs = v * 60_000 }
        if let v = int("offset.metadata.max.bytes") { c.offsetMetadataMaxBytes = Int(v) }
        return c
    }

    /// A member id as Kafka makes one: the client id (or the instance id of a static member), a dash, a UUID.
    mutating func newMemberId(prefix: String) -> String {
        let b = rng.uuid()
        let hex = b.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }
        let s = hex.joined()
        let parts = [s.prefix(8), s.dropFirst(8).prefix(4), s.dropFirst(12).prefix(4), s.dropFirst(16).prefix(4)]
        return prefix + "-" + parts.joined(separator: "-") + "-" + s.dropFirst(20)
    }

    // MARK: the classic protocol

    public mutating func joinGroup(_ r: SimJoinRequest, broker: Int32) -> SimGroupCall<SimJoinResult> {
        refreshCoordinators()
        let config = groupConfig()
        if let e = coordinatorError(group: r.groupId, broker: broker) {
            return .done(.init(error: e, memberId: r.memberId))
        }
        guard !r.groupId.isEmpty else { return .done(.init(error: .invalidGroupId, memberId: r.memberId)) }
        guard r.sessionTimeoutMs >= config.minSessionTimeoutMs, r.sessionTimeoutMs <= config.maxSessionTimeoutMs else {
            return .done(.init(error: .invalidSessionTimeout, memberId: r.memberId))
        }
        if groups[r.groupId] == nil {
            // Only a member without an id creates a group.
            guard r.memberId.isEmpty else { return .done(.init(error: .unknownMemberId, memberId: r.memberId)) }
            groups[r.groupId] = makeGroup(r.groupId)
        }
        var g = groups[r.groupId]!
        let ticket = newTicket()
        let newId = r.memberId.isEmpty ? newMemberId(prefix: r.instanceId ?? r.clientId) : r.memberId
        let call = g.join(r, ticket: ticket, newMemberId: newId, config: config, now: now)
        store(g)
        return settle(call)
    }

    /// A request that waited may have been answered within the same call (a one-member rejoin, the leader's sync).
    mutating func settle<T>(_ call: SimGroupCall<T>) -> SimGroupCall<T> {
        guard case .pending(let ticket) = call, let reply = groupReplies[ticket] else { return call }
        switch reply {
        case .join(let r as T), .sync(let r as T):
            groupReplies[ticket] = nil
            return .done(r)
        default:
            return call
        }
    }

    public mutating func syncGroup(
        group: String, generation: Int32, memberId: String, instanceId: String?, protocolType: String?,
        protocolName: String?, assignments: [String: [UInt8]], broker: Int32
    ) -> SimGroupCall<SimSyncResult> {
        refreshCoordinators()
        if let e = coordinatorError(group: group, broker: broker) { return .done(.init(error: e)) }
        guard var g = groups[group] else { return .done(.init(error: .unknownMemberId)) }
        let ticket = newTicket()
        let call = g.sync(
            memberId: memberId, instanceId: instanceId, generation: generation, protocolType: protocolType,
            protocolName: protocolName, assignments: assignments, ticket: ticket, now: now)
        store(g)
        return settle(call)
    }

    public mutating func heartbeat(
        group: String, generation: Int32, memberId: String, instanceId: String?, broker: Int32
    ) -> KafkaErrorCode {
        refreshCoordinators()
        if let e = coordinatorError(group: group, broker: broker) { return e }
        guard var g = groups[group] else { return .unknownMemberId }
        let e = g.heartbeat(memberId: memberId, instanceId: instanceId, generation: generation, now: now)
        store(g)
        return e
    }

    /// LeaveGroup: the group-level error (coordinator) and one error per member.
    public mutating func leaveGroup(group: String, members: [(memberId: String, instanceId: String?)], broker: Int32)
        -> (error: KafkaErrorCode, members: [KafkaErrorCode])
    {
        refreshCoordinators()
        if let e = coordinatorError(group: group, broker: broker) { return (e, members.map { _ in e }) }
        guard var g = groups[group] else { return (.none, members.map { _ in .unknownMemberId }) }
        let config = groupConfig()
        let errors = members.map { g.leave(memberId: $0.memberId, instanceId: $0.instanceId, config: config, now: now) }
        store(g)
        return (.none, errors)
    }

    // MARK: offsets

    /// OffsetCommit: the group-level error, if any, else one error per partition.
    public mutating func commitOffsets(
        group: String, generation: Int32, memberId: String, instanceId: String?,
        offsets: [(SimTopicPartition, SimCommittedOffset)], broker: Int32
    ) -> [KafkaErrorCode] {
        refreshCoordinators()
        if let e = coordinatorError(group: group, broker: broker) { return offsets.map { _ in e } }
        if groups[group] == nil {
            // A commit outside any membership (generation -1) creates an empty group; any other finds none.
            guard generation < 0 else { return offsets.map { _ in .illegalGeneration } }
            groups[group] = makeGroup(group)
        }
        var g = groups[group]!
        if let e = g.validateCommit(memberId: memberId, instanceId: instanceId, generation: generation) {
            return offsets.map { _ in e }
        }
        let config = groupConfig()
        let errors: [KafkaErrorCode] = offsets.map { tp, committed in
            guard partitionIndex(topic: tp.topic, partition: tp.partition) != nil else {
                return .unknownTopicOrPartition
            }
            guard (committed.metadata?.utf8.count ?? 0) <= config.offsetMetadataMaxBytes else {
                return .offsetMetadataTooLarge
            }
            var c = committed
            c.commitMs = now
            g.offsets[tp] = c
            return .none
        }
        store(g)
        return errors
    }

    /// OffsetFetch for one group: the group-level error, or the committed offsets asked for (all when `only` is
    /// nil); a partition without a commit has none (the client shows -1).
    public mutating func fetchOffsets(group: String, only: [SimTopicPartition]?, broker: Int32) -> (
        error: KafkaErrorCode, offsets: [(SimTopicPartition, SimCommittedOffset?)]
    ) {
        refreshCoordinators()
        if let e = coordinatorError(group: group, broker: broker) { return (e, []) }
        let committed = groups[group]?.offsets ?? [:]
        if let only { return (.none, only.map { ($0, committed[$0]) }) }
        return (.none, committed.keys.sorted().map { ($0, committed[$0]) })
    }

    /// ListGroups on one broker: the groups it coordinates (COORDINATOR_LOAD_IN_PROGRESS while any of its offsets
    /// partitions loads).
    public mutating func listGroups(broker: Int32) -> (error: KafkaErrorCode, groups: [SimGroup]) {
        refreshCoordinators()
        let mine = coordinators.filter { $0.value.leader == broker }
        if mine.values.contains(where: { !$0.loaded }) { return (.coordinatorLoadInProgress, []) }
        let listed = groups.values.filter { g in offsetsPartition(for: g.id).map { mine[$0] != nil } ?? false }
        return (.none, listed.sorted { $0.id < $1.id })
    }

    /// DescribeGroups for one group: an error, or the group (nil: Kafka describes an unknown group as Dead).
    public mutating func describeGroup(_ id: String, broker: Int32) -> Result<SimGroup?, SimFailure> {
        refreshCoordinators()
        if let e = coordinatorError(group: id, broker: broker) { return .failure(SimFailure(e, e.name)) }
        return .success(groups[id])
    }

    // MARK: time

    /// The next group timer or coordinator load, on coordinators that run.
    func nextGroupEvent() -> Int64? {
        var next = coordinators.values.compactMap { $0.loaded ? nil : $0.readyAt }.min()
        for g in groups.values {
            guard let q = offsetsPartition(for: g.id), coordinatorActive(q), let d = g.nextDeadline else { continue }
            next = min(next ?? d, d)
        }
        return next
    }

    mutating func fireGroupTimers() {
        guard !groups.isEmpty || !coordinators.isEmpty else { return }
        refreshCoordinators()
        let config = groupConfig()
        for id in Array(groups.keys) {
            guard var g = groups[id], let q = offsetsPartition(for: id), coordinatorActive(q),
                let d = g.nextDeadline, d <= now
            else { continue }
            g.fireTimers(config: config, now: now)
            store(g)
        }
    }

    /// Kafka's offset expiry (`offsets.retention.minutes` after a group became empty) and the removal of empty
    /// groups with nothing committed.
    mutating func expireGroups() {
        let config = groupConfig()
        for (id, g) in groups where g.members.isEmpty && g.pendingMembers.isEmpty {
            var g = g
            if let since = g.emptySince, now - since >= config.offsetsRetentionMs { g.offsets = [:] }
            if g.offsets.isEmpty {
                clientStats.removedGroups[id] = g.stats
                groups[id] = nil
            } else {
                groups[id] = g
            }
        }
    }

    /// Offsets of a deleted topic go with it.
    mutating func dropCommittedOffsets(topic: String) {
        for id in Array(groups.keys) { groups[id]!.offsets = groups[id]!.offsets.filter { $0.key.topic != topic } }
    }
}
