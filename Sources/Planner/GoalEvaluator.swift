/// A full placement: every partition's replicas (broker indices, in `model.replicaStart` layout) and leader.
struct Assignment: Sendable {
    var replicas: [Int32]
    var leader: [Int32]
}

/// How one goal stands on one assignment.
public struct GoalCheck: Sendable, Hashable {
    public var satisfied: Bool
    /// Partitions, replicas or brokers at fault (the unit depends on the goal); never grows once a goal is optimized.
    public var violations: Int
    public var detail: String?
}

/// Evaluates goals from scratch on an assignment (no incremental state), for before/after and for tests.
struct GoalEvaluator {
    let ctx: PlanContext

    struct Evaluation: Sendable {
        var checks: [Goal: GoalCheck]
        var aggregates: [SIMD8<Double>]
    }

    func evaluation(_ a: Assignment) -> Evaluation { Evaluation(checks: evaluate(a), aggregates: aggregates(a)) }

    func evaluate(_ a: Assignment) -> [Goal: GoalCheck] {
        let m = ctx.model
        let B = m.brokerCount
        var agg = [SIMD8<Double>](repeating: SIMD8(), count: B)
        var deadReplicas = 0
        var rackBad = 0
        var clusterBad = 0
        var unsurvivable = 0
        var unevenRack = 0
        var notPreferred = 0
        var rackSeen = [Int32](repeating: 0, count: m.rackNames.count)
        var clusterSeen = [Int32](repeating: 0, count: m.clusterNames.count)
        for p in 0..<m.partitionCount {
            let range = m.replicaRange(p)
            let lead = a.leader[p] >= 0 ? a.leader[p] : a.replicas[range.lowerBound]
            if a.leader[p] >= 0 && a.leader[p] != a.replicas[range.lowerBound] { notPreferred += 1 }
            let caps = ctx.caps(p)
            if !caps.survivable { unsurvivable += 1 }
            if !caps.rackDistinct { unevenRack += 1 }
            var rackMax: Int32 = 0
            var clusterMax: Int32 = 0
            for i in range {
                let b = Int(a.replicas[i])
                agg[b] += ctx.replicaValue(p, leader: a.replicas[i] == lead)
                if !ctx.eligible[b] { deadReplicas += 1 }
                let r = Int(m.brokerRack[b])
                let c = Int(m.brokerCluster[b])
                rackSeen[r] += 1
                clusterSeen[c] += 1
                rackMax = max(rackMax, rackSeen[r])
                clusterMax = max(clusterMax, clusterSeen[c])
            }
            for i in range {
                let b = Int(a.replicas[i])
                rackSeen[Int(m.brokerRack[b])] = 0
                clusterSeen[Int(m.brokerCluster[b])] = 0
            }
            if rackMax > Int32(caps.rackCap) { rackBad += 1 }
            if clusterMax > Int32(caps.clusterCap) { clusterBad += 1 }
        }
        var out: [Goal: GoalCheck] = [:]
        out[.deadBrokers] = GoalCheck(
            satisfied: deadReplicas == 0, violations: deadReplicas,
            detail: deadReplicas == 0 ? nil : "\(deadReplicas) replicas on dead or removing brokers")
        out[.rackAware] = GoalCheck(
            satisfied: rackBad == 0, violations: rackBad,
            detail: rackBad > 0
                ? "\(rackBad) partitions have more replicas in one rack than allowed"
                : unevenRack > 0
                    ? "\(unevenRack) partitions have a higher RF than there are alive racks and are spread evenly"
                    : nil)
        var clusterDetail: String? = nil
        if clusterBad > 0 {
            clusterDetail = "\(clusterBad) partitions have more replicas in one Kubernetes cluster than allowed"
        } else if unsurvivable > 0 {
            clusterDetail =
                "\(unsurvivable) partitions cannot survive the loss of a Kubernetes cluster with \(ctx.clusterCount) "
                + "clusters alive (RF − min ISR per cluster is too few); they are spread as evenly as possible"
        }
        out[.clusterLossSurvivable] = GoalCheck(
            satisfied: clusterBad == 0, violations: clusterBad, detail: clusterDetail)
        out[.preferredLeader] = GoalCheck(
            satisfied: notPreferred == 0, violations: notPreferred,
            detail: notPreferred == 0 ? nil : "\(notPreferred) partitions are not led by their first replica")
        for goal in Goal.allCases {
            guard let lane = goal.metric else { continue }
            var bad = 0
            var worst = 0.0
            for b in 0..<B where ctx.eligible[b] {
                let v = agg[b][lane]
                let tol = 1e-9 * max(1, abs(v))
                if goal.isCapacity {
                    if v > ctx.capAbs[b][lane] + tol {
                        bad += 1
                        worst = max(worst, v / ctx.norm[b][lane])
                    }
                } else if v > ctx.hiAbs[b][lane] + tol || v < ctx.loAbs[b][lane] - tol {
                    bad += 1
                }
            }
            let name = Metric.names[lane]
            out[goal] = GoalCheck(
                satisfied: bad == 0, violations: bad,
                detail: bad == 0
                    ? nil
                    : goal.isCapacity
                        ? "\(bad) brokers above their \(name) capacity threshold"
                        : "\(bad) brokers outside the balanced \(name) range")
        }
        let topicBad = topicViolations(a)
        out[.topicReplicaDistribution] = GoalCheck(
            satisfied: topicBad == 0, violations: topicBad,
            detail: topicBad == 0 ? nil : "\(topicBad) (topic, broker) pairs outside the balanced range")
        out[.movementCost] = GoalCheck(satisfied: true, violations: 0, detail: nil)
        return out
    }

    /// (Topic, eligible broker) pairs outside the topic's range, topic by topic with one scratch row of brokers.
    func topicViolations(_ a: Assignment) -> Int {
        let m = ctx.model
        var count = [Int32](repeating: 0, count: m.brokerCount)
        var touched: [Int] = []
        var bad = 0
        for t in 0..<m.topicCount {
            for p in ctx.topicPartitions(t) {
                for i in m.replicaRange(Int(p)) {
                    let b = Int(a.replicas[i])
                    if count[b] == 0 { touched.append(b) }
                    count[b] += 1
                }
            }
            var atLeastLo = 0
            for b in touched where ctx.eligible[b] {
                if count[b] > ctx.topicHi[t] { bad += 1 }
                if count[b] >= ctx.topicLo[t] { atLeastLo += 1 }
            }
            if ctx.topicLo[t] > 0 { bad += ctx.eligibleCount - atLeastLo }
            for b in touched { count[b] = 0 }
            touched.removeAll(keepingCapacity: true)
        }
        return bad
    }

    /// Per-broker metric vectors of an assignment (for statistics).
    func aggregates(_ a: Assignment) -> [SIMD8<Double>] {
        let m = ctx.model
        var agg = [SIMD8<Double>](repeating: SIMD8(), count: m.brokerCount)
        for p in 0..<m.partitionCount {
            let range = m.replicaRange(p)
            let lead = a.leader[p] >= 0 ? a.leader[p] : a.replicas[range.lowerBound]
            for i in range {
                agg[Int(a.replicas[i])] += ctx.replicaValue(p, leader: a.replicas[i] == lead)
            }
        }
        return agg
    }
}
