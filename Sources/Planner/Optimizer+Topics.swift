/// TopicReplicaDistribution: each topic's replicas per broker within the topic's range.
extension Optimizer {
    mutating func balanceTopics() {
        guard topicOn else { return }
        topicActive = true
        let m = ctx.model
        let disk = m.load[Resource.disk.rawValue]
        var wideSearches = 1000
        // Over-represented (topic, broker) pairs shed their smallest replicas: a move, else a swap.
        for b in 0..<B where ctx.eligible[b] && ctx.srcAllowed[b] {
            let over = brokerSlots[b].filter { slot in
                let t = Int(m.partitionTopic[Int(slotPartition[Int(slot)])])
                return topicCount[t, b] > ctx.topicHi[t]
            }.sorted { (disk[Int(slotPartition[Int($0)])], $0) < (disk[Int(slotPartition[Int($1)])], $1) }
            for slot32 in over {
                let slot = Int(slot32)
                let t = Int(m.partitionTopic[Int(slotPartition[slot])])
                if topicCount[t, b] <= ctx.topicHi[t] { continue }
                if let d = bestDestination(slot, lane: Metric.replicas) {
                    move(slot, to: d)
                } else if !swapForTopic(slot, partners: 16, tries: 128) && wideSearches > 0 {
                    // Rarely needed, and costly on thousands of brokers: a bounded number of wider searches.
                    wideSearches -= 1
                    swapForTopic(slot, partners: 256, tries: 2048)
                }
            }
        }
        // Under-represented pairs (only topics whose lower limit is above zero) pull a replica of the topic from
        // the broker holding the most.
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
    /// about the same load and the same leadership, on a broker where `x`'s topic has room: the `partners` such
    /// brokers with the fewest of the topic, `tries` replicas each, nearest in load first.
    @discardableResult
    mutating func swapForTopic(_ x: Int, partners limit: Int, tries: Int) -> Bool {
        let m = ctx.model
        let a = Int(reps[x])
        let t = Int(m.partitionTopic[Int(slotPartition[x])])
        let vx = value(x)
        let xLeads = isLeaderSlot(x)
        var partners: [(count: Int32, score: Double, broker: Int)] = []
        for d32 in dsts {
            let d = Int(d32)
            let c = topicCount[t, d]
            if d != a && c + 1 <= ctx.topicHi[t] { partners.append((c, score(d, lane: Metric.replicas), d)) }
        }
        partners.sort { ($0.count, $0.score, $0.broker) < ($1.count, $1.score, $1.broker) }
        var ys: [(gap: Double, slot: Int32)] = []
        for partner in partners.prefix(limit) {
            let d = partner.broker
            ys.removeAll(keepingCapacity: true)
            for y32 in brokerSlots[d] {
                let y = Int(y32)
                let q = Int(slotPartition[y])
                if isLeaderSlot(y) != xLeads || Int(m.partitionTopic[q]) == t { continue }
                let diff = value(y) - vx
                var gap = 0.0
                for lane in 1...4 where ctx.meanPerBroker[lane] > 0 { gap += abs(diff[lane]) / ctx.meanPerBroker[lane] }
                ys.append((gap, y32))
            }
            ys.sort { ($0.gap, $0.slot) < ($1.gap, $1.slot) }
            for y in ys.prefix(tries) where canSwapReplicas(x, Int(y.slot)) {
                swapReplicas(x, Int(y.slot))
                return true
            }
        }
        return false
    }
}
