/// Leadership-only moves: a follower becomes the leader, so network-out, CPU, leader count and leader bytes-in
/// move between two brokers and no data is copied. They come first for every goal whose lane only leaders carry.
extension Optimizer {
    /// The lanes only a leader carries; a leadership transfer changes exactly these.
    static let leaderLanes = [Metric.networkOut, Metric.cpu, Metric.leaders, Metric.leaderBytesIn]

    /// How much a transfer of `w` disturbs the already optimized leader lanes other than `lane`, each relative to
    /// a broker's mean, per unit it changes `lane`: the transfers that fix `lane` and disturb least go first.
    func collateral(_ w: SIMD8<Double>, lane: Int) -> Double {
        var c = 0.0
        for l in Self.leaderLanes where l != lane && (distOn[l] || capOn[l]) && ctx.meanPerBroker[l] > 0 {
            c += w[l] / ctx.meanPerBroker[l]
        }
        return c / max(w[lane], 1e-300)
    }

    /// Moves leadership off brokers above the range of `lane` and onto brokers below it, rounds until no transfer
    /// helps. Returns whether any transfer was made.
    @discardableResult
    mutating func balanceLeadership(lane: Int) -> Bool {
        var any = false
        for _ in 0..<8 {
            var progress = false
            let over = (0..<B).filter { ctx.eligible[$0] && agg[$0][lane] > up[$0][lane] }
                .sorted { (score($0, lane: lane), $0) > (score($1, lane: lane), $1) }
            for a in over { progress = shedLeadership(a, lane: lane) || progress }
            let under = (0..<B).filter { ctx.eligible[$0] && ctx.dstAllowed[$0] && agg[$0][lane] < down[$0][lane] }
                .sorted { (score($0, lane: lane), $0) < (score($1, lane: lane), $1) }
            for b in under { progress = takeLeadership(b, lane: lane) || progress }
            if !progress {
                for b in 0..<B where ctx.eligible[b] && (agg[b][lane] > up[b][lane] || agg[b][lane] < down[b][lane]) {
                    progress = tradeLeadership(b, lane: lane) || progress
                }
            }
            any = any || progress
            if !progress { break }
        }
        return any
    }

    /// Hands leadership of `a`'s partitions to their least loaded follower that accepts it, until `a` is within
    /// its upper limit of `lane`.
    mutating func shedLeadership(_ a: Int, lane: Int) -> Bool {
        var cands: [(slot: Int32, key: Double)] = []
        for slot32 in brokerSlots[a] where isLeaderSlot(Int(slot32)) {
            let w = ctx.leaderTransfer(Int(slotPartition[Int(slot32)]))
            if w[lane] > 0 { cands.append((slot32, collateral(w, lane: lane))) }
        }
        cands.sort { ($0.key, $0.slot) < ($1.key, $1.slot) }
        var moved = false
        for c in cands {
            if agg[a][lane] <= up[a][lane] { break }
            let slot = Int(c.slot)
            let p = Int(slotPartition[slot])
            guard reps[slot] == Int32(a) else { continue }
            var best = -1
            var bestScore = Double.infinity
            for i in 1..<max(ctx.model.replicationFactor(p), 1) {
                let b = Int(reps[slot + i])
                let sc = score(b, lane: lane)
                if sc < bestScore && canSwapLeader(p, to: i) {
                    best = i
                    bestScore = sc
                }
            }
            if best > 0 {
                swapLeader(p, to: best)
                moved = true
            }
        }
        return moved
    }

    /// Takes leadership of `b`'s partitions from leaders above the mean of `lane`, until `b` is within its lower
    /// limit.
    mutating func takeLeadership(_ b: Int, lane: Int) -> Bool {
        let m = ctx.model
        var cands: [(slot: Int32, key: Double)] = []
        for slot32 in brokerSlots[b] where !isLeaderSlot(Int(slot32)) {
            let p = Int(slotPartition[Int(slot32)])
            let w = ctx.leaderTransfer(p)
            if w[lane] > 0 && score(Int(reps[Int(m.replicaStart[p])]), lane: lane) > ctx.meanU[lane] {
                cands.append((slot32, collateral(w, lane: lane)))
            }
        }
        cands.sort { ($0.key, $0.slot) < ($1.key, $1.slot) }
        var moved = false
        for c in cands {
            if agg[b][lane] >= down[b][lane] { break }
            let slot = Int(c.slot)
            let p = Int(slotPartition[slot])
            let s0 = Int(m.replicaStart[p])
            guard reps[slot] == Int32(b), slot != s0 else { continue }
            if score(Int(reps[s0]), lane: lane) <= ctx.meanU[lane] { continue }
            if canSwapLeader(p, to: slot - s0) {
                swapLeader(p, to: slot - s0)
                moved = true
            }
        }
        return moved
    }

    /// A broker outside the range of `lane` whose every single transfer breaks another optimized lane (say too few
    /// leaders but at its network-out ceiling) first trades one leadership the other way, the one that frees the
    /// most room in those lanes, then takes (or hands over) small ones. The trade stays only when the broker ends
    /// nearer the range of `lane` and no further outside any other limit; otherwise it is undone.
    mutating func tradeLeadership(_ b: Int, lane: Int) -> Bool {
        let m = ctx.model
        let raise = agg[b][lane] < down[b][lane]
        guard ctx.srcAllowed[b] && ctx.dstAllowed[b] else { return false }
        let start = agg[b]
        var openers: [(p: Int, position: Int, key: Double)] = []
        for slot32 in brokerSlots[b] {
            let slot = Int(slot32)
            let p = Int(slotPartition[slot])
            if ctx.excludedTopic[Int(m.partitionTopic[p])] { continue }
            let s0 = Int(m.replicaStart[p])
            let w = ctx.leaderTransfer(p)
            if raise && slot == s0 {
                // Hand this leadership to the least loaded follower that takes it.
                var best = -1
                for i in 1..<max(m.replicationFactor(p), 1) {
                    let c = Int(reps[s0 + i])
                    if ctx.dstAllowed[c] && brokerAccepts(c, w)
                        && (best < 0 || score(c, lane: lane) < score(Int(reps[s0 + best]), lane: lane))
                    {
                        best = i
                    }
                }
                if best > 0 { openers.append((p, best, collateral(w, lane: lane))) }
            } else if !raise && slot != s0 {
                let a = Int(reps[s0])
                if ctx.srcAllowed[a] && brokerAccepts(a, -w) {
                    openers.append((p, slot - s0, collateral(w, lane: lane)))
                }
            }
        }
        openers.sort { ($0.key, $0.p) > ($1.key, $1.p) }
        for opener in openers.prefix(4) {
            var log: [(p: Int, position: Int)] = [(opener.p, opener.position)]
            swapLeader(opener.p, to: opener.position)
            if raise {
                var cands: [(slot: Int32, key: Double)] = []
                for slot32 in brokerSlots[b] where !isLeaderSlot(Int(slot32)) {
                    let p = Int(slotPartition[Int(slot32)])
                    let w = ctx.leaderTransfer(p)
                    if w[lane] > 0 && score(Int(reps[Int(m.replicaStart[p])]), lane: lane) > ctx.meanU[lane] {
                        cands.append((slot32, collateral(w, lane: lane)))
                    }
                }
                cands.sort { ($0.key, $0.slot) < ($1.key, $1.slot) }
                for c in cands where agg[b][lane] < down[b][lane] {
                    let slot = Int(c.slot)
                    let p = Int(slotPartition[slot])
                    let s0 = Int(m.replicaStart[p])
                    if reps[slot] == Int32(b) && slot != s0 && canSwapLeader(p, to: slot - s0) {
                        swapLeader(p, to: slot - s0)
                        log.append((p, slot - s0))
                    }
                }
            } else {
                var cands: [(slot: Int32, key: Double)] = []
                for slot32 in brokerSlots[b] where isLeaderSlot(Int(slot32)) {
                    let w = ctx.leaderTransfer(Int(slotPartition[Int(slot32)]))
                    if w[lane] > 0 { cands.append((slot32, collateral(w, lane: lane))) }
                }
                cands.sort { ($0.key, $0.slot) < ($1.key, $1.slot) }
                for c in cands where agg[b][lane] > up[b][lane] {
                    let slot = Int(c.slot)
                    let p = Int(slotPartition[slot])
                    guard reps[slot] == Int32(b) && isLeaderSlot(slot) else { continue }
                    for i in 1..<max(m.replicationFactor(p), 1) where canSwapLeader(p, to: i) {
                        swapLeader(p, to: i)
                        log.append((p, i))
                        break
                    }
                }
            }
            let nearer = raise ? agg[b][lane] > start[lane] : agg[b][lane] < start[lane]
            let n = agg[b]
            let worse = ((n .> up[b]) .& (n .> start)) .| ((n .< down[b]) .& (n .< start))
            if nearer && log.count > 1 && !any(worse) { return true }
            for step in log.reversed() { swapLeader(step.p, to: step.position) }
        }
        return false
    }
}
