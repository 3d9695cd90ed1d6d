/// Destination choice. A move goes to the least loaded destination (in the goal's lane) that accepts the replica,
/// one in the partition's source Kubernetes cluster first. Scanning every broker per move made destination choice
/// O(brokers); instead the destinations are kept sorted by score and walked from the least loaded, so the answer
/// is usually among the first few. A move changes two brokers' scores, and each is shifted to its new place.
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
            var best = -1
            for d32 in order {
                let d = Int(d32)
                if !(orderKey[d] < .infinity) { break }
                if best >= 0 && orderKey[d] + penalty > orderKey[best] + penalty { break }
                if source >= 0 && (cluster[d] == source) != (pass == 0) { continue }
                if d == s || !brokerAccepts(d, v) { continue }
                if (best < 0 || d < best) && partitionAllows(p, from: s, to: d, strict: strict)
                    && topicAllows(p, from: s, to: d)
                {
                    best = d
                }
            }
            if best >= 0 { return best }
        }
        return nil
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
        order = dsts.sorted { key[Int($0)] < key[Int($1)] || (key[Int($0)] == key[Int($1)] && $0 < $1) }
    }

    /// Moves `b` to its place in `order` after its load changed.
    mutating func rescore(_ b: Int) {
        guard orderLane != Int.min, isDst[b] else { return }
        let old = orderKey[b]
        let new = orderScore(b, lane: orderLane)
        if new == old { return }
        // Find b by its old key (binary search), then shift it step by step to its new place.
        var lo = 0
        var hi = order.count
        let b32 = Int32(b)
        while lo < hi {
            let mid = (lo + hi) / 2
            if placedBefore(order[mid], b32) { lo = mid + 1 } else { hi = mid }
        }
        var i = lo
        orderKey[b] = new
        if new > old {
            while i + 1 < order.count && placedBefore(order[i + 1], b32) {
                order[i] = order[i + 1]
                i += 1
            }
        } else {
            while i > 0 && placedBefore(b32, order[i - 1]) {
                order[i] = order[i - 1]
                i -= 1
            }
        }
        order[i] = b32
    }
}
