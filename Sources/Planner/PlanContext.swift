/// What a plan may do, as the request asks.
public enum PlanMode: String, Sendable, Hashable, Codable, CaseIterable {
    case rebalance
    /// Moves only onto the new brokers.
    case addBrokers = "add-brokers"
    /// Moves only off the named brokers.
    case removeBrokers = "remove-brokers"
    /// Moves only replicas of dead brokers.
    case fixOffline = "fix-offline"
}

public struct PlanRequest: Sendable {
    public var mode: PlanMode
    /// Broker ids: the new brokers for add-brokers, the ones to remove for remove-brokers.
    public var brokers: [Int]
    public var policy: PlannerPolicy
    /// Names of topics whose replicas stay where they are unless their broker is dead or removing.
    public var excludedTopics: Set<String>
    /// At most this many replica moves (nil: no limit).
    public var maxMoves: Int?

    public init(
        mode: PlanMode = .rebalance, brokers: [Int] = [], policy: PlannerPolicy = .default,
        excludedTopics: Set<String> = [], maxMoves: Int? = nil
    ) {
        self.mode = mode
        self.brokers = brokers
        self.policy = policy
        self.excludedTopics = excludedTopics
        self.maxMoves = maxMoves
    }
}

/// Per-partition placement limits derived from the topology of the eligible brokers.
struct PartitionCaps: Sendable {
    /// Most replicas of the partition allowed in one rack / one Kubernetes cluster.
    var rackCap: UInt8
    var clusterCap: UInt8
    /// False when the topology cannot give RF − min ISR per Kubernetes cluster (so losing one loses the partition).
    var survivable: Bool
    /// False when RF exceeds the racks and the replicas are spread only as evenly as possible.
    var rackDistinct: Bool
}

/// Everything the optimizer and the evaluator derive from a model and a request, computed once.
/// A class: the optimizer reads it in its innermost loops, and a struct of some thirty arrays would be copied
/// (retained and released field by field) on every such read in debug builds.
final class PlanContext: Sendable {
    let model: ClusterModel
    let request: PlanRequest
    var policy: PlannerPolicy { request.policy }
    let goals: Set<Goal>
    let eligible: [Bool]
    /// Mode rules: whether replicas may leave `b` / arrive on `b`.
    let srcAllowed: [Bool]
    let dstAllowed: [Bool]
    let excludedTopic: [Bool]
    let capsIndex: [UInt16]
    let capsTable: [PartitionCaps]
    /// Kubernetes cluster a new replica of the partition copies its data from (its leader's), -1 when unknown.
    let sourceCluster: [Int32]
    /// Per broker: what a metric is divided by to compare brokers (capacity for resources, 1 for counts).
    let norm: [SIMD8<Double>]
    let capAbs: [SIMD8<Double>]
    let hiAbs: [SIMD8<Double>]
    let loAbs: [SIMD8<Double>]
    let meanU: SIMD8<Double>
    let hiU: SIMD8<Double>
    let loU: SIMD8<Double>
    let totals: SIMD8<Double>
    /// `totals` over the eligible brokers: a typical broker's absolute load.
    let meanPerBroker: SIMD8<Double>
    let eligibleCount: Int
    /// Partitions of each topic: `topicPartitionList[topicPartitionStart[t] ..< topicPartitionStart[t + 1]]`.
    let topicPartitionStart: [Int32]
    let topicPartitionList: [Int32]
    let topicHi: [Int32]
    let topicLo: [Int32]
    /// The model's per-partition loads, one array each (shared with the model, not copied), for the hot paths.
    let diskLoad: [Double]
    let networkInLoad: [Double]
    let networkOutLoad: [Double]
    let cpuLoad: [Double]
    let followerCpuRatio: Double
    let clusterCount: Int

    init(model m0: ClusterModel, request: PlanRequest) throws(PlanError) {
        var m = m0
        for id in request.brokers {
            guard let b = m.brokerIndex(id: id) else {
                throw PlanError(kind: .badInput, goal: nil, message: "--brokers: broker \(id) is not in the model")
            }
            switch request.mode {
            case .addBrokers:
                if m.brokerState[b] != .alive && m.brokerState[b] != .new {
                    throw PlanError(
                        kind: .badInput, goal: nil,
                        message: "--brokers: broker \(id) is \(m.brokerState[b].rawValue), it cannot be added")
                }
                m.brokerState[b] = .new
            case .removeBrokers:
                if m.brokerState[b] != .dead { m.brokerState[b] = .removing }
            case .rebalance, .fixOffline:
                throw PlanError(
                    kind: .badInput, goal: nil,
                    message: "--brokers applies only to the add-brokers and remove-brokers modes")
            }
        }
        if request.mode == .addBrokers && !m.brokerState.contains(.new) {
            throw PlanError(
                kind: .badInput, goal: nil, message: "add-brokers needs new brokers: name them in --brokers")
        }
        if request.mode == .removeBrokers && !m.brokerState.contains(.removing) {
            throw PlanError(
                kind: .badInput, goal: nil, message: "remove-brokers needs brokers to remove: name them in --brokers")
        }
        if let mm = request.maxMoves, mm < 0 {
            throw PlanError(kind: .badInput, goal: nil, message: "--max-moves must not be negative")
        }
        self.model = m
        self.request = request
        diskLoad = m.load[Resource.disk.rawValue]
        networkInLoad = m.load[Resource.networkIn.rawValue]
        networkOutLoad = m.load[Resource.networkOut.rawValue]
        cpuLoad = m.load[Resource.cpu.rawValue]
        followerCpuRatio = request.policy.followerCpuRatio
        let policy = request.policy
        let goals = Set(policy.goals)
        self.goals = goals
        let B = m.brokerCount
        let eligible = m.brokerState.map(\.isEligible)
        self.eligible = eligible
        if !eligible.contains(true) {
            throw PlanError(kind: .infeasible, goal: .deadBrokers, message: "no broker is alive")
        }
        switch request.mode {
        case .rebalance:
            srcAllowed = Array(repeating: true, count: B)
            dstAllowed = eligible
        case .addBrokers:
            srcAllowed = Array(repeating: true, count: B)
            dstAllowed = m.brokerState.map { $0 == .new }
        case .removeBrokers:
            srcAllowed = m.brokerState.map { $0 == .removing || $0 == .dead }
            dstAllowed = eligible
        case .fixOffline:
            srcAllowed = m.brokerState.map { $0 == .dead }
            dstAllowed = eligible
        }
        excludedTopic = m.topicNames.map { request.excludedTopics.contains($0) }

        // Source cluster: the current leader's, or the first surviving replica's.
        var sc = [Int32](repeating: -1, count: m.partitionCount)
        for p in 0..<m.partitionCount {
            let l = Int(m.leader[p])
            if l >= 0 && eligible[l] {
                sc[p] = m.brokerCluster[l]
            } else if let b = m.replicas[m.replicaRange(p)].first(where: { eligible[Int($0)] }) {
                sc[p] = m.brokerCluster[Int(b)]
            }
        }
        sourceCluster = sc

        // Topology of eligible brokers: brokers per (cluster, rack).
        var perRack: [Int: Int] = [:]
        var rackCluster: [Int: Int] = [:]
        var clusters: Set<Int> = []
        var racks: Set<Int> = []
        for b in 0..<B where eligible[b] {
            let key = Int(m.brokerCluster[b]) * 65_536 + Int(m.brokerRack[b])
            perRack[key, default: 0] += 1
            rackCluster[key] = Int(m.brokerCluster[b])
            clusters.insert(Int(m.brokerCluster[b]))
            racks.insert(Int(m.brokerRack[b]))
        }
        clusterCount = clusters.count
        let rackSizes = perRack.map { (cluster: rackCluster[$0.key]!, brokers: $0.value) }
        func achievable(rf: Int, rackCap: Int, clusterCap: Int) -> Bool {
            var perCluster: [Int: Int] = [:]
            for r in rackSizes { perCluster[r.cluster, default: 0] += min(rackCap, r.brokers) }
            return perCluster.values.reduce(0) { $0 + min(clusterCap, $1) } >= rf
        }
        let eligibleCount = eligible.filter { $0 }.count
        var table: [PartitionCaps] = []
        var keyIndex: [Int: UInt16] = [:]
        var index = [UInt16](repeating: 0, count: m.partitionCount)
        for p in 0..<m.partitionCount {
            let rf = m.replicationFactor(p)
            let minIsr = Int(m.topicMinIsr[Int(m.partitionTopic[p])])
            let key = rf * 1024 + min(minIsr, 1023)
            if let i = keyIndex[key] {
                index[p] = i
                continue
            }
            if rf > eligibleCount {
                throw PlanError(
                    kind: .infeasible, goal: .deadBrokers,
                    message: "RF \(rf) of topic \(m.topicNames[Int(m.partitionTopic[p])]) needs \(rf) brokers, "
                        + "\(eligibleCount) are alive")
            }
            var rackCap = rf
            var rackDistinct = true
            if goals.contains(.rackAware) {
                rackCap = (rf + racks.count - 1) / racks.count
                if rf > racks.count {
                    rackDistinct = false
                    if !policy.rackAwareAllowUneven {
                        throw PlanError(
                            kind: .infeasible, goal: .rackAware,
                            message: "RF \(rf) needs \(rf) racks, \(racks.count) are alive")
                    }
                }
                while !achievable(rf: rf, rackCap: rackCap, clusterCap: rf) { rackCap += 1 }
            }
            var clusterCap = rf
            var survivable = clusters.count > 1 && rf - minIsr >= 1
            if goals.contains(.clusterLossSurvivable) && clusters.count > 1 {
                let target = rf - minIsr
                if target >= 1 && achievable(rf: rf, rackCap: rackCap, clusterCap: target) {
                    clusterCap = target
                } else {
                    survivable = false
                    clusterCap = (rf + clusters.count - 1) / clusters.count
                    while !achievable(rf: rf, rackCap: rackCap, clusterCap: clusterCap) { clusterCap += 1 }
                }
            }
            if clusters.count <= 1 { survivable = true }
            let i = UInt16(table.count)
            table.append(
                PartitionCaps(
                    rackCap: UInt8(min(rackCap, 255)), clusterCap: UInt8(min(clusterCap, 255)),
                    survivable: survivable, rackDistinct: rackDistinct))
            keyIndex[key] = i
            index[p] = i
        }
        capsTable = table
        capsIndex = index

        // Totals of every metric are invariant under moves and leader swaps.
        var tot = SIMD8<Double>()
        let ratio = policy.followerCpuRatio
        for p in 0..<m.partitionCount {
            let rf = Double(m.replicationFactor(p))
            let d = m.load[Resource.disk.rawValue][p]
            let nin = m.load[Resource.networkIn.rawValue][p]
            let nout = m.load[Resource.networkOut.rawValue][p]
            let cpu = m.load[Resource.cpu.rawValue][p]
            tot += SIMD8(rf, d * rf, nin * rf, nout, cpu * (1 + ratio * (rf - 1)), 1, nin, 0)
        }
        totals = tot
        meanPerBroker = tot / Double(eligibleCount)
        self.eligibleCount = eligibleCount
        var start = [Int32](repeating: 0, count: m.topicCount + 1)
        for p in 0..<m.partitionCount { start[Int(m.partitionTopic[p]) + 1] += 1 }
        for t in 0..<m.topicCount { start[t + 1] += start[t] }
        var fillAt = Array(start.dropLast())
        var list = [Int32](repeating: 0, count: m.partitionCount)
        for p in 0..<m.partitionCount {
            let t = Int(m.partitionTopic[p])
            list[Int(fillAt[t])] = Int32(p)
            fillAt[t] += 1
        }
        topicPartitionStart = start
        topicPartitionList = list
        var norms: [SIMD8<Double>] = []
        var caps: [SIMD8<Double>] = []
        let inf = Double.infinity
        for b in 0..<B {
            let c = { (r: Resource) in m.capacity[r.rawValue][b] }
            norms.append(SIMD8(1, c(.disk), c(.networkIn), c(.networkOut), c(.cpu), 1, c(.networkIn), 1))
            let has = { (r: Resource) in m.hasCapacity[r.rawValue] }
            caps.append(
                SIMD8(
                    Double(policy.capacity.maxReplicasPerBroker),
                    has(.disk) ? c(.disk) * policy.capacity.disk : inf,
                    has(.networkIn) ? c(.networkIn) * policy.capacity.networkIn : inf,
                    has(.networkOut) ? c(.networkOut) * policy.capacity.networkOut : inf,
                    has(.cpu) ? c(.cpu) * policy.capacity.cpu : inf, inf, inf, inf))
        }
        norm = norms
        capAbs = caps
        // A capacity goal no placement can meet: the load exceeds the threshold of all eligible brokers together.
        for goal in [Goal.replicaCapacity, .diskCapacity, .networkInCapacity, .networkOutCapacity, .cpuCapacity]
        where goals.contains(goal) {
            let lane = goal.metric!
            var room = 0.0
            for b in 0..<B where eligible[b] { room += caps[b][lane] }
            if tot[lane] > room * (1 + 1e-9) {
                let unit = lane == Metric.replicas ? "replicas" : Metric.names[lane]
                throw PlanError(
                    kind: .infeasible, goal: goal,
                    message: "the cluster's \(unit) load \((tot[lane] * 10).rounded() / 10) exceeds the "
                        + "\((room * 10).rounded() / 10) the alive brokers may hold at the capacity threshold")
            }
        }
        var normSum = SIMD8<Double>()
        for b in 0..<B where eligible[b] { normSum += norms[b] }
        let mean = tot / normSum
        var hi = SIMD8<Double>(repeating: inf)
        var lo = SIMD8<Double>(repeating: -inf)
        for lane in 0..<7 {
            let t = policy.balanceThreshold(metric: lane)
            if Metric.isResource(lane) {
                hi[lane] = mean[lane] * t
                lo[lane] = mean[lane] * (2 - t)
            } else {
                hi[lane] = max((mean[lane] * t).rounded(.down), mean[lane].rounded(.up))
                lo[lane] = min((mean[lane] * (2 - t)).rounded(.up), mean[lane].rounded(.down))
            }
        }
        meanU = mean
        hiU = hi
        loU = lo
        hiAbs = norms.map { $0 * hi }
        loAbs = norms.map { $0 * lo }

        // Topic replica distribution limits.
        var perTopic = [Int](repeating: 0, count: m.topicCount)
        for p in 0..<m.partitionCount { perTopic[Int(m.partitionTopic[p])] += m.replicationFactor(p) }
        let t = policy.balance.topicReplica
        let gapLo = Double(policy.balance.topicReplicaMinGap)
        let gapHi = Double(max(policy.balance.topicReplicaMaxGap, policy.balance.topicReplicaMinGap))
        func gap(_ mean: Double) -> Double { min(max(mean * (t - 1), gapLo), gapHi) }
        topicHi = perTopic.map { n in
            let mean = Double(n) / Double(eligibleCount)
            return Int32(max((mean + gap(mean)).rounded(.down), mean.rounded(.up)))
        }
        topicLo = perTopic.map { n in
            let mean = Double(n) / Double(eligibleCount)
            return Int32(max(0, min((mean - gap(mean)).rounded(.up), mean.rounded(.down))))
        }
    }

    /// The model's placement as it is.
    var currentAssignment: Assignment { Assignment(replicas: model.replicas, leader: model.leader) }

    func caps(_ p: Int) -> PartitionCaps { capsTable[Int(capsIndex[p])] }

    func topicPartitions(_ t: Int) -> ArraySlice<Int32> {
        topicPartitionList[Int(topicPartitionStart[t])..<Int(topicPartitionStart[t + 1])]
    }

    /// The metric vector of one replica of `p`: leader or follower.
    @inline(__always)
    func replicaValue(_ p: Int, leader: Bool) -> SIMD8<Double> {
        let d = diskLoad[p]
        let nin = networkInLoad[p]
        let cpu = cpuLoad[p]
        if leader { return SIMD8(1, d, nin, networkOutLoad[p], cpu, 1, nin, 0) }
        return SIMD8(1, d, nin, 0, cpu * followerCpuRatio, 0, 0, 0)
    }

    /// What moves from the old leader to the new one when leadership changes hands.
    @inline(__always)
    func leaderTransfer(_ p: Int) -> SIMD8<Double> {
        SIMD8(0, 0, 0, networkOutLoad[p], cpuLoad[p] * (1 - followerCpuRatio), 1, networkInLoad[p], 0)
    }
}
