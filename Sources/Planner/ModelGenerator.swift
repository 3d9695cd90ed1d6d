import Foundation
import KafkaModel

/// Skewed clusters for benchmarks and property tests: hot brokers, heavy-tailed partition sizes, racks spread
/// over several Kubernetes clusters, some rack-violating partitions, dead and new brokers.
public struct SkewedModelSpec: Sendable {
    public var brokers: Int
    public var replicas: Int
    public var clusters = 3
    public var racksPerCluster = 3
    public var deadBrokers: Int
    public var newBrokers: Int
    /// Share of alive brokers that attract `hotWeight` times the replicas of the others.
    public var hotFraction = 0.1
    public var hotWeight = 2.5
    /// Share of partitions created with two replicas in one rack.
    public var rackViolations = 0.02
    /// Share of partitions led by a replica other than the first.
    public var nonPreferredLeaders = 0.05
    public var seed: UInt64 = 1

    public init(brokers: Int, replicas: Int, seed: UInt64 = 1) {
        self.brokers = brokers
        self.replicas = replicas
        self.seed = seed
        deadBrokers = max(1, brokers / 100)
        newBrokers = max(2, brokers * 3 / 100)
    }
}

extension ClusterModel {
    /// Generates a skewed model (see `SkewedModelSpec`); the same spec gives the same model.
    public static func skewed(_ spec: SkewedModelSpec) -> ClusterModel {
        var rng = SplitMix64(seed: spec.seed)
        var m = ClusterModel()
        let B = spec.brokers
        let racks = spec.clusters * spec.racksPerCluster
        var weight = [Double](repeating: 1, count: B)
        // Brokers: dead ones first, then new, spread round-robin over racks.
        for b in 0..<B {
            let r = b % racks
            let state: BrokerState =
                b < spec.deadBrokers ? .dead : b < spec.deadBrokers + spec.newBrokers ? .new : .alive
            if state == .new { weight[b] = 0 }
            m.addBroker(
                id: b + 1, rack: "k8s-\(r % spec.clusters)-zone-\(r / spec.clusters)",
                cluster: "k8s-\(r % spec.clusters)", state: state, capacity: [1, 1, 1, 100])
        }
        let alive = (0..<B).filter { m.brokerState[$0] == .alive }
        for b in alive.shuffled(using: &rng).prefix(Int(Double(alive.count) * spec.hotFraction)) {
            weight[b] = spec.hotWeight
        }
        var byCluster: [[Int]] = Array(repeating: [], count: spec.clusters)
        for b in 0..<B where weight[b] > 0 { byCluster[Int(m.brokerCluster[b])].append(b) }
        let prefix: [[Double]] = byCluster.map { list in
            var acc = 0.0
            return list.map {
                acc += weight[$0]; return acc
            }
        }
        func pick(_ c: Int, _ rng: inout SplitMix64) -> Int {
            let p = prefix[c]
            let u = rng.unit() * p.last!
            var lo = 0
            var hi = p.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if p[mid] < u { lo = mid + 1 } else { hi = mid }
            }
            return byCluster[c][lo]
        }
        let replicasPerBroker = Double(spec.replicas) / Double(max(1, B - spec.newBrokers))
        let maxSize = min(1000, max(20, replicasPerBroker * 6 * 0.03))
        var made = 0
        var topic = 0
        while made < spec.replicas {
            let kind = rng.unit()
            let (rf, minIsr) = kind < 0.85 ? (3, 2) : kind < 0.95 ? (2, 1) : (4, 2)
            let t = m.addTopic(name: "topic-\(topic)", minIsr: minIsr)
            topic += 1
            let parts = min(max(1, (spec.replicas - made) / rf), Int(4 / pow13(1 - rng.unit())))
            let topicHeat = 0.2 + 2 * rng.unit()
            for part in 0..<parts {
                var reps: [Int] = []
                let order = Array(0..<spec.clusters).shuffled(using: &rng)
                var k = 0
                while reps.count < rf {
                    let c = order[k % spec.clusters]
                    k += 1
                    for _ in 0..<20 {
                        let b = pick(c, &rng)
                        if reps.contains(b) { continue }
                        if k > spec.clusters && reps.contains(where: { m.brokerRack[$0] == m.brokerRack[b] }) {
                            continue
                        }
                        reps.append(b)
                        break
                    }
                    if k > 10 * rf { break }
                }
                if reps.count < rf { continue }
                if rng.unit() < spec.rackViolations {
                    // A second replica in the first one's rack.
                    let sameRack = (0..<B).filter {
                        weight[$0] > 0 && m.brokerRack[$0] == m.brokerRack[reps[0]] && !reps.contains($0)
                    }
                    if let b = sameRack.randomElement(using: &rng) { reps[1] = b }
                }
                let size = min(maxSize, 1 / pow13(1 - rng.unit())) * topicHeat
                let nin = size * (0.02 + 0.05 * rng.unit())
                let nout = nin * (1 + 2 * rng.unit())
                let cpu = (nin + nout) * 0.001
                let leader = rng.unit() < spec.nonPreferredLeaders ? reps[1] : reps[0]
                m.addPartition(topic: t, id: part, replicas: reps, leader: leader, load: [size, nin, nout, cpu])
                made += rf
            }
        }
        // Capacities: disk half full, network 40%, CPU 30% on average over the brokers that will hold data.
        let eligible = Double(B - spec.deadBrokers)
        var totals = [Double](repeating: 0, count: 4)
        for p in 0..<m.partitionCount {
            let rf = Double(m.replicationFactor(p))
            totals[0] += m.load[0][p] * rf
            totals[1] += m.load[1][p] * rf
            totals[2] += m.load[2][p]
            totals[3] += m.load[3][p] * (1 + 0.5 * (rf - 1))
        }
        let caps = [totals[0] / eligible / 0.5, totals[1] / eligible / 0.4, totals[2] / eligible / 0.4]
        for b in 0..<B {
            for r in 0..<3 { m.capacity[r][b] = caps[r] }
        }
        let cpuScale = 30 * eligible / max(totals[3], 1e-9)
        for p in 0..<m.partitionCount { m.load[3][p] *= cpuScale }
        return m
    }
}

/// x^(1/1.3): the inverse CDF of a Pareto distribution of shape 1.3, for heavy-tailed sizes.
private func pow13(_ x: Double) -> Double { pow(max(x, 1e-12), 1 / 1.3) }
