/// Replica swaps: two replicas of different partitions on two brokers trade places. Replica counts stay, only
/// the difference of the two replicas' loads moves, so a swap can fix a goal where every single move would break
/// an optimized one. It copies both replicas' data, so it comes after leadership transfers and single moves.
extension Optimizer {
    /// Whether the replicas in slots `x` and `y` may trade brokers under the mode, every optimized goal's limits
    /// and the partitions' rack and Kubernetes-cluster limits.
    func canSwapReplicas(_ x: Int, _ y: Int) -> Bool {
        let a = Int(reps[x])
        let b = Int(reps[y])
        let p = Int(slotPartition[x])
        let q = Int(slotPartition[y])
        guard a != b, p != q, movesLeft >= 2, ctx.dstAllowed[a], ctx.dstAllowed[b], movable(x), movable(y) else {
            return false
        }
        let delta = value(y) - value(x)
        guard brokerAccepts(a, delta), brokerAccepts(b, -delta) else { return false }
        guard partitionAllows(p, from: a, to: b), partitionAllows(q, from: b, to: a) else { return false }
        guard topicActive else { return true }
        let m = ctx.model
        let tp = Int(m.partitionTopic[p])
        let tq = Int(m.partitionTopic[q])
        if tp == tq { return true }
        return topicCount[tp, b] + 1 <= ctx.topicHi[tp] && topicCount[tp, a] - 1 >= ctx.topicLo[tp]
            && topicCount[tq, a] + 1 <= ctx.topicHi[tq] && topicCount[tq, b] - 1 >= ctx.topicLo[tq]
    }

    /// Trades the brokers of the replicas in slots `x` and `y`.
    mutating func swapReplicas(_ x: Int, _ y: Int) {
        let a = Int(reps[x])
        let b = Int(reps[y])
        let delta = value(y) - value(x)
        agg[a] += delta
        agg[b] -= delta
        rescore(a)
        rescore(b)
        brokerSlots[a][Int(slotPos[x])] = Int32(y)
        brokerSlots[b][Int(slotPos[y])] = Int32(x)
        slotPos.swapAt(x, y)
        reps[x] = Int32(b)
        reps[y] = Int32(a)
        if topicOn {
            let m = ctx.model
            let tp = Int(m.partitionTopic[Int(slotPartition[x])])
            let tq = Int(m.partitionTopic[Int(slotPartition[y])])
            topicCount.add(topic: tp, broker: a, -1)
            topicCount.add(topic: tp, broker: b, 1)
            topicCount.add(topic: tq, broker: b, -1)
            topicCount.add(topic: tq, broker: a, 1)
        }
        movesLeft -= 2
        swaps += 1
    }

    /// Brings `a` down towards its upper limit of `lane` by swapping its large replicas for smaller ones of the
    /// least loaded brokers, when no single move could. Returns whether it swapped any.
    mutating func shedBySwaps(_ a: Int, lane: Int) -> Bool {
        guard lane != Metric.replicas, ctx.srcAllowed[a], agg[a][lane] > up[a][lane] else { return false }
        let partners = dsts.map(Int.init).filter { $0 != a && score($0, lane: lane) < ctx.meanU[lane] }
            .sorted { (score($0, lane: lane), $0) < (score($1, lane: lane), $1) }.prefix(16)
        var swapped = false
        for d in partners {
            if agg[a][lane] <= up[a][lane] { break }
            // The partner's replicas, smallest data first, with their weight in `lane`.
            let ys = candidates(d, lane: lane, sameCluster: nil, includeZero: true).prefix(4096)
                .map { (slot: Int($0.slot), v: value(Int($0.slot))[lane]) }
            for x in candidates(a, lane: lane, sameCluster: nil).reversed().prefix(64) {
                if agg[a][lane] <= up[a][lane] { break }
                let vx = value(Int(x.slot))[lane]
                var tries = 0
                for y in ys where vx - y.v > 0 && reps[y.slot] == Int32(d) {
                    tries += 1
                    if tries > 64 { break }
                    if canSwapReplicas(Int(x.slot), y.slot) {
                        swapReplicas(Int(x.slot), y.slot)
                        swapped = true
                        break
                    }
                }
            }
        }
        return swapped
    }
}
