/// Incremental planning: after a small change (a broker lost, a broker added) the previous proposal's target is
/// still nearly right, so the optimizer starts from it and moves only what the change disturbs.
extension Planner {
    public struct Replan: Sendable {
        /// The proposal from the cluster as it is now to the new target.
        public var result: Result
        /// Partitions whose target (replicas or leader) differs from the previous proposal's.
        public var partitionsReplanned: Int
    }

    /// Re-plans after a change. `model` is the cluster now, with the change in it (a broker `dead`, or a broker
    /// added as `new`); `previous` is the proposal made before the change, executed in part or not at all (each
    /// partition's target is its move's `newReplicas`, or where it is now when the proposal does not move it).
    /// The optimizer runs on that target, so the goals' phases only act where the change put a broker or a
    /// partition outside its limits.
    /// - Throws: `PlanError.badInput` when a move of `previous` names a partition, a broker or a replication factor
    ///   the model does not have; otherwise as `plan`.
    public static func replan(_ model: ClusterModel, previous: Proposal, _ request: PlanRequest) throws(PlanError)
        -> Replan
    {
        var target = model
        var topicIndex: [String: Int] = [:]
        for (t, name) in model.topicNames.enumerated() { topicIndex[name] = t }
        var partitionIndex: [Int: Int] = [:]
        for p in 0..<model.partitionCount {
            partitionIndex[Int(model.partitionTopic[p]) << 32 | Int(model.partitionId[p])] = p
        }
        var brokerIndex: [Int: Int32] = [:]
        for (b, id) in model.brokerIds.enumerated() { brokerIndex[id] = Int32(b) }
        for move in previous.moves {
            let name = "\(move.topic)-\(move.partition)"
            guard let t = topicIndex[move.topic], let p = partitionIndex[t << 32 | move.partition] else {
                throw PlanError(kind: .badInput, goal: nil, message: "previous proposal: \(name) is not in the model")
            }
            let range = model.replicaRange(p)
            guard move.newReplicas.count == range.count else {
                throw PlanError(
                    kind: .badInput, goal: nil,
                    message: "previous proposal: \(name) has \(move.newReplicas.count) new replicas, the model "
                        + "has replication factor \(range.count)")
            }
            for (i, id) in zip(range, move.newReplicas) {
                guard let b = brokerIndex[id] else {
                    throw PlanError(
                        kind: .badInput, goal: nil,
                        message: "previous proposal: \(name) names broker \(id), not in the model")
                }
                target.replicas[i] = b
            }
            target.leader[p] = target.replicas[range.lowerBound]
        }
        let targetContext = try PlanContext(model: target, request: request)
        var opt = Optimizer(ctx: targetContext, tracing: false)
        if let added = addedBrokers(target, targetContext) { opt.admit(added) } else { opt.run() }
        let after = opt.assignment()
        let now = try PlanContext(model: model, request: request)
        var replanned = 0
        for p in 0..<model.partitionCount {
            let range = model.replicaRange(p)
            if after.leader[p] != target.leader[p] || after.replicas[range] != target.replicas[range] { replanned += 1 }
        }
        let evaluator = GoalEvaluator(ctx: now)
        let result = report(
            now, after: after, swaps: opt.swaps, trace: [:], before: evaluator.evaluation(now.currentAssignment),
            afterEvaluation: evaluator.evaluation(after), moves: proposalMoves(now, after: after))
        return Replan(result: result, partitionsReplanned: replanned)
    }

    /// The brokers added since `previous`, when that is the only change: new brokers holding nothing in the target,
    /// and no dead or removing broker holding anything there. The optimizer then only admits them
    /// (`Optimizer.admit`); nil for any other change (a broker lost is re-planned by every phase from the target).
    static func addedBrokers(_ target: ClusterModel, _ ctx: PlanContext) -> [Int32]? {
        var holds = [Bool](repeating: false, count: target.brokerCount)
        for b in target.replicas { holds[Int(b)] = true }
        var added: [Int32] = []
        for b in 0..<target.brokerCount {
            if holds[b] && !ctx.eligible[b] { return nil }
            if !holds[b] && ctx.model.brokerState[b] == .new && ctx.dstAllowed[b] { added.append(Int32(b)) }
        }
        return added.isEmpty ? nil : added
    }
}
