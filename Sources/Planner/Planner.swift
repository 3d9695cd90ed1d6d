/// The placement engine's entry point: a model and a request in, a proposal out. Pure: no I/O, no clock.
public enum Planner {
    /// What a plan run returns: the proposal and, when asked for, the goal trace.
    public struct Result: Sendable {
        public var proposal: Proposal
        /// Violations of each goal right after its own phase (only with `trace: true`).
        public var violationsAfterOwnPhase: [Goal: Int]
        /// The final placement: each partition's replicas as broker ids, leader first where it moved.
        public var finalReplicas: [[Int]]
        public var finalLeaders: [Int]
    }

    /// Plans replica and leader moves for `model` as `request` asks.
    /// - Throws: `PlanError` for bad requests (`.badInput`) and for hard goals no placement can meet (`.infeasible`).
    public static func plan(_ model: ClusterModel, _ request: PlanRequest, trace: Bool = false) throws(PlanError)
        -> Result
    {
        let ctx = try PlanContext(model: model, request: request)
        let m = ctx.model
        let evaluator = GoalEvaluator(ctx: ctx)
        let before = Assignment(replicas: m.replicas, leader: m.leader)
        let checksBefore = evaluator.evaluate(before)
        let aggBefore = evaluator.aggregates(before)

        var opt = Optimizer(ctx: ctx, tracing: trace)
        opt.run()
        let after = opt.assignment()
        var checksAfter = evaluator.evaluate(after)
        let aggAfter = evaluator.aggregates(after)

        var moves: [Proposal.Move] = []
        var replicaMoves = 0
        var leaderMoves = 0
        var data = 0.0
        var crossData = 0.0
        for p in 0..<m.partitionCount where opt.changed(p) {
            let range = m.replicaRange(p)
            let old = m.replicas[range]
            let new = after.replicas[range]
            let disk = m.load[Resource.disk.rawValue][p]
            var added = 0
            var cross = false
            for b in new where !old.contains(b) {
                added += 1
                if ctx.sourceCluster[p] >= 0 && m.brokerCluster[Int(b)] != ctx.sourceCluster[p] {
                    cross = true
                    crossData += disk
                }
            }
            replicaMoves += added
            data += disk * Double(added)
            let oldLeader = m.leader[p] >= 0 ? m.brokerIds[Int(m.leader[p])] : -1
            let newLeader = m.brokerIds[Int(new.first!)]
            if oldLeader != newLeader { leaderMoves += 1 }
            moves.append(
                Proposal.Move(
                    topic: m.topicNames[Int(m.partitionTopic[p])], partition: Int(m.partitionId[p]),
                    oldReplicas: old.map { m.brokerIds[Int($0)] }, newReplicas: new.map { m.brokerIds[Int($0)] },
                    oldLeader: oldLeader, newLeader: newLeader, dataToMoveMiB: disk * Double(added),
                    crossCluster: cross))
        }

        let bound = lowerBound(ctx, checksAfter: checksAfter)
        let factor = ctx.policy.movementCostFactor
        let costOK = data <= bound * factor + 1e-6
        checksAfter[.movementCost] = GoalCheck(
            satisfied: costOK, violations: costOK ? 0 : 1,
            detail: "moves \(Proposal.fmt(data)) MiB, \(Proposal.fmt(bound > 0 ? data / bound : 1, 2))× the lower bound"
        )
        var goals: [Proposal.GoalStatus] = []
        for g in ctx.policy.goals {
            let b = checksBefore[g]!
            let a = checksAfter[g]!
            goals.append(
                Proposal.GoalStatus(
                    name: g.rawValue, hard: g.isHard, satisfiedBefore: g == .movementCost ? true : b.satisfied,
                    satisfiedAfter: a.satisfied, violationsBefore: g == .movementCost ? 0 : b.violations,
                    violationsAfter: a.violations, detail: a.detail))
        }
        let hardOK = goals.allSatisfy { !$0.hard || $0.satisfiedAfter }
        let proposal = Proposal(
            mode: ctx.request.mode.rawValue, moves: moves,
            summary: Proposal.Summary(
                replicaMoves: replicaMoves, leaderMoves: leaderMoves, dataToMoveMiB: data,
                crossClusterDataMiB: crossData, hardGoalsSatisfied: hardOK, durationMs: 0,
                dataToMoveLowerBoundMiB: bound),
            goals: goals,
            statistics: Proposal.Statistics(
                before: statistics(ctx, aggBefore), after: statistics(ctx, aggAfter)))
        var finalReplicas: [[Int]] = []
        var finalLeaders: [Int] = []
        finalReplicas.reserveCapacity(m.partitionCount)
        for p in 0..<m.partitionCount {
            finalReplicas.append(after.replicas[m.replicaRange(p)].map { m.brokerIds[Int($0)] })
            finalLeaders.append(after.leader[p] >= 0 ? m.brokerIds[Int(after.leader[p])] : -1)
        }
        return Result(
            proposal: proposal, violationsAfterOwnPhase: opt.trace, finalReplicas: finalReplicas,
            finalLeaders: finalLeaders)
    }

    /// A lower bound on the data (MiB) any plan must move to reach the goals this plan reached:
    /// the largest of (a) the data that must leave brokers — all of a dead or removing broker's, and what lies
    /// above a broker's balanced disk range when DiskDistribution is met; (b) the data brokers below that range
    /// must receive; (c) per partition, its size times the replicas that must move for DeadBrokers, RackAware
    /// and ClusterLossSurvivable. Each is a bound alone; together they may overlap, so only the largest counts.
    static func lowerBound(_ ctx: PlanContext, checksAfter: [Goal: GoalCheck]) -> Double {
        let m = ctx.model
        let B = m.brokerCount
        let met = { (g: Goal) in ctx.goals.contains(g) && checksAfter[g]?.satisfied == true }
        var disk = [Double](repeating: 0, count: B)
        var partitionBound = 0.0
        var rackSeen = [Int](repeating: 0, count: m.rackNames.count)
        var clusterSeen = [Int](repeating: 0, count: m.clusterNames.count)
        for p in 0..<m.partitionCount {
            let range = m.replicaRange(p)
            let size = m.load[Resource.disk.rawValue][p]
            var dead = 0
            for i in range {
                let b = Int(m.replicas[i])
                disk[b] += size
                if !ctx.eligible[b] && ctx.srcAllowed[b] { dead += 1 }
                rackSeen[Int(m.brokerRack[b])] += 1
                clusterSeen[Int(m.brokerCluster[b])] += 1
            }
            var rackExcess = 0
            var clusterExcess = 0
            let caps = ctx.caps(p)
            for i in range {
                let b = Int(m.replicas[i])
                let r = Int(m.brokerRack[b])
                let c = Int(m.brokerCluster[b])
                rackExcess += max(0, rackSeen[r] - Int(caps.rackCap))
                clusterExcess += max(0, clusterSeen[c] - Int(caps.clusterCap))
                rackSeen[r] = 0
                clusterSeen[c] = 0
            }
            var need = met(.deadBrokers) ? dead : 0
            if met(.rackAware) { need = max(need, rackExcess) }
            if met(.clusterLossSurvivable) { need = max(need, clusterExcess) }
            partitionBound += size * Double(need)
        }
        var out = 0.0
        var inflow = 0.0
        let balanced = met(.diskDistribution)
        for b in 0..<B {
            if !ctx.eligible[b] {
                if met(.deadBrokers) && ctx.srcAllowed[b] { out += disk[b] }
                continue
            }
            if balanced {
                out += max(0, disk[b] - ctx.hiAbs[b][Metric.disk])
                inflow += max(0, ctx.loAbs[b][Metric.disk] - disk[b])
            }
            if met(.diskCapacity) && m.hasCapacity[Resource.disk.rawValue] {
                out += 0  // covered by the distribution range when it is met; capacity alone:
                if !balanced { out += max(0, disk[b] - ctx.capAbs[b][Metric.disk]) }
            }
        }
        return max(out, inflow, partitionBound)
    }

    static func statistics(_ ctx: PlanContext, _ agg: [SIMD8<Double>]) -> [Proposal.Distribution] {
        var out: [Proposal.Distribution] = []
        let lanes = [
            Metric.replicas, Metric.disk, Metric.networkIn, Metric.networkOut, Metric.cpu, Metric.leaders,
        ]
        for lane in lanes {
            var lo = Double.infinity
            var hi = -Double.infinity
            var sum = 0.0
            var n = 0
            for b in 0..<agg.count where ctx.eligible[b] {
                lo = min(lo, agg[b][lane])
                hi = max(hi, agg[b][lane])
                sum += agg[b][lane]
                n += 1
            }
            let mean = n > 0 ? sum / Double(n) : 0
            out.append(
                Proposal.Distribution(
                    metric: Metric.names[lane], min: n > 0 ? lo : 0, max: n > 0 ? hi : 0, mean: mean,
                    maxOverMean: mean > 0 ? hi / mean : 1))
        }
        return out
    }
}
