public import KafkaModel

/// The next batch that the live cluster proves safe, or why none may start.
public struct BatchDecision: Sendable, Hashable {
    /// Node ids to restart together; empty when the roll must wait (see `blocked` and `held`) or is done.
    public var batch: [Int32]
    public var zone: String
    public var cluster: String
    /// The batch is one node that is already down or not serving.
    public var isDownNode: Bool
    /// Reasons that hold the whole roll (offline partitions, failure budget).
    public var blocked: [HoldReason]
    /// For every remaining node not in the batch, the partition or rule that keeps it out.
    public var held: [Int32: HoldReason]
    /// Things reported once that do not block (topics whose RF makes the ISR rule unsatisfiable, overrides).
    public var warnings: [String]

    public var isDone: Bool { batch.isEmpty && blocked.isEmpty && held.isEmpty }
}

/// All batches of a roll as the current snapshot predicts them (for `--dry-run`): each batch is assumed to come
/// back fully in sync before the next one.
public struct RollPlan: Sendable, Hashable {
    public struct Batch: Sendable, Hashable {
        public var nodes: [Int32]
        public var zone: String
        public var cluster: String
        public var isDownNode: Bool
    }
    public var batches: [Batch]
    /// Why each node is not in the first batch.
    public var heldFromFirst: [Int32: HoldReason]
    /// When the plan cannot finish: the reasons that hold it, and the nodes left.
    public var blocked: [HoldReason]
    public var unplanned: [Int32: HoldReason]
    public var warnings: [String]
}

/// Chooses the largest safe batch of nodes to restart, from real placement and ISR.
///
/// Rules (a node `n` may join batch `B` when all hold):
/// - no partition is offline, and active rollout-blocking signals do not exceed the failure threshold (whole roll);
/// - every partition with an in-sync replica in `B ∪ {n}` keeps `|ISR − B − n| ≥ min ISR + headroom`
///   (headroom lowered to `RF − 1 − min ISR` where the RF leaves no room; topics with RF ≤ min ISR are exempt and
///   reported once);
/// - no partition already under min ISR has a replica on `n`, unless `n` is down (restarting it is the cure);
/// - at most one controller per batch; the caught-up voters left form a majority; the active controller goes
///   after every other controller;
/// - nodes that are down or not serving go first, one at a time;
/// - a batch stays within one zone and one Kubernetes cluster (options), and within `maxBatch`.
///
/// The index is built once per snapshot (partitions by node, bit-packed ISR membership), so a decision over a
/// million replicas is a few linear passes.
public struct BatchPlanner: Sendable {
    let snapshot: ClusterSnapshot
    let options: RollOptions
    // Nodes known to the agents, densely numbered.
    let ids: [Int32]
    let denseOf: [Int32: Int]
    let groupOf: [Int]
    let groups: [(zone: String, cluster: String)]
    var isDown: [Bool]
    let isController: [Bool]
    var isCaughtUpVoter: [Bool]
    let activeController: Int?
    var caughtUpVoters: Int
    let majority: Int
    // Per node: (partition index << 1) | (1 if the node is in the partition's ISR).
    /// Flat (CSR): node `b`'s entries are `entries[offsets[b]..<offsets[b + 1]]`.
    var entries: [UInt32]
    let offsets: [Int]
    // Per partition.
    var isrCount: [Int32]
    let minIsr: [Int32]
    /// -1: exempt (RF ≤ min ISR).
    let required: [Int32]
    let location: [(topic: Int32, partition: Int32)]
    let offline: [Int]
    let warnings: [String]
    // Scratch state of the batch being built.
    var inBatchIsr: [UInt8]
    /// Hot-path summary per partition: `(ISR − required) << 1 | underMinIsr`; exempt partitions get a huge slack.
    var slack: [Int32]
    var batchControllers: [Int] = []
    var batchCaughtUp = 0

    public init(snapshot: ClusterSnapshot, nodes: [NodeInfo], options: RollOptions, nowMillis: Int64) {
        self.snapshot = snapshot
        self.options = options
        let sortedNodes = nodes.sorted { $0.id < $1.id }
        let ids = sortedNodes.map(\.id)
        self.ids = ids
        var denseOf: [Int32: Int] = [:]
        for (i, n) in sortedNodes.enumerated() { denseOf[n.id] = i }
        self.denseOf = denseOf

        var rackOf: [Int32: String] = [:]
        for b in snapshot.brokers { rackOf[b.id] = b.rack }
        var groupIndex: [String: Int] = [:]
        var groups: [(zone: String, cluster: String)] = []
        var groupOf: [Int] = []
        for n in sortedNodes {
            let zone = options.batchWithinZone ? (n.zone ?? rackOf[n.id] ?? "") : ""
            let cluster = options.batchWithinCluster ? (n.cluster ?? "") : ""
            let key = cluster + "\u{0}" + zone
            if let g = groupIndex[key] {
                groupOf.append(g)
            } else {
                groupIndex[key] = groups.count
                groupOf.append(groups.count)
                groups.append((zone, cluster))
            }
        }
        self.groupOf = groupOf
        self.groups = groups

        let registered = Set(snapshot.brokers.map(\.id))
        isDown = sortedNodes.map { !$0.ready || ($0.roles.contains(.broker) && !registered.contains($0.id)) }

        let voterIds = Set(snapshot.quorum?.voters.map(\.replicaId) ?? [])
        let isController = sortedNodes.map { $0.roles.contains(.controller) || voterIds.contains($0.id) }
        self.isController = isController
        var caughtUp = Set<Int32>()
        if let q = snapshot.quorum {
            for v in q.voters
            where v.replicaId == q.leaderId || (q.highWatermark > 0 && v.logEndOffset >= q.highWatermark)
                || (v.lastCaughtUpTimestamp >= 0
                    && nowMillis - v.lastCaughtUpTimestamp <= options.quorumCaughtUpWindowMs)
            {
                caughtUp.insert(v.replicaId)
            }
            majority = q.voters.count / 2 + 1
        } else {
            majority = 0
        }
        caughtUpVoters = caughtUp.count
        isCaughtUpVoter = sortedNodes.map { caughtUp.contains($0.id) }
        let activeId = snapshot.quorum?.leaderId ?? snapshot.controllerId
        if let a = denseOf[activeId], isController[a] { activeController = a } else { activeController = nil }

        // Node id → dense index without hashing per replica when ids are small (the usual case).
        let maxId = ids.last ?? -1
        let direct: [Int32]? =
            maxId >= 0 && maxId < 1 << 20 && (ids.first ?? 0) >= 0
            ? {
                var a = [Int32](repeating: -1, count: Int(maxId) + 1)
                for (i, id) in ids.enumerated() { a[Int(id)] = Int32(i) }
                return a
            }() : nil
        @inline(__always) func dense(_ id: Int32) -> Int {
            if let direct {
                return id >= 0 && Int(id) < direct.count ? Int(direct[Int(id)]) : -1
            }
            return denseOf[id] ?? -1
        }

        var isrCount: [Int32] = []
        var minIsr: [Int32] = []
        var required: [Int32] = []
        var location: [(topic: Int32, partition: Int32)] = []
        var offline: [Int] = []
        var warnings: [String] = []
        let total = snapshot.topics.reduce(0) { $0 + $1.partitions.count }
        isrCount.reserveCapacity(total)
        minIsr.reserveCapacity(total)
        required.reserveCapacity(total)
        location.reserveCapacity(total)
        // Two passes over the replicas: count per node, then fill one flat buffer (no per-append checks).
        var offsets = [Int](repeating: 0, count: sortedNodes.count + 1)
        for topic in snapshot.topics {
            for p in topic.partitions {
                for r in p.replicas {
                    let d = dense(r)
                    if d >= 0 { offsets[d + 1] += 1 }
                }
            }
        }
        for d in 0..<sortedNodes.count { offsets[d + 1] += offsets[d] }
        let flat = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: max(1, offsets[sortedNodes.count]))
        defer { flat.deallocate() }
        let cursor = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(1, sortedNodes.count))
        defer { cursor.deallocate() }
        for d in 0..<sortedNodes.count { cursor[d] = offsets[d] }
        for (ti, topic) in snapshot.topics.enumerated() {
            var exempt = false
            var clamped = false
            topic.partitions.withUnsafeBufferPointer { partitions in
                for pi in partitions.indices {
                    let index = UInt32(isrCount.count)
                    let rf = partitions[pi].replicas.count
                    let m = topic.minInSyncReplicas
                    var need: Int
                    if rf <= m {
                        need = -1
                        exempt = true
                    } else {
                        need = m + options.headroom
                        if need > rf - 1 {
                            need = rf - 1
                            clamped = true
                        }
                    }
                    let isr = partitions[pi].isr
                    isrCount.append(Int32(isr.count))
                    minIsr.append(Int32(m))
                    required.append(Int32(need))
                    location.append((Int32(ti), Int32(pi)))
                    if partitions[pi].leader < 0 { offline.append(Int(index)) }
                    for r in partitions[pi].replicas {
                        let d = dense(r)
                        if d < 0 { continue }
                        let inIsr: UInt32 = isr.contains(r) ? 1 : 0
                        flat[cursor[d]] = index << 1 | inIsr
                        cursor[d] += 1
                    }
                }
            }
            if exempt {
                warnings.append(
                    "topic \(topic.name) has partitions with replication factor ≤ min.insync.replicas "
                        + "(\(topic.minInSyncReplicas)); acks=all produce to them fails while one of their replicas "
                        + "restarts, and they do not hold the roll")
            }
            if clamped {
                warnings.append(
                    "topic \(topic.name): headroom \(options.headroom) exceeds what its replication factor allows; "
                        + "a full ISR is required instead before restarting one of its replicas")
            }
        }
        if options.allowOfflinePartitions && !offline.isEmpty {
            warnings.append(
                "rolling with \(offline.count) offline partition(s) because offline partitions are allowed by override")
        }
        entries = Array(flat.prefix(offsets[sortedNodes.count]))
        self.offsets = offsets
        self.isrCount = isrCount
        self.minIsr = minIsr
        self.required = required
        self.location = location
        self.offline = offline
        self.warnings = warnings
        inBatchIsr = [UInt8](repeating: 0, count: isrCount.count)
        slack = (0..<isrCount.count).map { Self.slack(isr: isrCount[$0], minIsr: minIsr[$0], required: required[$0]) }
    }

    func ref(_ p: Int) -> TopicPartition {
        let (t, i) = location[p]
        return TopicPartition(
            topic: snapshot.topics[Int(t)].name, partition: snapshot.topics[Int(t)].partitions[Int(i)].partition)
    }

    func group(_ b: Int) -> (zone: String, cluster: String) { groups[groupOf[b]] }

    // MARK: Building a batch

    /// Whether node `b` may join the batch being built; the first rule it breaks otherwise.
    func check(_ b: Int, remaining: [Bool]) -> HoldReason? {
        if isController[b] {
            if let other = batchControllers.first { return .controllerInBatch(ids[other]) }
            if b == activeController {
                for c in ids.indices where c != b && remaining[c] && isController[c] { return .activeControllerLast }
            }
            if isCaughtUpVoter[b] && caughtUpVoters - batchCaughtUp - 1 < majority {
                return .quorumMajority(caughtUpAfter: caughtUpVoters - batchCaughtUp - 1, majority: majority)
            }
        }
        guard let p = firstConflict(b) else { return nil }
        let after = isrCount[p] - Int32(inBatchIsr[p]) - 1
        if isrCount[p] < minIsr[p] {
            return .underMinIsr(ref(p), isr: Int(isrCount[p]), minIsr: Int(minIsr[p]))
        }
        return .isrTooSmall(ref(p), isrAfter: Int(after), required: Int(required[p]), together: together(p))
    }

    /// The first partition that node `b` may not take down with the batch (the hot loop: no allocation, no
    /// bounds checks beyond the buffers).
    func firstConflict(_ b: Int) -> Int? {
        let down = isDown[b]
        return entries.withUnsafeBufferPointer { all in
            let es = UnsafeBufferPointer(rebasing: all[offsets[b]..<offsets[b + 1]])
            return slack.withUnsafeBufferPointer { slack in
                inBatchIsr.withUnsafeBufferPointer { inBatch -> Int? in
                    for e in es {
                        let p = Int(e >> 1)
                        let v = slack[p]
                        if e & 1 == 1 {
                            // ISR − batch − this node < required  ⇔  batch members in ISR ≥ ISR − required.
                            if Int32(inBatch[p]) >= v >> 1 { return p }
                        } else if v & 1 == 1 && !down {
                            return p
                        }
                    }
                    return nil
                }
            }
        }
    }

    static func slack(isr: Int32, minIsr: Int32, required: Int32) -> Int32 {
        if required < 0 { return (Int32.max >> 2) << 1 }
        return (isr - required) << 1 | (isr < minIsr ? 1 : 0)
    }

    /// Nodes of the batch being built that are in partition `p`'s ISR.
    func together(_ p: Int) -> [Int32] {
        guard inBatchIsr[p] > 0 else { return [] }
        let (t, i) = location[p]
        let isr = snapshot.topics[Int(t)].partitions[Int(i)].isr
        let inBatch = Set(batchNodes)
        return isr.filter { inBatch.contains($0) }
    }

    var batchNodes: [Int32] = []

    mutating func add(_ b: Int) {
        batchNodes.append(ids[b])
        if isController[b] { batchControllers.append(b) }
        if isCaughtUpVoter[b] { batchCaughtUp += 1 }
        let range = offsets[b]..<offsets[b + 1]
        entries.withUnsafeBufferPointer { all in
            inBatchIsr.withUnsafeMutableBufferPointer { inBatch in
                for e in all[range] where e & 1 == 1 { inBatch[Int(e >> 1)] += 1 }
            }
        }
    }

    mutating func resetBatch() {
        // A memset of one byte per partition: cheaper than tracking what the batch touched.
        inBatchIsr.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        batchControllers.removeAll(keepingCapacity: true)
        batchNodes.removeAll(keepingCapacity: true)
        batchCaughtUp = 0
    }

    /// Greedy largest safe set among `members`, leaving the scratch state holding it.
    mutating func greedy(_ members: [Int], remaining: [Bool], cap: Int) -> (batch: [Int], activeHeld: Bool) {
        resetBatch()
        var batch: [Int] = []
        var activeHeld = false
        // The active controller is tried last so a plain controller of the group gets the controller slot.
        let ordered = members.filter { $0 != activeController } + members.filter { $0 == activeController }
        for b in ordered {
            if batch.count >= cap { break }
            if let reason = check(b, remaining: remaining) {
                if case .activeControllerLast = reason { activeHeld = true }
                continue
            }
            add(b)
            batch.append(b)
        }
        return (batch, activeHeld)
    }

    // MARK: Decisions

    /// The next batch among `remaining` node ids.
    /// - Parameter explain: also say why each node outside the batch is held (for dry runs and waits); the gate
    ///   of a live roll only needs the reasons when no batch can start, which are always given.
    public mutating func nextBatch(remaining: Set<Int32>, activeSignals: Int = 0, explain: Bool = true)
        -> BatchDecision
    {
        var decision = BatchDecision(
            batch: [], zone: "", cluster: "", isDownNode: false, blocked: [], held: [:], warnings: warnings)
        var rem = [Bool](repeating: false, count: ids.count)
        for id in remaining {
            if let d = denseOf[id] { rem[d] = true } else { decision.held[id] = .noAgent }
        }
        if !options.allowOfflinePartitions, let first = offline.first {
            decision.blocked.append(.offlinePartitions(count: offline.count, example: ref(first)))
        }
        if activeSignals > options.failureThreshold {
            decision.blocked.append(.failureBudget(active: activeSignals, threshold: options.failureThreshold))
        }
        if !decision.blocked.isEmpty { return decision }
        let remainingIdx = ids.indices.filter { rem[$0] }
        if remainingIdx.isEmpty { return decision }

        // Down nodes first, one at a time.
        let down = remainingIdx.filter { isDown[$0] }
        if !down.isEmpty {
            resetBatch()
            var chosen: Int?
            for b in down {
                if let reason = check(b, remaining: rem) {
                    decision.held[ids[b]] = reason
                } else if chosen == nil {
                    chosen = b
                }
            }
            if let chosen {
                for b in remainingIdx where b != chosen { decision.held[ids[b]] = .downNodeFirst(ids[chosen]) }
                decision.batch = [ids[chosen]]
                (decision.zone, decision.cluster) = group(chosen)
                decision.isDownNode = true
            } else {
                for b in remainingIdx where decision.held[ids[b]] == nil {
                    decision.held[ids[b]] = .downNodeFirst(ids[down[0]])
                }
            }
            return decision
        }

        // Largest safe batch per group; groups holding the active controller back go after the others.
        let cap = max(1, options.maxBatch ?? Int.max)
        var members = [[Int]](repeating: [], count: groups.count)
        for b in remainingIdx { members[groupOf[b]].append(b) }
        var best: (group: Int, batch: [Int], activeHeld: Bool)?
        for g in members.indices where !members[g].isEmpty {
            let (batch, activeHeld) = greedy(members[g], remaining: rem, cap: cap)
            guard !batch.isEmpty else { continue }
            if let b = best {
                let better =
                    (b.activeHeld && !activeHeld) || (b.activeHeld == activeHeld && batch.count > b.batch.count)
                if !better { continue }
            }
            best = (g, batch, activeHeld)
        }
        guard let best else {
            // Nothing can go: say why for each node, alone.
            for b in remainingIdx {
                resetBatch()
                decision.held[ids[b]] = check(b, remaining: rem) ?? .batchFull(cap)
            }
            resetBatch()
            return decision
        }
        let batch = best.batch
        decision.batch = batch.map { ids[$0] }
        (decision.zone, decision.cluster) = group(batch[0])
        guard explain else {
            resetBatch()
            return decision
        }
        // Nodes of other groups: held by their own partitions when they could not go even alone, else by grouping.
        let chosenGroup = groups[best.group]
        resetBatch()
        for b in remainingIdx where groupOf[b] != best.group {
            decision.held[ids[b]] =
                check(b, remaining: rem) ?? .otherGroup(zone: chosenGroup.zone, cluster: chosenGroup.cluster)
        }
        if batch.count < members[best.group].count {
            _ = greedy(members[best.group], remaining: rem, cap: cap)
            let inBatch = Set(batch)
            for b in members[best.group] where !inBatch.contains(b) {
                decision.held[ids[b]] = check(b, remaining: rem) ?? .batchFull(cap)
            }
        }
        resetBatch()
        return decision
    }

    /// Every batch, assuming each comes back fully in sync before the next (the snapshot does not change otherwise).
    public func plan(nodes: Set<Int32>, activeSignals: Int = 0) -> RollPlan {
        var sim = self
        var remaining = nodes
        var plan = RollPlan(batches: [], heldFromFirst: [:], blocked: [], unplanned: [:], warnings: warnings)
        while !remaining.isEmpty {
            let d = sim.nextBatch(remaining: remaining, activeSignals: activeSignals, explain: plan.batches.isEmpty)
            if plan.batches.isEmpty { plan.heldFromFirst = d.held }
            if d.batch.isEmpty {
                plan.blocked = d.blocked
                plan.unplanned = d.held
                break
            }
            plan.batches.append(.init(nodes: d.batch, zone: d.zone, cluster: d.cluster, isDownNode: d.isDownNode))
            for id in d.batch {
                remaining.remove(id)
                sim.restore(id)
            }
        }
        return plan
    }

    /// Simulates node `id` back up and in sync on all its replicas.
    mutating func restore(_ id: Int32) {
        guard let b = denseOf[id] else { return }
        isDown[b] = false
        if isController[b] && !isCaughtUpVoter[b] && majority > 0 {
            isCaughtUpVoter[b] = true
            caughtUpVoters += 1
        }
        for k in offsets[b]..<offsets[b + 1] where entries[k] & 1 == 0 {
            let e = entries[k]
            entries[k] = e | 1
            let p = Int(e >> 1)
            isrCount[p] += 1
            slack[p] = Self.slack(isr: isrCount[p], minIsr: minIsr[p], required: required[p])
        }
    }
}
