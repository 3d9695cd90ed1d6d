public import KafkaModel

/// The simulator's reading of the cluster model file: the common rules of `ClusterModelFile`, and its own.
extension ClusterModelFile {
    /// The common rules, then the simulator's: legal Kafka topic names, at least one partition per topic, and
    /// partition ids `0..<n` (the simulator creates topics the way Kafka does).
    public func validateForSimulator() throws(ModelFileError) {
        try validate()
        for (ti, t) in topics.enumerated() {
            do { try SimCluster.validateTopicName(t.name) } catch {
                throw ModelFileError(field: "topics[\(ti)].name", reason: "topic name \"\(t.name)\" is illegal")
            }
            guard !t.partitions.isEmpty else {
                throw ModelFileError(field: "topics[\(ti)].partitions", reason: "topic \(t.name) has no partitions")
            }
            let sorted = t.partitions.map(\.id).sorted()
            guard sorted == Array(0..<Int32(sorted.count)) else {
                throw ModelFileError(
                    field: "topics[\(ti)].partitions",
                    reason: "partition ids must be 0..<\(sorted.count) with none missing or repeated")
            }
        }
    }

    func populate(_ cluster: inout SimCluster, controllers: Int, staticConfigs: [String: String]) throws(SimFailure) {
        let sortedBrokers = brokers.sorted { $0.id < $1.id }
        let combined = controllers == 0 ? Set(sortedBrokers.filter { $0.state != .dead }.prefix(3).map(\.id)) : []
        for b in sortedBrokers {
            var roles: Set<NodeRole> = [.broker]
            if combined.contains(b.id) { roles.insert(.controller) }
            var configs = staticConfigs
            for (k, v) in b.configs ?? [:] { configs[k] = v }
            try cluster.addNode(
                id: b.id, rack: b.rack, cluster: b.cluster ?? "k8s-1", roles: roles, staticConfigs: configs,
                state: b.state == .dead ? .stopped : .running)
            cluster.setDiskCapacity(b.capacity?.disk.map { Int64($0 * 1_048_576) }, of: b.id)
        }
        let maxId = sortedBrokers.last!.id
        for k in 0..<controllers {
            let rack = sortedBrokers[k % sortedBrokers.count].rack
            try cluster.addNode(
                id: max(1000, maxId) + Int32(k + 1), rack: rack,
                cluster: sortedBrokers[k % sortedBrokers.count].cluster ?? "k8s-1",
                roles: [.controller], staticConfigs: staticConfigs)
        }
        for t in topics {
            let parts = t.partitions.sorted { $0.id < $1.id }
            var configs: [String: String] = [:]
            if let m = t.minInSyncReplicas { configs["min.insync.replicas"] = String(m) }
            try cluster.createTopic(
                name: t.name, partitions: parts.count, replicationFactor: parts[0].replicas.count, configs: configs,
                assignment: parts.map(\.replicas), leaders: parts.map(\.leader),
                baseBytes: parts.map { Int64(($0.load?.disk ?? 0) * 1_048_576) },
                loadBytesPerMs: parts.map { ($0.load?.networkIn ?? 0) * 1024 / 1000 })
        }
    }
}
