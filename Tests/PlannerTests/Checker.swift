import KafkaModel
import Planner

/// An independent checker: applies a proposal to a model and verifies the hard invariants from scratch,
/// without the planner's own evaluator or incremental state.
struct ProposalChecker {
    let model: ClusterModel
    /// Broker id → index.
    let index: [Int: Int]

    init(_ model: ClusterModel) {
        self.model = model
        var index: [Int: Int] = [:]
        for (i, id) in model.brokerIds.enumerated() { index[id] = i }
        self.index = index
    }

    /// Each partition's replicas (broker ids) and leader after applying the proposal's moves.
    func apply(_ proposal: Proposal) -> (replicas: [[Int]], leaders: [Int], problems: [String]) {
        var problems: [String] = []
        var key: [String: Int] = [:]
        var replicas: [[Int]] = []
        var leaders: [Int] = []
        for p in 0..<model.partitionCount {
            key["\(model.topicNames[Int(model.partitionTopic[p])])/\(model.partitionId[p])"] = p
            replicas.append(model.replicas[model.replicaRange(p)].map { model.brokerIds[Int($0)] })
            leaders.append(model.leader[p] >= 0 ? model.brokerIds[Int(model.leader[p])] : -1)
        }
        var seen: Set<Int> = []
        for move in proposal.moves {
            guard let p = key["\(move.topic)/\(move.partition)"] else {
                problems.append("move of unknown partition \(move.topic)/\(move.partition)")
                continue
            }
            if !seen.insert(p).inserted { problems.append("partition \(move.topic)/\(move.partition) moved twice") }
            if move.oldReplicas != replicas[p] { problems.append("\(move.topic)/\(move.partition): wrong oldReplicas") }
            if move.oldLeader != leaders[p] { problems.append("\(move.topic)/\(move.partition): wrong oldLeader") }
            if move.newLeader != move.newReplicas.first {
                problems.append("\(move.topic)/\(move.partition): newLeader is not newReplicas[0]")
            }
            if move.newReplicas.count != move.oldReplicas.count || Set(move.newReplicas).count != move.newReplicas.count
            {
                problems.append("\(move.topic)/\(move.partition): replication factor or distinctness changed")
            }
            let added = move.newReplicas.filter { !move.oldReplicas.contains($0) }.count
            let size = model.load[Resource.disk.rawValue][p]
            if abs(move.dataToMoveMiB - size * Double(added)) > 1e-6 {
                problems.append("\(move.topic)/\(move.partition): dataToMoveMiB is not size × new replicas")
            }
            replicas[p] = move.newReplicas
            leaders[p] = move.newLeader
        }
        return (replicas, leaders, problems)
    }

    struct Invariants {
        var onIneligible = 0
        var rackUneven = 0
        var clusterOverLimit = 0
        var survivableAvailable = 0
        var diskOverCapacity = 0
        var diskMaxOverMean = 0.0
        var replicaMaxOverMean = 0.0
    }

    /// Counts violations of the hard invariants on a placement. `states` overrides the model's broker states.
    func invariants(_ replicas: [[Int]], states: [BrokerState]? = nil, diskThreshold: Double = 0.8) -> Invariants {
        let states = states ?? model.brokerState
        var inv = Invariants()
        let eligible = (0..<model.brokerCount).filter { states[$0] == .alive || states[$0] == .new }
        let racks = Set(eligible.map { model.brokerRack[$0] }).count
        let clusters = Set(eligible.map { model.brokerCluster[$0] }).count
        var disk = [Double](repeating: 0, count: model.brokerCount)
        var count = [Double](repeating: 0, count: model.brokerCount)
        for p in 0..<model.partitionCount {
            let reps = replicas[p].map { index[$0]! }
            let rf = reps.count
            let minIsr = Int(model.topicMinIsr[Int(model.partitionTopic[p])])
            for b in reps {
                disk[b] += model.load[Resource.disk.rawValue][p]
                count[b] += 1
                if !(states[b] == .alive || states[b] == .new) { inv.onIneligible += 1 }
            }
            var perRack: [Int32: Int] = [:]
            var perCluster: [Int32: Int] = [:]
            for b in reps {
                perRack[model.brokerRack[b], default: 0] += 1
                perCluster[model.brokerCluster[b], default: 0] += 1
            }
            if perRack.values.max()! > (rf + racks - 1) / racks { inv.rackUneven += 1 }
            // Where three or more clusters and rf − minIsr ≥ 1 make it possible, no cluster may hold more.
            let limit = rf - minIsr
            if clusters > 1 && limit >= 1 && limit * clusters >= rf && racks >= rf {
                inv.survivableAvailable += 1
                if perCluster.values.max()! > limit { inv.clusterOverLimit += 1 }
            }
        }
        var diskSum = 0.0
        var countSum = 0.0
        var diskMax = 0.0
        var countMax = 0.0
        for b in eligible {
            if model.hasCapacity[0] && disk[b] > model.capacity[0][b] * diskThreshold * (1 + 1e-9) {
                inv.diskOverCapacity += 1
            }
            diskSum += disk[b]
            countSum += count[b]
            diskMax = max(diskMax, disk[b])
            countMax = max(countMax, count[b])
        }
        inv.diskMaxOverMean = diskSum > 0 ? diskMax / (diskSum / Double(eligible.count)) : 1
        inv.replicaMaxOverMean = countSum > 0 ? countMax / (countSum / Double(eligible.count)) : 1
        return inv
    }
}

extension ProposalChecker {
    /// Violations of the soft distribution goals and PreferredLeader on a placement, computed from the documented
    /// rules (docs/planner.md, "Goals") without the planner's code: brokers outside [mean × (2 − t), mean × t] per
    /// metric (counts rounded to whole replicas), (topic, broker) pairs outside the topic's range, partitions not
    /// led by their first replica.
    func softViolations(_ replicas: [[Int]], leaders: [Int], policy: PlannerPolicy = .default) -> [Goal: Int] {
        let B = model.brokerCount
        let eligible = (0..<B).filter { model.brokerState[$0] == .alive || model.brokerState[$0] == .new }
        // Per broker: replicas, disk, networkIn, networkOut, cpu, leaders, leader bytes in.
        var load = [[Double]](repeating: [Double](repeating: 0, count: 7), count: B)
        var topicCount: [Int: [Int: Int]] = [:]
        var notPreferred = 0
        for p in 0..<model.partitionCount {
            let l = { (r: Resource) in model.load[r.rawValue][p] }
            let t = Int(model.partitionTopic[p])
            if leaders[p] >= 0 && leaders[p] != replicas[p][0] { notPreferred += 1 }
            let leader = leaders[p] >= 0 ? leaders[p] : replicas[p][0]
            for id in replicas[p] {
                let b = index[id]!
                let leads = id == leader
                load[b][0] += 1
                load[b][1] += l(.disk)
                load[b][2] += l(.networkIn)
                load[b][3] += leads ? l(.networkOut) : 0
                load[b][4] += leads ? l(.cpu) : l(.cpu) * policy.followerCpuRatio
                load[b][5] += leads ? 1 : 0
                load[b][6] += leads ? l(.networkIn) : 0
                topicCount[t, default: [:]][b, default: 0] += 1
            }
        }
        let capacityOf: [Int: Resource] = [1: .disk, 2: .networkIn, 3: .networkOut, 4: .cpu, 6: .networkIn]
        let thresholds = [
            policy.balance.replica, policy.balance.disk, policy.balance.networkIn, policy.balance.networkOut,
            policy.balance.cpu, policy.balance.leaderReplica, policy.balance.leaderBytesIn,
        ]
        let goals: [Goal] = [
            .replicaDistribution, .diskDistribution, .networkInDistribution, .networkOutDistribution,
            .cpuDistribution, .leaderReplicaDistribution, .leaderBytesInDistribution,
        ]
        var out: [Goal: Int] = [:]
        for lane in 0..<7 {
            let cap = { (b: Int) in capacityOf[lane].map { model.capacity[$0.rawValue][b] } ?? 1 }
            // The whole cluster's load (dead brokers' replicas too: they will land on the eligible ones) over
            // the eligible brokers' capacity.
            let mean = (0..<B).reduce(0) { $0 + load[$1][lane] } / eligible.reduce(0) { $0 + cap($1) }
            let t = thresholds[lane]
            var hi = mean * t
            var lo = mean * (2 - t)
            if capacityOf[lane] == nil {
                hi = max((mean * t).rounded(.down), mean.rounded(.up))
                lo = min((mean * (2 - t)).rounded(.up), mean.rounded(.down))
            }
            out[goals[lane]] =
                eligible.filter { b in
                    let v = load[b][lane]
                    let tol = 1e-9 * max(1, abs(v))
                    return v > hi * cap(b) + tol || v < lo * cap(b) - tol
                }.count
        }
        var topicBad = 0
        for t in 0..<model.topicCount {
            let n = topicCount[t]?.values.reduce(0, +) ?? 0
            let mean = Double(n) / Double(eligible.count)
            let gap = min(
                max(mean * (policy.balance.topicReplica - 1), Double(policy.balance.topicReplicaMinGap)),
                Double(policy.balance.topicReplicaMaxGap))
            let hi = max((mean + gap).rounded(.down), mean.rounded(.up))
            let lo = max(0, min((mean - gap).rounded(.up), mean.rounded(.down)))
            for b in eligible {
                let c = Double(topicCount[t]?[b] ?? 0)
                if c > hi || c < lo { topicBad += 1 }
            }
        }
        out[.topicReplicaDistribution] = topicBad
        out[.preferredLeader] = notPreferred
        return out
    }
}
