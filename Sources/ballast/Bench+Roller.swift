import ArgumentParser
import Foundation
import KafkaAdmin
import KafkaModel
import Roller

/// `ballast bench roller`: the gate and batch computation over a large synthetic snapshot.
struct RollerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roller",
        abstract:
            "Times the roll gate and batch planning over a synthetic rack-aware snapshot (target: 1M replicas ≤ 100 ms)."
    )

    @Option(help: "Replicas in the snapshot.") var replicas: Int = 1_000_000
    @Option(help: "Brokers (spread over 3 zones).") var brokers: Int = 60
    @Option(help: "Timed repetitions; the median is reported.") var iterations: Int = 5

    func run() async throws {
        let snapshot = Self.syntheticSnapshot(replicas: replicas, brokers: brokers)
        let nodes = snapshot.brokers.map {
            NodeInfo(id: $0.id, roles: $0.id <= 3 ? [.broker, .controller] : [.broker], zone: $0.rack)
        }
        let all = Set(nodes.map(\.id))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var gate: [Double] = []
        var index: [Double] = []
        var fullPlan: [Double] = []
        var explained: [Double] = []
        var batchSize = 0
        var batches = 0
        let clock = ContinuousClock()
        for _ in 0..<max(1, iterations) {
            let t0 = clock.now
            var planner = BatchPlanner(snapshot: snapshot, nodes: nodes, options: RollOptions(), nowMillis: now)
            let t1 = clock.now
            let decision = planner.nextBatch(remaining: all, explain: false)
            let t2 = clock.now
            let plan = planner.plan(nodes: all)
            let t3 = clock.now
            _ = planner.nextBatch(remaining: all, explain: true)
            explained.append(ms(clock.now - t3))
            index.append(ms(t1 - t0))
            gate.append(ms(t2 - t0))
            fullPlan.append(ms(t3 - t2))
            batchSize = decision.batch.count
            batches = plan.batches.count
        }
        let partitions = snapshot.topics.reduce(0) { $0 + $1.partitions.count }
        print("snapshot: \(brokers) brokers, \(partitions) partitions, \(partitions * 3) replicas")
        print(String(format: "index build:            median %.1f ms", median(index)))
        print(
            String(format: "gate + next batch:      median %.1f ms (first batch: %ld nodes)", median(gate), batchSize))
        print(String(format: "next batch + reasons:   median %.1f ms (index already built)", median(explained)))
        print(String(format: "full dry-run plan:      median %.1f ms (%ld batches)", median(fullPlan), batches))
        print(median(gate) <= 100 ? "PASS: gate + batch ≤ 100 ms" : "FAIL: gate + batch > 100 ms")
    }

    func ms(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    /// RF 3, one replica per zone, leaders spread, every ISR full, a 3-voter quorum on brokers 1–3.
    static func syntheticSnapshot(replicas: Int, brokers: Int) -> ClusterSnapshot {
        let perZone = max(1, brokers / 3)
        let ids = (0..<(perZone * 3)).map { Int32($0 + 1) }
        let zoneOf = { (id: Int32) in "z\((Int(id) - 1) % 3)" }
        // Broker ids by zone: zone z holds ids z+1, z+4, ...
        let byZone = (0..<3).map { z in ids.filter { (Int($0) - 1) % 3 == z } }
        let partitionsTotal = replicas / 3
        let perTopic = 1000
        var topics: [TopicInfo] = []
        var p = 0
        while p < partitionsTotal {
            let name = "t\(topics.count)"
            var parts: [PartitionInfo] = []
            for i in 0..<min(perTopic, partitionsTotal - p) {
                let g = p + i
                let r = (0..<3).map { k in byZone[(g + k) % 3][(g / 3 + k * 7) % perZone] }
                parts.append(PartitionInfo(topic: name, partition: Int32(i), leader: r[0], replicas: r, isr: r))
            }
            p += parts.count
            topics.append(TopicInfo(name: name, minInSyncReplicas: 2, partitions: parts))
        }
        return ClusterSnapshot(
            clusterId: "bench", controllerId: 1,
            brokers: ids.map { BrokerInfo(id: $0, host: "127.0.0.1", port: 9000 + $0, rack: zoneOf($0)) },
            topics: topics,
            quorum: QuorumInfo(
                leaderId: 1, highWatermark: 100,
                voters: [1, 2, 3].map { QuorumReplica(replicaId: $0, logEndOffset: 100) }))
    }
}
