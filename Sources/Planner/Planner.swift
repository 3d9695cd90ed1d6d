import Foundation

/// The placement engine's entry point: a model and a request in, a proposal out. Pure: no I/O, no clock.
public enum Planner {
    /// What a plan run returns: the proposal and, when asked for, the goal trace.
    public struct Result: Sendable {
        public var proposal: Proposal
        /// Violations of each goal right after its own phase (only with `trace: true`).
        public var violationsAfterOwnPhase: [Goal: Int]
        /// The final placement: every partition's replicas as broker ids, in `ClusterModel.replicaStart` layout,
        /// leader first where it moved.
        public var finalReplicaIds: [Int]
        public var finalLeaders: [Int]
        let replicaStart: [Int32]
        /// FNV-1a over every move (partition, new replicas, new leader): equal plans, equal hashes.
        public var planHash: UInt64

        /// Partition `p`'s final replicas (broker ids).
        public func finalReplicas(_ p: Int) -> ArraySlice<Int> {
            finalReplicaIds[Int(replicaStart[p])..<Int(replicaStart[p + 1])]
        }
    }

    /// Plans replica and leader moves for `model` as `request` asks.
    /// - Throws: `PlanError` for bad requests (`.badInput`) and for hard goals no placement can meet (`.infeasible`).
    public static func plan(_ model: ClusterModel, _ request: PlanRequest, trace: Bool = false) throws(PlanError)
        -> Result
    {
        let ctx = try PlanContext(model: model, request: request)
        var opt = Optimizer(ctx: ctx, tracing: trace)
        opt.run()
        let after = opt.assignment()
        let evaluator = GoalEvaluator(ctx: ctx)
        return report(
            ctx, after: after, swaps: opt.swaps, trace: opt.trace, before: evaluator.evaluation(ctx.currentAssignment),
            afterEvaluation: evaluator.evaluation(after), moves: proposalMoves(ctx, after: after))
    }

    /// `plan` for async callers. The CPU work runs on threads of its own, never on the cooperative pool (two
    /// threads on a 2-core machine), so a long plan does not starve every other task of the process; the goal
    /// evaluations run beside the search (the current placement's while the optimizer runs, the final one's while
    /// the proposal's moves are listed). Each part runs sequentially inside, so the result is the synchronous
    /// one, byte for byte, on any number of cores.
    public static func plan(_ model: ClusterModel, _ request: PlanRequest, trace: Bool = false) async throws(PlanError)
        -> Result
    {
        let ctx = try await onOwnThread { () throws(PlanError) in try PlanContext(model: model, request: request) }
        async let before = onOwnThread { GoalEvaluator(ctx: ctx).evaluation(ctx.currentAssignment) }
        let (after, swaps, traced) = await onOwnThread {
            var opt = Optimizer(ctx: ctx, tracing: trace)
            opt.run()
            return (opt.assignment(), opt.swaps, opt.trace)
        }
        async let afterEvaluation = onOwnThread { GoalEvaluator(ctx: ctx).evaluation(after) }
        let moves = await onOwnThread { proposalMoves(ctx, after: after) }
        let (b, a) = await (before, afterEvaluation)
        return await onOwnThread {
            report(ctx, after: after, swaps: swaps, trace: traced, before: b, afterEvaluation: a, moves: moves)
        }
    }

    /// Runs `work` on a new thread and awaits its result: CPU-bound work there leaves the cooperative pool free.
    static func onOwnThread<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let outcome = await withCheckedContinuation { (done: CheckedContinuation<Swift.Result<T, E>, Never>) in
            Thread { done.resume(returning: Swift.Result { () throws(E) -> T in try work() }) }.start()
        }
        return try outcome.get()
    }

    typealias ProposalMoves = (
        moves: [Proposal.Move], replicaMoves: Int, leaderMoves: Int, leadershipOnly: Int, data: Double,
        crossData: Double, hash: UInt64
    )

    /// The moves from the cluster of `ctx` to `after`: every partition whose replicas, their order or its leader
    /// change.
    static func proposalMoves(_ ctx: PlanContext, after: Assignment) -> ProposalMoves {
        let m = ctx.model
        var moves: [Proposal.Move] = []
        var replicaMoves = 0
        var leaderMoves = 0
        var leadershipOnly = 0
        var hash = FNV1a()
        var data = 0.0
        var crossData = 0.0
        for p in 0..<m.partitionCount {
            let range = m.replicaRange(p)
            if after.leader[p] == m.leader[p] && after.replicas[range] == m.replicas[range] { continue }
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
            if oldLeader != newLeader {
                leaderMoves += 1
                if added == 0 { leadershipOnly += 1 }
            }
            hash.add(UInt64(p))
            for b in new { hash.add(UInt64(b)) }
            moves.append(
                Proposal.Move(
                    topic: m.topicNames[Int(m.partitionTopic[p])], partition: Int(m.partitionId[p]),
                    oldReplicas: old.map { m.brokerIds[Int($0)] }, newReplicas: new.map { m.brokerIds[Int($0)] },
                    oldLeader: oldLeader, newLeader: newLeader, dataToMoveMiB: disk * Double(added),
                    crossCluster: cross))
        }
        return (moves, replicaMoves, leaderMoves, leadershipOnly, data, crossData, hash.value)
    }

    /// The proposal that takes the cluster of `ctx` to `after`, with the goals evaluated on both.
    static func report(
        _ ctx: PlanContext, after: Assignment, swaps: Int, trace: [Goal: Int], before: GoalEvaluator.Evaluation,
        afterEvaluation: GoalEvaluator.Evaluation, moves listed: ProposalMoves
    ) -> Result {
        let m = ctx.model
        let checksBefore = before.checks
        let aggBefore = before.aggregates
        var checksAfter = afterEvaluation.checks
        let aggAfter = afterEvaluation.aggregates
        let (moves, replicaMoves, leaderMoves, leadershipOnly, data, crossData, planHash) = listed
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
                dataToMoveLowerBoundMiB: bound, replicaSwaps: swaps, leadershipOnlyMoves: leadershipOnly),
            goals: goals,
            statistics: Proposal.Statistics(
                before: statistics(ctx, aggBefore), after: statistics(ctx, aggAfter)))
        return Result(
            proposal: proposal, violationsAfterOwnPhase: trace,
            finalReplicaIds: after.replicas.map { m.brokerIds[Int($0)] },
            finalLeaders: after.leader.map { $0 >= 0 ? m.brokerIds[Int($0)] : -1 }, replicaStart: m.replicaStart,
            planHash: planHash)
    }

    /// A lower bound on the data (MiB) any plan must move to reach the goals this plan reached.
    ///
    /// Data moved is the data leaving brokers, so it is at least the sum of what must leave each broker:
    /// (a) everything on a dead or removing broker (DeadBrokers met); (b) per alive broker, the data above the top
    /// of its balanced disk range (DiskDistribution met; else above its disk capacity threshold, DiskCapacity met);
    /// (c) per partition breaking a rack or Kubernetes-cluster limit (those goals met) and holding no replica on
    /// a broker of (a) or (b), its size times the replicas that must leave the over-full rack or cluster, which
    /// leave brokers (b) did not count. It is also at least the data brokers below their balanced disk range must
    /// receive. The larger of the two is the bound.
    static func lowerBound(_ ctx: PlanContext, checksAfter: [Goal: GoalCheck]) -> Double {
        let m = ctx.model
        let B = m.brokerCount
        let met = { (g: Goal) in ctx.goals.contains(g) && checksAfter[g]?.satisfied == true }
        let sizes = m.load[Resource.disk.rawValue]
        var disk = [Double](repeating: 0, count: B)
        for p in 0..<m.partitionCount {
            for i in m.replicaRange(p) { disk[Int(m.replicas[i])] += sizes[p] }
        }
        let balanced = met(.diskDistribution)
        let capped = met(.diskCapacity) && m.hasCapacity[Resource.disk.rawValue]
        var mustLeave = [Bool](repeating: false, count: B)
        var out = 0.0
        var inflow = 0.0
        for b in 0..<B {
            if !ctx.eligible[b] {
                if met(.deadBrokers) && ctx.srcAllowed[b] {
                    out += disk[b]
                    mustLeave[b] = true
                }
                continue
            }
            let top = balanced ? ctx.hiAbs[b][Metric.disk] : capped ? ctx.capAbs[b][Metric.disk] : .infinity
            if disk[b] > top {
                out += disk[b] - top
                mustLeave[b] = true
            }
            if balanced { inflow += max(0, ctx.loAbs[b][Metric.disk] - disk[b]) }
        }
        let rackRule = met(.rackAware)
        let clusterRule = met(.clusterLossSurvivable)
        if rackRule || clusterRule {
            var rackSeen = [Int](repeating: 0, count: m.rackNames.count)
            var clusterSeen = [Int](repeating: 0, count: m.clusterNames.count)
            for p in 0..<m.partitionCount {
                let range = m.replicaRange(p)
                var counted = false
                for i in range {
                    let b = Int(m.replicas[i])
                    counted = counted || mustLeave[b]
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
                if counted { continue }
                let need = max(rackRule ? rackExcess : 0, clusterRule ? clusterExcess : 0)
                out += sizes[p] * Double(need)
            }
        }
        return max(out, inflow)
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

/// 64-bit FNV-1a, for plan fingerprints that are the same on every machine (unlike `Hasher`, which is seeded).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ x: UInt64) {
        var x = x
        for _ in 0..<8 {
            value = (value ^ (x & 0xff)) &* 0x0000_0100_0000_01B3
            x >>= 8
        }
    }
}
