/// Destination choice. A move goes to the least loaded destination (in the goal's lane) that accepts the replica,
/// one in the partition's source Kubernetes cluster first. Scanning every broker per move made destination choice
/// O(brokers); instead the destinations are kept sorted by score and walked from the least loaded, so the answer
/// is usually among the first few. A move changes two brokers' scores, and each is shifted to its new place.
///
/// The sorted destinations are kept per rack (`groups`) and merged while walking, leaving out the racks and
/// Kubernetes clusters the partition's other replicas already fill and, in the same-cluster pass, the other
/// clusters: one sorted list walked whole skipped those one by one, which at 3,000 brokers was the largest cost of a
/// plan (most replicas may go to one rack or cluster of nine or three). The walk meets the same destinations in
/// the same order minus brokers that could not be chosen, so it chooses what the single list chose.
extension Optimizer {
    /// The least loaded destination (in `lane`; -1 for count and disk together) that accepts the replica,
    /// one in the source's Kubernetes cluster first (ties: the lower broker index).
    mutating func bestDestination(_ slot: Int, lane: Int, strict: Bool = false) -> Int? {
        guard movable(slot) else { return nil }
        let s = Int(reps[slot])
        let p = Int(slotPartition[slot])
        let v = value(slot)
        guard brokerAccepts(s, -v) else { return nil }
        sortDestinations(by: lane)
        let source = preferSameCluster ? ctx.sourceCluster[p] : -1
        for pass in 0..<(source >= 0 ? 2 : 1) {
            // Other clusters' brokers carry a penalty of 1e12 on their score (the scan this replaced added it), and
            // scores closer than its rounding step tie: among those the lowest index wins, as it did in the scan.
            let penalty = pass == 1 ? 1e12 : 0
            selectGroups(p, from: s, strict: strict, pass: source >= 0 ? pass : -1, source: source)
            var best = -1
            // The groups' orders merged: the order of every destination with the skipped groups left out.
            while let d32 = nextMerged() {
                let d = Int(d32)
                if !(orderKey[d] < .infinity) { break }
                if best >= 0 && orderKey[d] + penalty > orderKey[best] + penalty { break }
                if source >= 0 && (cluster[d] == source) != (pass == 0) { continue }
                if d == s || !brokerAccepts(d, v) { continue }
                if (best < 0 || d < best) && partitionAllows(p, from: s, to: d, strict: strict)
                    && topicAllows(p, from: s, to: d)
                {
                    best = d
                    // Without the penalty, the destinations after `best` score more or tie with a higher index.
                    if penalty == 0 { break }
                    return lowestTying(best, penalty: penalty, slot: slot, from: s, strict: strict, source: source)
                }
            }
            if best >= 0 { return best }
        }
        return nil
    }

    /// With the cross-cluster penalty, the destinations whose score ties `first`'s once it is added (the rest of
    /// each group's order up to that score) are candidates too, and the lowest index that accepts wins: their
    /// order does not matter, so each group is walked on its own instead of merged.
    func lowestTying(_ first: Int, penalty: Double, slot: Int, from s: Int, strict: Bool, source: Int32) -> Int {
        let p = Int(slotPartition[slot])
        let v = value(slot)
        let limit = orderKey[first] + penalty
        var best = first
        for j in 0..<mergeCount {
            let list = groups[Int(mergeGroup[j])]
            var pos = mergePos[j]
            while pos < list.count {
                let d = Int(list[pos])
                pos += 1
                if !(orderKey[d] + penalty <= limit) { break }
                if d >= best || d == s || cluster[d] == source || !brokerAccepts(d, v) { continue }
                if partitionAllows(p, from: s, to: d, strict: strict) && topicAllows(p, from: s, to: d) { best = d }
            }
        }
        return best
    }

    /// The groups `bestDestination` walks for moving `p`'s replica off `s`: every group but those whose rack or
    /// Kubernetes cluster the partition's other replicas already fill (no broker there passes `partitionAllows`)
    /// and, in a pass (0: the source cluster, 1: the others; -1: no passes), those of the other pass's clusters.
    mutating func selectGroups(_ p: Int, from s: Int, strict: Bool, pass: Int, source: Int32) {
        let caps = ctx.caps(p)
        let range = ctx.model.replicaRange(p)
        mergeCount = 0
        for g in 0..<groups.count where !groups[g].isEmpty {
            let c = groupCluster[g]
            if c >= 0 {
                if pass >= 0 && (c == source) != (pass == 0) { continue }
                if strict || c != cluster[s] {
                    var n = 0
                    for i in range where reps[i] != Int32(s) && cluster[Int(reps[i])] == c { n += 1 }
                    if n + 1 > Int(caps.clusterCap) { continue }
                }
            }
            let r = groupRack[g]
            if r >= 0 && (strict || r != rack[s]) {
                var n = 0
                for i in range where reps[i] != Int32(s) && rack[Int(reps[i])] == r { n += 1 }
                if n + 1 > Int(caps.rackCap) { continue }
            }
            mergeGroup[mergeCount] = Int32(g)
            mergePos[mergeCount] = 0
            mergeCount += 1
        }
    }

    /// The next destination of the selected groups, in (score, index) order.
    @inline(__always)
    mutating func nextMerged() -> Int32? {
        var k = -1
        var first: Int32 = 0
        for j in 0..<mergeCount {
            let list = Int(mergeGroup[j])
            let pos = mergePos[j]
            guard pos < groups[list].count else { continue }
            let d = groups[list][pos]
            if k < 0 || placedBefore(d, first) {
                k = j
                first = d
            }
        }
        guard k >= 0 else { return nil }
        mergePos[k] += 1
        return first
    }

    @inline(__always)
    func orderScore(_ d: Int, lane: Int) -> Double {
        let sc = score(d, lane: lane)
        return sc.isNaN ? .infinity : sc
    }

    @inline(__always)
    func placedBefore(_ x: Int32, _ y: Int32) -> Bool {
        let kx = orderKey[Int(x)]
        let ky = orderKey[Int(y)]
        return kx < ky || (kx == ky && x < y)
    }

    /// Makes `brokers` (those the mode allows) the only destinations, or every destination the mode allows again
    /// (nil). The order is rebuilt at the next choice.
    mutating func focus(on brokers: [Int32]?) {
        dsts = (brokers ?? (0..<B).map { Int32($0) }).filter { ctx.dstAllowed[Int($0)] }
        isDst = [Bool](repeating: false, count: B)
        for d in dsts { isDst[Int(d)] = true }
        orderLane = Int.min
    }

    /// Sorts the destinations by `lane` unless they already are.
    mutating func sortDestinations(by lane: Int) {
        guard orderLane != lane else { return }
        orderLane = lane
        if orderKey.isEmpty { orderKey = [Double](repeating: .infinity, count: B) }
        for d in dsts { orderKey[Int(d)] = orderScore(Int(d), lane: lane) }
        let key = orderKey
        for g in groups.indices { groups[g].removeAll(keepingCapacity: true) }
        for d in dsts { groups[Int(groupOf[Int(d)])].append(d) }
        for g in groups.indices {
            groups[g].sort { key[Int($0)] < key[Int($1)] || (key[Int($0)] == key[Int($1)] && $0 < $1) }
        }
    }

    /// Moves `b` to its place in its group's order after its load changed.
    mutating func rescore(_ b: Int) {
        guard orderLane != Int.min, isDst[b] else { return }
        let old = orderKey[b]
        let new = orderScore(b, lane: orderLane)
        if new == old { return }
        let g = Int(groupOf[b])
        // Find b by its old key (binary search), then shift it step by step to its new place.
        var lo = 0
        var hi = groups[g].count
        let b32 = Int32(b)
        while lo < hi {
            let mid = (lo + hi) / 2
            if placedBefore(groups[g][mid], b32) { lo = mid + 1 } else { hi = mid }
        }
        var i = lo
        orderKey[b] = new
        if new > old {
            while i + 1 < groups[g].count && placedBefore(groups[g][i + 1], b32) {
                groups[g][i] = groups[g][i + 1]
                i += 1
            }
        } else {
            while i > 0 && placedBefore(b32, groups[g][i - 1]) {
                groups[g][i] = groups[g][i - 1]
                i -= 1
            }
        }
        groups[g][i] = b32
    }
}
