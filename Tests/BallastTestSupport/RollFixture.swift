public import KafkaModel
public import Roller

/// Crafted clusters for the gate and planner tests.
public enum Fixture {
    /// `brokers` brokers over `racks` racks (broker i in rack (i-1) % racks), one topic whose partitions place
    /// replicas on consecutive brokers: with brokers = 3·k and RF 3 every partition spans the three racks.
    public static func cluster(
        brokers: Int = 9, racks: Int = 3, partitions: Int = 18, rf: Int = 3, minIsr: Int = 2,
        rackAware: Bool = true
    ) -> (ClusterSnapshot, [NodeInfo]) {
        let ids = (1...brokers).map { Int32($0) }
        let rack = { (id: Int32) in "r\((Int(id) - 1) % racks)" }
        var parts: [PartitionInfo] = []
        var seed: UInt64 = 42
        for p in 0..<partitions {
            var replicas: [Int32] = []
            if rackAware {
                // Consecutive brokers: with brokers = 3·k and 3 racks, every partition spans the racks.
                for k in 0..<rf { replicas.append(ids[(p + k) % brokers]) }
            } else {
                // Seeded random distinct brokers, blind to racks.
                while replicas.count < rf {
                    seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let id = ids[Int(seed >> 33) % brokers]
                    if !replicas.contains(id) { replicas.append(id) }
                }
            }
            parts.append(
                PartitionInfo(
                    topic: "orders", partition: Int32(p), leader: replicas[0], replicas: replicas, isr: replicas))
        }
        let snapshot = ClusterSnapshot(
            clusterId: "c", controllerId: 1,
            brokers: ids.map { BrokerInfo(id: $0, host: "127.0.0.1", port: 9000 + $0, rack: rack($0)) },
            topics: [TopicInfo(name: "orders", minInSyncReplicas: minIsr, partitions: parts)])
        let nodes = ids.map { NodeInfo(id: $0, roles: [.broker], zone: rack($0)) }
        return (snapshot, nodes)
    }

    public static func planner(
        _ s: ClusterSnapshot, _ n: [NodeInfo], _ o: RollOptions = RollOptions(), now: Int64 = 1_000_000
    )
        -> BatchPlanner
    {
        BatchPlanner(snapshot: s, nodes: n, options: o, nowMillis: now)
    }
}

extension ClusterSnapshot {
    public mutating func editPartitions(_ body: (inout PartitionInfo) -> Void) {
        for t in topics.indices {
            for p in topics[t].partitions.indices { body(&topics[t].partitions[p]) }
        }
    }
}
