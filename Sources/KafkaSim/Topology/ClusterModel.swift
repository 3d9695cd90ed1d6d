/// The cluster model file of DESIGN.md. Units: disk MiB, network KiB/s, CPU percent of one broker.
public struct ClusterModel: Codable, Sendable {
    public struct Capacity: Codable, Sendable {
        public var disk: Double?
        public var networkIn: Double?
        public var networkOut: Double?
        public var cpu: Double?
    }
    public struct Broker: Codable, Sendable {
        public var id: Int32
        public var rack: String?
        public var cluster: String?
        public var state: String?
        public var capacity: Capacity?
        /// Static configs of this node (an extension of the format).
        public var configs: [String: String]?
    }
    public struct Load: Codable, Sendable {
        public var disk: Double?
        public var networkIn: Double?
        public var networkOut: Double?
        public var cpu: Double?
    }
    public struct Partition: Codable, Sendable {
        public var id: Int32
        public var replicas: [Int32]
        public var leader: Int32?
        public var load: Load?
    }
    public struct Topic: Codable, Sendable {
        public var name: String
        public var minInSyncReplicas: Int?
        public var partitions: [Partition]
    }
    public var brokers: [Broker]
    public var topics: [Topic]

    static let states: Set<String> = ["alive", "dead", "new", "removing"]

    public func validate() throws(SimTopologyError) {
        guard !brokers.isEmpty else { throw SimTopologyError("the model has no brokers") }
        var ids = Set<Int32>()
        for b in brokers {
            guard b.id >= 0 else { throw SimTopologyError("broker id \(b.id) is negative") }
            guard ids.insert(b.id).inserted else { throw SimTopologyError("broker id \(b.id) appears twice") }
            if let s = b.state, !Self.states.contains(s) {
                throw SimTopologyError("broker \(b.id) has state \"\(s)\"; expected alive, dead, new or removing")
            }
        }
        var names = Set<String>()
        for t in topics {
            do { try SimCluster.validateTopicName(t.name) } catch {
                throw SimTopologyError("topic name \"\(t.name)\" is illegal")
            }
            guard names.insert(t.name).inserted else { throw SimTopologyError("topic \(t.name) appears twice") }
            guard !t.partitions.isEmpty else { throw SimTopologyError("topic \(t.name) has no partitions") }
            if let m = t.minInSyncReplicas, m < 1 {
                throw SimTopologyError("topic \(t.name) has minInSyncReplicas \(m); it must be at least 1")
            }
            let sorted = t.partitions.map(\.id).sorted()
            guard sorted == Array(0..<Int32(sorted.count)) else {
                throw SimTopologyError(
                    "topic \(t.name) partition ids must be 0..<\(sorted.count) with none missing or repeated")
            }
            for p in t.partitions {
                guard !p.replicas.isEmpty else { throw SimTopologyError("\(t.name)-\(p.id) has no replicas") }
                guard Set(p.replicas).count == p.replicas.count else {
                    throw SimTopologyError("\(t.name)-\(p.id) lists a replica twice")
                }
                for r in p.replicas where !ids.contains(r) {
                    throw SimTopologyError(
                        "\(t.name)-\(p.id) has a replica on broker \(r), which the model does not define")
                }
                if let l = p.leader, l >= 0, !p.replicas.contains(l) {
                    throw SimTopologyError("\(t.name)-\(p.id) has leader \(l), which is not one of its replicas")
                }
            }
        }
    }

    func populate(_ cluster: inout SimCluster, controllers: Int, staticConfigs: [String: String]) throws(SimFailure) {
        let sortedBrokers = brokers.sorted { $0.id < $1.id }
        let combined = controllers == 0 ? Set(sortedBrokers.filter { $0.state != "dead" }.prefix(3).map(\.id)) : []
        for b in sortedBrokers {
            var roles: NodeRoles = .broker
            if combined.contains(b.id) { roles.insert(.controller) }
            var configs = staticConfigs
            for (k, v) in b.configs ?? [:] { configs[k] = v }
            try cluster.addNode(
                id: b.id, rack: b.rack, cluster: b.cluster ?? "k8s-1", roles: roles, staticConfigs: configs,
                state: b.state == "dead" ? .stopped : .running)
            cluster.setDiskCapacity(b.capacity?.disk.map { Int64($0 * 1_048_576) }, of: b.id)
            cluster.setDiskCapacity(b.capacity?.disk.map { Int64($0 * 1_048_576) }, of: b.id)
        }
        let maxId = sortedBrokers.last!.id
        for k in 0..<controllers {
            let rack = sortedBrokers[k % sortedBrokers.count].rack
            try cluster.addNode(
                id: max(1000, maxId) + Int32(k + 1), rack: rack,
                cluster: sortedBrokers[k % sortedBrokers.count].cluster ?? "k8s-1",
                roles: .controller, staticConfigs: staticConfigs)
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
