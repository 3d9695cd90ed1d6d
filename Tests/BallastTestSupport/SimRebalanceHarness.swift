public import KafkaModel
public import KafkaSim

/// What the rebalance tests share: a simulated cluster whose data sits where a rebalance must move it.
public enum SimRebalanceHarness {
    /// Brokers 1…`brokers` in racks a/b/c (broker n in rack (n-1) % 3), three topics of `partitions` partitions,
    /// RF 3, min ISR 2, placed rack-aware on the brokers in `on` only (the others are empty). Partition sizes are
    /// `mib`, 2 × `mib` and 3 × `mib` in turn, so that moves started together end at different times.
    public static func model(brokers: Int = 6, on: [Int32] = [1, 2, 3], partitions: Int = 4, mib: Double = 1)
        -> ClusterModelFile
    {
        let racks = ["rack-a", "rack-b", "rack-c"]
        let list = (1...brokers).map { id in
            ClusterModelFile.Broker(
                id: Int32(id), rack: racks[(id - 1) % 3], cluster: "k8s-\((id - 1) % 3 + 1)", state: .alive,
                capacity: .init(disk: 100_000))
        }
        // Rack-aware triples from `on`: one broker of each rack, rotating the leader.
        let byRack = Dictionary(grouping: on, by: { racks[Int($0 - 1) % 3] })
        var triples: [[Int32]] = []
        let lanes = max(1, byRack.values.map(\.count).min() ?? 1)
        for lane in 0..<lanes {
            let t = racks.compactMap { byRack[$0].map { $0[lane % $0.count] } }
            for r in 0..<t.count { triples.append(Array(t[r...] + t[..<r])) }
        }
        let topics = (0..<3).map { t in
            ClusterModelFile.Topic(
                name: "topic-\(t)", minInSyncReplicas: 2,
                partitions: (0..<partitions).map { p in
                    let replicas = triples[(t * partitions + p) % triples.count]
                    let size = mib * Double(1 + (t * partitions + p) % 3)
                    return ClusterModelFile.Partition(
                        id: Int32(p), replicas: replicas, leader: replicas[0], load: .init(disk: size))
                })
        }
        return ClusterModelFile(brokers: list, topics: topics)
    }

    /// The model's cluster, served on loopback; start-up 1 s and shutdown 1 s of cluster time.
    public static func start(_ model: ClusterModelFile, timeScale: Double) async throws -> EmbeddedSimulator {
        var topology = SimTopology()
        topology.model = model
        var settings = SimSettings()
        settings.startupDelayMs = 1000
        settings.shutdownDurationMs = 1000
        return try await EmbeddedSimulator.start(try topology.build(settings: settings), timeScale: timeScale)
    }

    /// Every throttle config left in the simulated cluster (at a broker's own level or a topic's): what a clean
    /// execution leaves behind is what was there before it.
    public static func throttleConfigs(_ sim: EmbeddedSimulator) -> [String: String] {
        sim.simulator.withCluster { c in
            var out: [String: String] = [:]
            let keys = [
                "leader.replication.throttled.rate", "follower.replication.throttled.rate",
                "leader.replication.throttled.replicas", "follower.replication.throttled.replicas",
            ]
            for n in c.nodes {
                for k in keys { if let v = n.dynamicConfigs[k] { out["broker \(n.id) \(k)"] = v } }
            }
            for k in keys { if let v = c.clusterDefaultConfigs[k] { out["default \(k)"] = v } }
            for t in c.liveTopics {
                for k in keys { if let v = t.configs[k] { out["topic \(t.name) \(k)"] = v } }
            }
            return out
        }
    }

    /// Each partition's replicas and leader, by name.
    public static func placement(_ sim: EmbeddedSimulator) -> [TopicPartition: (replicas: [Int32], leader: Int32)] {
        sim.simulator.withCluster { c in
            var out: [TopicPartition: (replicas: [Int32], leader: Int32)] = [:]
            for t in c.liveTopics {
                for p in t.partitions {
                    let part = c.partitions[Int(p)]
                    out[TopicPartition(t.name, part.id)] = (part.replicas, part.leader)
                }
            }
            return out
        }
    }
}
