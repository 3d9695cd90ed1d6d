public import KafkaAdmin
public import KafkaModel
public import Planner

extension ClusterModel {
    /// A model of a live cluster: brokers in metadata are alive, brokers named only in replica lists are dead;
    /// disk load is the largest replica size DescribeLogDirs reports for the partition and disk capacity the
    /// broker's log dirs' total (when every broker reports one; Kafka 3.3+). Network and CPU are unknown, so
    /// their goals see no load. `rackCluster` maps a rack to its Kubernetes cluster (default: one cluster).
    public init(snapshot: ClusterSnapshot, logDirs: [BrokerLogDirs], rackCluster: [String: String]) {
        self.init()
        var size: [String: [Int32: Double]] = [:]
        var total: [Int32: Double] = [:]
        for broker in logDirs {
            for dir in broker.logDirs where dir.errorName == nil {
                if dir.totalBytes > 0 { total[broker.brokerId, default: 0] += Double(dir.totalBytes) / 1_048_576 }
                for r in dir.replicas where !r.isFuture {
                    let mib = Double(r.sizeBytes) / 1_048_576
                    size[r.topic, default: [:]][r.partition] = max(size[r.topic]?[r.partition] ?? 0, mib)
                }
            }
        }
        var ids = snapshot.brokers.map(\.id)
        let alive = Set(ids)
        for t in snapshot.topics {
            for p in t.partitions { for r in p.replicas where !ids.contains(r) { ids.append(r) } }
        }
        let racks = Dictionary(snapshot.brokers.map { ($0.id, $0.rack) }, uniquingKeysWith: { a, _ in a })
        let allReport = alive.allSatisfy { total[$0] != nil }
        hasCapacity = [allReport, false, false, false]
        for id in ids {
            let rack = (racks[id] ?? nil) ?? "rack-of-\(id)"
            addBroker(
                id: Int(id), rack: rack, cluster: rackCluster[rack] ?? "", state: alive.contains(id) ? .alive : .dead,
                capacity: [allReport ? max(total[id] ?? 1, 1) : 1, 1, 1, 1])
        }
        var index: [Int32: Int] = [:]
        for (i, id) in ids.enumerated() { index[id] = i }
        for t in snapshot.topics where !t.isInternal || t.name == "__consumer_offsets" {
            let topic = addTopic(name: t.name, minIsr: t.minInSyncReplicas)
            for p in t.partitions where !p.replicas.isEmpty {
                let disk = size[t.name]?[p.partition] ?? 0
                addPartition(
                    topic: topic, id: Int(p.partition), replicas: p.replicas.map { index[$0]! },
                    leader: p.leader >= 0 ? index[p.leader] ?? -1 : -1, load: [disk, 0, 0, 0])
            }
        }
    }

    /// Reads a live cluster into a model: the snapshot (metadata and min ISR) and every broker's log dirs.
    public static func read(from admin: KafkaAdmin, rackCluster: [String: String]) async throws(KafkaAdminError)
        -> ClusterModel
    {
        let snapshot = try await admin.snapshot()
        let dirs = try await admin.describeLogDirs()
        return ClusterModel(snapshot: snapshot, logDirs: dirs, rackCluster: rackCluster)
    }
}
