/// A partition with more replicas in one Kubernetes cluster than the ClusterLossSurvivable goal allows.
public struct ClusterLossViolation: Sendable, Hashable, Codable {
    public var topic: String
    public var partition: Int
    /// Broker ids.
    public var replicas: [Int]
    /// Replicas per Kubernetes cluster.
    public var perCluster: [String: Int]
    /// The most replicas one cluster may hold: RF − min ISR, or the even spread when the alive clusters cannot give
    /// that (the goal's own limit, `PlanContext`'s caps).
    public var allowed: Int
    /// RF − min ISR ≥ 1 and enough clusters: losing any one cluster leaves min ISR replicas once fixed.
    public var survivable: Bool
}

extension Planner {
    /// The partitions of `model` that break ClusterLossSurvivable as the planner judges it (same limits as the goal,
    /// computed by the planner's context), for `ballast topology check`. Empty with one Kubernetes cluster.
    public static func clusterLossViolations(_ model: ClusterModel, policy: PlannerPolicy = .default) throws(PlanError)
        -> [ClusterLossViolation]
    {
        var policy = policy
        if !policy.goals.contains(.clusterLossSurvivable) { policy.goals.append(.clusterLossSurvivable) }
        let ctx = try PlanContext(model: model, request: PlanRequest(policy: policy))
        let m = ctx.model
        var out: [ClusterLossViolation] = []
        var seen = [Int32](repeating: 0, count: m.clusterNames.count)
        for p in 0..<m.partitionCount {
            let caps = ctx.caps(p)
            let range = m.replicaRange(p)
            var worst: Int32 = 0
            for i in range {
                let c = Int(m.brokerCluster[Int(m.replicas[i])])
                seen[c] += 1
                worst = max(worst, seen[c])
            }
            if worst > Int32(caps.clusterCap) {
                var perCluster: [String: Int] = [:]
                for i in range {
                    perCluster[m.clusterNames[Int(m.brokerCluster[Int(m.replicas[i])])], default: 0] += 1
                }
                out.append(
                    ClusterLossViolation(
                        topic: m.topicNames[Int(m.partitionTopic[p])], partition: Int(m.partitionId[p]),
                        replicas: range.map { m.brokerIds[Int(m.replicas[$0])] }, perCluster: perCluster,
                        allowed: Int(caps.clusterCap), survivable: caps.survivable))
            }
            for i in range { seen[Int(m.brokerCluster[Int(m.replicas[i])])] = 0 }
        }
        return out
    }
}
