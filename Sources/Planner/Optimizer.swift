/// The placement search: goals one at a time in priority order, each by greedy replica moves and leader swaps.
///
/// Acceptance model (as Cruise Control's): once a goal is optimized its limits become constraints of every later
/// move, so a move may not push a broker that is within a goal's range outside it, nor take a broker that is
/// outside further out. Hard partition limits (rack, Kubernetes cluster) hold for every move. Per-broker metric
/// vectors are kept incrementally, so checking a move costs O(RF), not a recomputation.
struct Optimizer {
    let ctx: PlanContext
    /// Replicas in the optimizer's order: the leader first.
    var reps: [Int32]
    var slotPartition: [Int32]
    var brokerSlots: [[Int32]]
    var slotPos: [Int32]
    var agg: [SIMD8<Double>]
    /// Active limits, with tolerance: upper for a broker that gains, lower for one that loses.
    var up: [SIMD8<Double>]
    var down: [SIMD8<Double>]
    var capOn = [Bool](repeating: false, count: 8)
    var distOn = [Bool](repeating: false, count: 8)
    let topicOn: Bool
    var topicActive = false
    var topicCount: TopicCounts
    var movesLeft: Int
    /// Replica swaps made (each also counts two moves against `maxMoves`).
    var swaps = 0
    var reorderOnly: [Bool]
    let preferSameCluster: Bool
    /// Broker indices that may receive: every broker the mode allows, or only the added brokers while
    /// `admit` fills them (`focus(on:)`).
    var dsts: [Int32]
    /// Whether each broker is in `dsts` (and so in `groups`).
    var isDst: [Bool]
    /// `dsts` by group (rack; one group when racks are many), each ascending by (score in `orderLane`, index) and
    /// kept so as moves change scores: the least loaded destination that takes a replica is the first of their
    /// merge that passes the checks, not the best of a scan of all.
    var groups: [[Int32]]
    let groupOf: [Int32]
    /// Each group's rack, and its Kubernetes cluster when all its brokers share one (else -1).
    let groupRack: [Int32]
    let groupCluster: [Int32]
    /// The groups `bestDestination` is merging and its position in each (scratch, to allocate nothing per move).
    var mergeGroup: [Int32]
    var mergePos: [Int]
    var mergeCount = 0
    /// Each destination's score when it was last placed in `groups` (infinity for NaN: never chosen).
    var orderKey: [Double] = []
    /// The lane `groups` are sorted by; `Int.min` before the first use.
    var orderLane = Int.min
    let rack: [Int32]
    let cluster: [Int32]
    let B: Int
    /// Violations of each goal right after its own phase (for the no-regression check), when tracing.
    var trace: [Goal: Int] = [:]
    let tracing: Bool

    /// `groupByRack: false` keeps one destination list whatever the racks (the tests compare the two).
    init(ctx: PlanContext, tracing: Bool, groupByRack: Bool = true) {
        self.ctx = ctx
        self.tracing = tracing
        let m = ctx.model
        B = m.brokerCount
        rack = m.brokerRack
        cluster = m.brokerCluster
        var reps = m.replicas
        var slotPartition = [Int32](repeating: 0, count: m.replicaCount)
        for p in 0..<m.partitionCount {
            let range = m.replicaRange(p)
            for i in range { slotPartition[i] = Int32(p) }
            let l = m.leader[p]
            if l >= 0, let i = range.first(where: { reps[$0] == l }), i != range.lowerBound {
                reps.swapAt(i, range.lowerBound)
            }
        }
        self.reps = reps
        self.slotPartition = slotPartition
        brokerSlots = Array(repeating: [], count: B)
        slotPos = [Int32](repeating: 0, count: m.replicaCount)
        agg = Array(repeating: SIMD8(), count: B)
        topicOn = ctx.goals.contains(.topicReplicaDistribution)
        topicCount = TopicCounts(
            topics: topicOn ? m.topicCount : 0, brokers: B, expectedPairs: topicOn ? m.replicaCount : 0)
        for p in 0..<m.partitionCount {
            let range = m.replicaRange(p)
            for i in range {
                let b = Int(reps[i])
                slotPos[i] = Int32(brokerSlots[b].count)
                brokerSlots[b].append(Int32(i))
                agg[b] += ctx.replicaValue(p, leader: i == range.lowerBound)
                if topicOn { topicCount.add(topic: Int(m.partitionTopic[p]), broker: b, 1) }
            }
        }
        up = Array(repeating: SIMD8(repeating: .infinity), count: B)
        down = Array(repeating: SIMD8(repeating: -.infinity), count: B)
        movesLeft = ctx.request.maxMoves ?? Int.max
        reorderOnly = [Bool](repeating: false, count: m.partitionCount)
        preferSameCluster = ctx.goals.contains(.movementCost)
        dsts = (0..<B).filter { ctx.dstAllowed[$0] }.map { Int32($0) }
        isDst = ctx.dstAllowed
        // Grouping by rack pays while racks are few; with many (a rack per broker, say) merging would cost more.
        let byRack = groupByRack && m.rackNames.count <= 64
        groupOf = byRack ? m.brokerRack : [Int32](repeating: 0, count: B)
        let groupCount = byRack ? max(m.rackNames.count, 1) : 1
        groups = Array(repeating: [], count: groupCount)
        groupRack = byRack ? (0..<groupCount).map { Int32($0) } : [-1]
        var clusterOfGroup = [Int32](repeating: -2, count: groupCount)
        for b in 0..<B {
            let g = Int(groupOf[b])
            clusterOfGroup[g] = clusterOfGroup[g] == -2 || clusterOfGroup[g] == cluster[b] ? cluster[b] : -1
        }
        groupCluster = clusterOfGroup.map { $0 == -2 ? -1 : $0 }
        mergeGroup = [Int32](repeating: 0, count: groupCount)
        mergePos = [Int](repeating: 0, count: groupCount)
    }

    // MARK: - Running the goals

    mutating func run() {
        for goal in ctx.policy.goals {
            switch goal {
            case .deadBrokers: drainIneligible()
            case .rackAware, .clusterLossSurvivable: fixPartitionLimits()
            case .replicaCapacity, .diskCapacity, .networkInCapacity, .networkOutCapacity, .cpuCapacity:
                let lane = goal.metric!
                capOn[lane] = true
                refreshLimits()
                for b in 0..<B where ctx.eligible[b] && agg[b][lane] > up[b][lane] { shed(b, lane: lane) }
            case .replicaDistribution, .diskDistribution, .networkInDistribution, .networkOutDistribution,
                .cpuDistribution, .leaderReplicaDistribution, .leaderBytesInDistribution:
                balance(lane: goal.metric!)
            case .topicReplicaDistribution: balanceTopics()
            case .preferredLeader: electPreferred()
            case .movementCost: break
            }
            if tracing {
                let checks = GoalEvaluator(ctx: ctx).evaluate(assignment())
                trace[goal] = checks[goal]?.violations ?? 0
            }
        }
    }

    /// The optimizer's current placement, as the proposal will state it.
    func assignment() -> Assignment {
        let m = ctx.model
        var out = m.replicas
        var leader = m.leader
        for p in 0..<m.partitionCount where changed(p) {
            let range = m.replicaRange(p)
            for i in range { out[i] = reps[i] }
            leader[p] = reps[range.lowerBound]
        }
        return Assignment(replicas: out, leader: leader)
    }

    /// Whether the partition appears in the proposal: its replica set or its leader changed, or its order must.
    func changed(_ p: Int) -> Bool {
        let m = ctx.model
        let range = m.replicaRange(p)
        if reorderOnly[p] { return true }
        let origLeader = m.leader[p] >= 0 ? m.leader[p] : m.replicas[range.lowerBound]
        if reps[range.lowerBound] != origLeader { return true }
        for i in range where !m.replicas[range].contains(reps[i]) { return true }
        return false
    }

    mutating func refreshLimits() {
        for b in 0..<B {
            var u = SIMD8<Double>(repeating: .infinity)
            var d = SIMD8<Double>(repeating: -.infinity)
            for lane in 0..<7 {
                if capOn[lane] { u[lane] = min(u[lane], ctx.capAbs[b][lane]) }
                if distOn[lane] {
                    u[lane] = min(u[lane], ctx.hiAbs[b][lane])
                    d[lane] = ctx.loAbs[b][lane]
                }
                if u[lane].isFinite { u[lane] += 1e-9 * max(1, abs(u[lane])) }
                if d[lane].isFinite { d[lane] -= 1e-9 * max(1, abs(d[lane])) }
            }
            up[b] = u
            down[b] = d
        }
    }

    // MARK: - Checks

    @inline(__always)
    func brokerAccepts(_ b: Int, _ delta: SIMD8<Double>) -> Bool {
        let n = agg[b] + delta
        let over = (delta .> 0) .& (n .> up[b])
        let under = (delta .< 0) .& (n .< down[b])
        return !any(over .| under)
    }

    @inline(__always)
    func isLeaderSlot(_ slot: Int) -> Bool { ctx.model.replicaStart[Int(slotPartition[slot])] == Int32(slot) }

    @inline(__always)
    func value(_ slot: Int) -> SIMD8<Double> {
        ctx.replicaValue(Int(slotPartition[slot]), leader: isLeaderSlot(slot))
    }

    /// Rack and Kubernetes-cluster limits and distinct brokers, for moving `p`'s replica from `s` to `d`.
    @inline(__always)
    func partitionAllows(_ p: Int, from s: Int, to d: Int, strict: Bool = false) -> Bool {
        let caps = ctx.caps(p)
        let rd = rack[d]
        let cd = cluster[d]
        var rc = 0
        var cc = 0
        for i in ctx.model.replicaRange(p) {
            let b = Int(reps[i])
            if b == d { return false }
            if b == s { continue }
            if rack[b] == rd { rc += 1 }
            if cluster[b] == cd { cc += 1 }
        }
        // Strict: the destination's rack and cluster must be within the limits; otherwise no worse than before.
        if (strict || rd != rack[s]) && rc + 1 > Int(caps.rackCap) { return false }
        if (strict || cd != cluster[s]) && cc + 1 > Int(caps.clusterCap) { return false }
        return true
    }

    @inline(__always)
    func topicAllows(_ p: Int, from s: Int, to d: Int) -> Bool {
        guard topicActive else { return true }
        let t = Int(ctx.model.partitionTopic[p])
        if topicCount[t, d] + 1 > ctx.topicHi[t] { return false }
        if ctx.eligible[s] && topicCount[t, s] - 1 < ctx.topicLo[t] { return false }
        return true
    }

    /// Whether the replica in `slot` may move at all (mode, exclusions, move budget).
    @inline(__always)
    func movable(_ slot: Int) -> Bool {
        let s = Int(reps[slot])
        guard movesLeft > 0, ctx.srcAllowed[s] else { return false }
        if ctx.eligible[s] && ctx.excludedTopic[Int(ctx.model.partitionTopic[Int(slotPartition[slot])])] {
            return false
        }
        return true
    }

    @inline(__always)
    func crosses(_ p: Int, to d: Int) -> Bool {
        preferSameCluster && ctx.sourceCluster[p] >= 0 && cluster[d] != ctx.sourceCluster[p]
    }

    func canMove(_ slot: Int, to d: Int) -> Bool {
        let s = Int(reps[slot])
        let p = Int(slotPartition[slot])
        guard d != s, ctx.dstAllowed[d], movable(slot) else { return false }
        let v = value(slot)
        return brokerAccepts(s, -v) && brokerAccepts(d, v) && partitionAllows(p, from: s, to: d)
            && topicAllows(p, from: s, to: d)
    }

    @inline(__always)
    func score(_ d: Int, lane: Int) -> Double {
        if lane < 0 {
            // Draining: spread by replica count and disk together.
            return agg[d][0] / max(ctx.meanU[0], 1e-12) + agg[d][1] / ctx.norm[d][1] / max(ctx.meanU[1], 1e-12)
        }
        return agg[d][lane] / ctx.norm[d][lane]
    }

    // MARK: - Applying

    mutating func move(_ slot: Int, to d: Int) {
        let s = Int(reps[slot])
        let p = Int(slotPartition[slot])
        let v = value(slot)
        agg[s] -= v
        agg[d] += v
        rescore(s)
        rescore(d)
        let pos = Int(slotPos[slot])
        let last = brokerSlots[s].removeLast()
        if last != Int32(slot) {
            brokerSlots[s][pos] = last
            slotPos[Int(last)] = Int32(pos)
        }
        slotPos[slot] = Int32(brokerSlots[d].count)
        brokerSlots[d].append(Int32(slot))
        reps[slot] = Int32(d)
        if topicOn {
            let t = Int(ctx.model.partitionTopic[p])
            topicCount.add(topic: t, broker: s, -1)
            topicCount.add(topic: t, broker: d, 1)
        }
        movesLeft -= 1
    }

    func canSwapLeader(_ p: Int, to position: Int) -> Bool {
        let range = ctx.model.replicaRange(p)
        let a = Int(reps[range.lowerBound])
        let b = Int(reps[range.lowerBound + position])
        guard ctx.srcAllowed[a], ctx.dstAllowed[b] else { return false }
        if ctx.excludedTopic[Int(ctx.model.partitionTopic[p])] { return false }
        let w = ctx.leaderTransfer(p)
        return brokerAccepts(a, -w) && brokerAccepts(b, w)
    }

    /// Makes the replica at `position` the leader (first), the old leader takes its place.
    mutating func swapLeader(_ p: Int, to position: Int) {
        let s0 = Int(ctx.model.replicaStart[p])
        let si = s0 + position
        let a = Int(reps[s0])
        let b = Int(reps[si])
        let w = ctx.leaderTransfer(p)
        agg[a] -= w
        agg[b] += w
        rescore(a)
        rescore(b)
        brokerSlots[a][Int(slotPos[s0])] = Int32(si)
        brokerSlots[b][Int(slotPos[si])] = Int32(s0)
        slotPos.swapAt(s0, si)
        reps.swapAt(s0, si)
    }

    // MARK: - Hard goals

    mutating func drainIneligible() {
        for b in 0..<B where !ctx.eligible[b] && ctx.srcAllowed[b] {
            for slot32 in brokerSlots[b] {
                let slot = Int(slot32)
                if let d = bestDestination(slot, lane: -1, strict: true) ?? bestDestination(slot, lane: -1) {
                    move(slot, to: d)
                }
            }
        }
    }

    mutating func fixPartitionLimits() {
        let m = ctx.model
        for p in 0..<m.partitionCount {
            let range = m.replicaRange(p)
            let caps = ctx.caps(p)
            for _ in range {
                // Find a replica in an over-full rack or cluster; followers first.
                var pick = -1
                for i in range.reversed() {
                    let b = Int(reps[i])
                    var rc = 0
                    var cc = 0
                    for j in range {
                        if rack[Int(reps[j])] == rack[b] { rc += 1 }
                        if cluster[Int(reps[j])] == cluster[b] { cc += 1 }
                    }
                    if rc > Int(caps.rackCap) || cc > Int(caps.clusterCap) {
                        if let d = bestDestination(i, lane: -1, strict: true) {
                            move(i, to: d)
                            pick = i
                            break
                        }
                    }
                }
                if pick < 0 { break }
            }
        }
    }

    // MARK: - Distribution goals

    /// One distribution goal, by the cheapest actions first: leadership transfers (no data) for the lanes leaders
    /// carry, then single replica moves, then replica swaps for brokers still above the range.
    mutating func balance(lane: Int) {
        distOn[lane] = true
        refreshLimits()
        if Self.leaderLanes.contains(lane) { balanceLeadership(lane: lane) }
        for _ in 0..<3 {
            var progress = false
            let over = (0..<B).filter { ctx.eligible[$0] && agg[$0][lane] > up[$0][lane] }
                .sorted { (score($0, lane: lane), $0) > (score($1, lane: lane), $1) }
            for b in over where ctx.srcAllowed[b] { progress = shed(b, lane: lane) || progress }
            let under = (0..<B).filter {
                ctx.eligible[$0] && ctx.dstAllowed[$0] && agg[$0][lane] < down[$0][lane]
            }.sorted { (score($0, lane: lane), $0) < (score($1, lane: lane), $1) }
            for b in under { progress = fill(b, lane: lane) || progress }
            for b in over where agg[b][lane] > up[b][lane] { progress = shedBySwaps(b, lane: lane) || progress }
            if Self.leaderLanes.contains(lane) { progress = balanceLeadership(lane: lane) || progress }
            if !progress { break }
        }
    }

    /// The replicas of `b` worth moving for `lane`, ascending by their weight in it (disk for counts); those
    /// whose move stays in the partition's source Kubernetes cluster first when `sameClusterFirst`.
    func candidates(_ b: Int, lane: Int, sameCluster: Bool?, includeZero: Bool = false) -> [(slot: Int32, v: Double)] {
        var out: [(slot: Int32, v: Double)] = []
        out.reserveCapacity(brokerSlots[b].count)
        let key = lane == Metric.replicas || lane == Metric.leaders ? Metric.disk : lane
        for slot32 in brokerSlots[b] {
            let slot = Int(slot32)
            let p = Int(slotPartition[slot])
            if let same = sameCluster, preferSameCluster {
                let isSame = ctx.sourceCluster[p] < 0 || ctx.sourceCluster[p] == cluster[b]
                if isSame != same { continue }
            }
            let v = value(slot)
            if v[lane] <= 0 && !includeZero { continue }
            out.append((slot32, v[key]))
        }
        out.sort { $0.v < $1.v || ($0.v == $1.v && $0.slot < $1.slot) }
        return out
    }

    /// Moves replicas off `b` until it is within the active upper limit of `lane`. Returns whether it moved any.
    @discardableResult
    mutating func shed(_ b: Int, lane: Int) -> Bool {
        var movedAny = false
        var tries = 0
        let passes: [Bool?] = preferSameCluster ? [true, false] : [nil]
        for pass in passes {
            let cands = candidates(b, lane: lane, sameCluster: pass)
            var used = [Bool](repeating: false, count: cands.count)
            while tries < 20_000 {
                let target = up[b][lane]
                let need = agg[b][lane] - target
                if need <= 0 { break }
                var moved = false
                if lane == Metric.replicas || lane == Metric.leaders {
                    for k in 0..<cands.count where !used[k] {
                        used[k] = true
                        tries += 1
                        if let d = bestDestination(Int(cands[k].slot), lane: lane) {
                            move(Int(cands[k].slot), to: d)
                            moved = true
                            break
                        }
                    }
                } else {
                    // Smallest replica that alone removes the excess, else the largest below it.
                    let idx = lowerBound(cands, need)
                    var k = idx
                    while k < cands.count && k < idx + 48 && !moved {
                        if !used[k] {
                            used[k] = true
                            tries += 1
                            if let d = bestDestination(Int(cands[k].slot), lane: lane) {
                                move(Int(cands[k].slot), to: d)
                                moved = true
                            }
                        }
                        k += 1
                    }
                    k = idx - 1
                    while k >= 0 && k >= idx - 256 && !moved {
                        if !used[k] {
                            used[k] = true
                            tries += 1
                            if let d = bestDestination(Int(cands[k].slot), lane: lane) {
                                move(Int(cands[k].slot), to: d)
                                moved = true
                            }
                        }
                        k -= 1
                    }
                }
                if !moved { break }
                movedAny = true
            }
        }
        return movedAny
    }

    /// Pulls replicas onto `d` from the most loaded brokers until it is within the lower limit of `lane`.
    @discardableResult
    mutating func fill(_ d: Int, lane: Int) -> Bool {
        var movedAny = false
        var exhausted = [Bool](repeating: false, count: B)
        var cache: [Int: [(slot: Int32, v: Double)]] = [:]
        var failed: Set<Int32> = []
        var tries = 0
        while tries < 20_000 {
            let need = down[d][lane] - agg[d][lane]
            if need <= 0 { break }
            var s = -1
            var sScore = ctx.meanU[lane]
            for b in 0..<B where b != d && !exhausted[b] && ctx.eligible[b] && ctx.srcAllowed[b] {
                let sc = score(b, lane: lane)
                if sc > sScore {
                    s = b
                    sScore = sc
                }
            }
            if s < 0 { break }
            if cache[s] == nil { cache[s] = candidates(s, lane: lane, sameCluster: nil) }
            let cands = cache[s]!
            let room = up[d][lane] - agg[d][lane]
            var moved = false
            // Largest replica that fits the room and does not overshoot the need by much; smaller ones after.
            let byCount = lane == Metric.replicas || lane == Metric.leaders
            var k = byCount ? 0 : lowerBound(cands, min(room, need) * 1.0000001) - 1
            if !byCount {
                let atNeed = lowerBound(cands, need)
                if atNeed < cands.count && cands[atNeed].v <= room { k = atNeed }
            }
            var scanned = 0
            while k >= 0 && k < cands.count && scanned < 512 && !moved {
                let slot = Int(cands[k].slot)
                if reps[slot] == Int32(s) && !failed.contains(cands[k].slot) {
                    scanned += 1
                    tries += 1
                    if canMove(slot, to: d) {
                        move(slot, to: d)
                        moved = true
                    } else {
                        failed.insert(cands[k].slot)
                    }
                }
                k += byCount ? 1 : -1
            }
            if !moved { exhausted[s] = true } else { movedAny = true }
        }
        return movedAny
    }

    func lowerBound(_ cands: [(slot: Int32, v: Double)], _ x: Double) -> Int {
        var lo = 0
        var hi = cands.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if cands[mid].v < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Leads each partition by its first replica: elects the original first replica where later goals allow,
    /// otherwise makes the current leader first (a reorder that moves no data and no load).
    mutating func electPreferred() {
        let m = ctx.model
        for p in 0..<m.partitionCount where !changed(p) {
            let range = m.replicaRange(p)
            let preferred = m.replicas[range.lowerBound]
            if m.leader[p] < 0 || m.leader[p] == preferred { continue }
            if let i = range.first(where: { reps[$0] == preferred }), canSwapLeader(p, to: i - range.lowerBound) {
                swapLeader(p, to: i - range.lowerBound)
            } else {
                reorderOnly[p] = true
            }
        }
    }
}
