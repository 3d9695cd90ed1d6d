/// Brokers added to a placement that met its goals (`Planner.replan` when the only change is new brokers): the
/// new brokers take their share and nothing else is re-balanced, so the re-plan costs about what they take, not a
/// pass of every phase over the whole cluster.
///
/// Every goal's limits are constraints from the start (the previous target met them, so no move may take an old
/// broker outside a range it is in), and while filling, the new brokers are the only destinations: each replica
/// that moves goes to a new broker, and each partition re-planned gains a replica there (or, for leader lanes, a
/// leadership moves off a broker above the lowered range, which copies nothing). What the adding changes is the
/// means: every range drops by the new brokers' share, so
///
/// 1. topics first, while the new brokers have room in every lane: (topic, broker) pairs over the lowered topic
///    range move replicas to the new brokers, and new brokers below a topic's floor pull replicas of it;
/// 2. per goal in priority order, brokers the lower range leaves above it shed onto the new brokers (leader lanes
///    hand leadership to a follower first), then each new broker below the range fills from the most loaded
///    brokers (leader lanes: it first takes leadership of the replicas it now holds);
/// 3. the goals are checked on the optimizer's own per-broker state (O(brokers) per lane, one pass over the
///    replicas for topics), and only a goal still violated runs its general phase with every destination, which
///    acts only on the brokers (or topic pairs) outside its range.
extension Optimizer {
    mutating func admit(_ added: [Int32]) {
        // Hard partition goals as `run` does them: nothing to do when the previous target met them, but a new rack
        // or Kubernetes cluster can tighten a partition's limits.
        for goal in ctx.policy.goals {
            switch goal {
            case .deadBrokers: drainIneligible()
            case .rackAware, .clusterLossSurvivable: fixPartitionLimits()
            default: break
            }
        }
        for goal in ctx.policy.goals {
            guard let lane = goal.metric else { continue }
            if goal.isCapacity { capOn[lane] = true } else { distOn[lane] = true }
        }
        refreshLimits()
        focus(on: added)
        // Topics first, while the new brokers have room in every lane: pairs the lowered topic range leaves above
        // it move replicas to them, and they pull replicas of topics whose floor is above zero. From here on the
        // topic ranges constrain every move, as every other goal's do.
        if ctx.goals.contains(.topicReplicaDistribution) && topicOn {
            topicActive = true
            shedTopicExcess(swaps: false)
            fillTopicShortfall()
        }
        let newBrokers = added.map(Int.init).filter { ctx.eligible[$0] && ctx.dstAllowed[$0] }
        for goal in ctx.policy.goals {
            guard let lane = goal.metric else { continue }
            let over = (0..<B).filter { ctx.eligible[$0] && ctx.srcAllowed[$0] && agg[$0][lane] > up[$0][lane] }
                .sorted { (score($0, lane: lane), $0) > (score($1, lane: lane), $1) }
            let leaderLane = Self.leaderLanes.contains(lane)
            for b in over {
                if leaderLane { _ = shedLeadership(b, lane: lane) }
                if agg[b][lane] > up[b][lane] { shed(b, lane: lane) }
            }
            guard goal.isDistribution else { continue }
            for d in newBrokers {
                if leaderLane && agg[d][lane] < down[d][lane] { _ = takeLeadership(d, lane: lane) }
                if agg[d][lane] < down[d][lane] { fill(d, lane: lane) }
            }
        }
        focus(on: nil)
        // What the new brokers could not absorb: the general phase of each goal still violated.
        for goal in ctx.policy.goals {
            if let lane = goal.metric {
                guard anyBrokerOutside(lane: lane, capacity: goal.isCapacity) else { continue }
                if goal.isCapacity {
                    for b in 0..<B where ctx.eligible[b] && agg[b][lane] > up[b][lane] { shed(b, lane: lane) }
                } else {
                    balance(lane: lane)
                }
            } else if goal == .topicReplicaDistribution && topicOn && anyTopicPairOutside() {
                balanceTopics()
            }
        }
    }

    /// Whether an eligible broker is outside the goal of `lane`: above its capacity threshold, or outside its
    /// balanced range (with the active limits' tolerance).
    func anyBrokerOutside(lane: Int, capacity: Bool) -> Bool {
        for b in 0..<B where ctx.eligible[b] {
            if capacity {
                let cap = ctx.capAbs[b][lane]
                if agg[b][lane] > cap + 1e-9 * max(1, abs(cap)) { return true }
            } else if agg[b][lane] > up[b][lane] || agg[b][lane] < down[b][lane] {
                return true
            }
        }
        return false
    }

    /// Whether a (topic, eligible broker) pair is outside the topic's range: above it, or below a floor above zero.
    func anyTopicPairOutside() -> Bool {
        let m = ctx.model
        for b in 0..<B where ctx.eligible[b] {
            for slot in brokerSlots[b] {
                let t = Int(m.partitionTopic[Int(slotPartition[Int(slot)])])
                if topicCount[t, b] > ctx.topicHi[t] { return true }
            }
        }
        for t in 0..<m.topicCount where ctx.topicLo[t] > 0 {
            for b in 0..<B where ctx.eligible[b] && topicCount[t, b] < ctx.topicLo[t] { return true }
        }
        return false
    }
}
