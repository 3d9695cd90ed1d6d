/// TopicReplicaDistribution: each topic's replicas per broker within the topic's range.
extension Optimizer {
    mutating func balanceTopics() {
        guard topicOn else { return }
        topicActive = true
        shedTopicExcess(swaps: true)
        fillTopicShortfall()
    }

    /// Over-represented (topic, broker) pairs shed their smallest replicas: a move, else (with `swaps`) a swap.
    mutating func shedTopicExcess(swaps: Bool) {
        let m = ctx.model
        let disk = m.load[Resource.disk.rawValue]
        var wideSearches = 1000
        var bySize: [[Int32]]? = nil
        var overByBroker = overRepresentedReplicas()
        for b in 0..<B where ctx.eligible[b] && ctx.srcAllowed[b] {
            let over = overByBroker[b].sorted {
                (disk[Int(slotPartition[Int($0)])], $0) < (disk[Int(slotPartition[Int($1)])], $1)
            }
            overByBroker[b] = []
            for slot32 in over {
                let slot = Int(slot32)
                let t = Int(m.partitionTopic[Int(slotPartition[slot])])
                // Gone in a swap, or its pair is within the limit now (a pair never rises above it in this phase).
                if reps[slot] != Int32(b) || topicCount[t, b] <= ctx.topicHi[t] { continue }
                if let d = bestDestination(slot, lane: Metric.replicas) {
                    move(slot, to: d)
                } else if swaps {
                    if bySize == nil { bySize = replicasBySize() }
                    if !swapForTopic(slot, partners: 16, tries: 64, bySize: bySize!) && wideSearches > 0 {
                        // Rarely needed, and costly on thousands of brokers: a bounded number of wider searches.
                        wideSearches -= 1
                        swapForTopic(slot, partners: 64, tries: 256, bySize: bySize!)
                    }
                }
            }
        }
    }

    /// Each broker's replicas of the topics it holds more of than their upper limit, counted topic by topic in one
    /// row (a topic's partitions are adjacent; its pairs in `topicCount` are scattered over a large table).
    func overRepresentedReplicas() -> [[Int32]] {
        let m = ctx.model
        var out = [[Int32]](repeating: [], count: B)
        var row = [Int32](repeating: 0, count: B)
        for t in 0..<m.topicCount {
            let parts = ctx.topicPartitions(t)
            var over = false
            for p in parts {
                for i in m.replicaRange(Int(p)) {
                    let b = Int(reps[i])
                    row[b] += 1
                    if row[b] > ctx.topicHi[t] { over = true }
                }
            }
            for p in parts {
                for i in m.replicaRange(Int(p)) where over && row[Int(reps[i])] > ctx.topicHi[t] {
                    out[Int(reps[i])].append(Int32(i))
                }
            }
            for p in parts { for i in m.replicaRange(Int(p)) { row[Int(reps[i])] = 0 } }
        }
        return out
    }

    /// Under-represented pairs (only topics whose lower limit is above zero) pull a replica of the topic from the
    /// broker holding the most.
    mutating func fillTopicShortfall() {
        let m = ctx.model
        for t in 0..<m.topicCount where ctx.topicLo[t] > 0 {
            let parts = ctx.topicPartitions(t)
            for d32 in dsts where ctx.eligible[Int(d32)] {
                let d = Int(d32)
                var tries = 0
                while topicCount[t, d] < ctx.topicLo[t] && tries < 4 {
                    tries += 1
                    var best = -1
                    var bestCount: Int32 = ctx.topicLo[t]
                    for p32 in parts {
                        for i in m.replicaRange(Int(p32)) {
                            let s = Int(reps[i])
                            let c = topicCount[t, s]
                            if c > bestCount && canMove(i, to: d) {
                                best = i
                                bestCount = c
                            }
                        }
                    }
                    if best < 0 { break }
                    move(best, to: d)
                }
            }
        }
    }

    /// Swaps the replica in `x` (of a topic over-represented on its broker) with a replica of another topic, of
    /// about the same size and the same leadership, on a broker where `x`'s topic has room: the `partners` such
    /// brokers with the fewest of the topic, `tries` replicas each, nearest in size first (found by bisecting
    /// `bySize`, each broker's replicas sorted by size when the phase began; replicas that left since are skipped).
    @discardableResult
    mutating func swapForTopic(_ x: Int, partners limit: Int, tries: Int, bySize: [[Int32]]) -> Bool {
        let m = ctx.model
        let a = Int(reps[x])
        let t = Int(m.partitionTopic[Int(slotPartition[x])])
        let size = ctx.diskLoad[Int(slotPartition[x])]
        let xLeads = isLeaderSlot(x)
        // The `limit` partners first in (count, score, index) order, kept sorted while scanning the destinations:
        // sorting every destination for each replica made this phase O(brokers log brokers) per over-represented
        // replica, the largest cost of a 3,000-broker plan. (Same partners, same order: the keys are distinct.)
        var partners: [(count: Int32, score: Double, broker: Int)] = []
        partners.reserveCapacity(limit + 1)
        let hi = ctx.topicHi[t]
        for d32 in dsts {
            let d = Int(d32)
            let c = topicCount[t, d]
            guard d != a && c + 1 <= hi else { continue }
            if partners.count == limit, let last = partners.last, last.count < c { continue }
            let candidate = (count: c, score: score(d, lane: Metric.replicas), broker: d)
            if partners.count == limit, let last = partners.last,
                !((candidate.count, candidate.score, candidate.broker) < (last.count, last.score, last.broker))
            {
                continue
            }
            var i = partners.count
            while i > 0
                && (candidate.count, candidate.score, candidate.broker)
                    < (partners[i - 1].count, partners[i - 1].score, partners[i - 1].broker)
            {
                i -= 1
            }
            partners.insert(candidate, at: i)
            if partners.count > limit { partners.removeLast() }
        }
        let p = Int(slotPartition[x])
        for partner in partners {
            let d = partner.broker
            // What `canSwapReplicas` asks of x's side alone: where x's partition cannot go to d (its rack or
            // cluster full, or a replica there), no replica of d can trade with it; skip the search.
            guard partitionAllows(p, from: a, to: d) else { continue }
            let list = bySize[d]
            // Bisect to x's size, then walk outwards, nearer side first.
            var lo = 0
            var hi = list.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if ctx.diskLoad[Int(slotPartition[Int(list[mid])])] < size { lo = mid + 1 } else { hi = mid }
            }
            var left = lo - 1
            var right = lo
            var tried = 0
            var examined = 0
            while tried < tries && examined < 4 * tries && (left >= 0 || right < list.count) {
                examined += 1
                let pickRight: Bool
                if left < 0 {
                    pickRight = true
                } else if right >= list.count {
                    pickRight = false
                } else {
                    let gl = size - ctx.diskLoad[Int(slotPartition[Int(list[left])])]
                    let gr = ctx.diskLoad[Int(slotPartition[Int(list[right])])] - size
                    pickRight = gr <= gl
                }
                let y = Int(pickRight ? list[right] : list[left])
                if pickRight { right += 1 } else { left -= 1 }
                if reps[y] != Int32(d) || isLeaderSlot(y) != xLeads || Int(m.partitionTopic[Int(slotPartition[y])]) == t
                {
                    continue
                }
                tried += 1
                if canSwapReplicas(x, y) {
                    swapReplicas(x, y)
                    return true
                }
            }
        }
        return false
    }

    /// Each broker's replicas, smallest first (ties: the lower slot). The sizes are gathered before sorting: looking
    /// them up in every comparison made this sort of all 10M replicas a tenth of a 3,000-broker plan.
    func replicasBySize() -> [[Int32]] {
        var keyed: [(size: Double, slot: Int32)] = []
        return brokerSlots.map { slots in
            keyed.removeAll(keepingCapacity: true)
            for slot in slots { keyed.append((ctx.diskLoad[Int(slotPartition[Int(slot)])], slot)) }
            keyed.sort { $0.size < $1.size || ($0.size == $1.size && $0.slot < $1.slot) }
            return keyed.map(\.slot)
        }
    }
}
