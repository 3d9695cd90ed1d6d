public import KafkaAdmin
public import KafkaModel
public import Rebalancer

/// What a rebalance execution needs from the cluster (`KafkaAdminRebalanceCluster` over KafkaAdmin; fakes in
/// tests). Reads throw when the cluster cannot answer; the runner retries them.
public protocol RebalanceCluster: Sendable {
    func snapshot() async throws -> ClusterSnapshot
    /// ListPartitionReassignments: every reassignment in flight.
    func reassignments() async throws -> [PartitionReassignment]
    /// The throttle keys of these resources as set at each one's own level, in the order of `resources`; a resource
    /// that could not be read is left out.
    func throttles(of resources: [ConfigResource]) async -> [ThrottleRead]
    /// Each partition's size (its largest replica) on the given brokers.
    func replicaSizes(brokers: [Int32]) async throws -> [TopicPartition: Int64]
    /// IncrementalAlterConfigs; returns the error of each resource that was not changed.
    func alterThrottles(_ changes: [ThrottleChange]) async -> [ConfigResource: String]
    /// AlterPartitionReassignments: targets, or nil to cancel. Returns Kafka's error per refused partition; throws
    /// when there was no answer (whether they were applied is then unknown).
    func alterReassignments(_ targets: [TopicPartition: [Int32]?]) async throws -> [TopicPartition: String]
    /// ElectLeaders PREFERRED; returns the error per partition not elected (ELECTION_NOT_NEEDED is success).
    func electPreferredLeaders(_ partitions: [TopicPartition]) async throws -> [TopicPartition: String]
}

/// A rebalance's view of a live cluster through `KafkaAdmin`.
public struct KafkaAdminRebalanceCluster: RebalanceCluster {
    public let admin: KafkaAdmin

    public init(admin: KafkaAdmin) { self.admin = admin }

    public func snapshot() async throws -> ClusterSnapshot { try await admin.snapshot() }

    public func reassignments() async throws -> [PartitionReassignment] {
        try await admin.listPartitionReassignments()
    }

    public func throttles(of resources: [ConfigResource]) async -> [ThrottleRead] {
        var read: [ConfigResource: ThrottleRead] = [:]
        func take(_ list: [ResourceConfigs]) {
            for rc in list {
                let own: ConfigSource = rc.resource.kind == .topic ? .dynamicTopic : .dynamicBroker
                var set: [String: String] = [:]
                for e in rc.entries where e.source == own {
                    if let v = e.value { set[e.name] = v }
                }
                read[rc.resource] = ThrottleRead(rc.resource, set)
            }
        }
        // Each broker answers for itself, so one broker that is down costs only its own resource.
        for broker in resources where broker.kind == .broker {
            if let list = try? await admin.describeConfigs([broker], names: ThrottleConfig.brokerKeys) { take(list) }
        }
        let topics = resources.filter { $0.kind == .topic }
        if !topics.isEmpty {
            if let list = try? await admin.describeConfigs(topics, names: ThrottleConfig.topicKeys) {
                take(list)
            } else {
                for t in topics {
                    if let list = try? await admin.describeConfigs([t], names: ThrottleConfig.topicKeys) { take(list) }
                }
            }
        }
        return resources.compactMap { read[$0] }
    }

    public func replicaSizes(brokers: [Int32]) async throws -> [TopicPartition: Int64] {
        var out: [TopicPartition: Int64] = [:]
        for broker in try await admin.describeLogDirs(brokers: brokers) {
            for dir in broker.logDirs where dir.errorName == nil {
                for r in dir.replicas where !r.isFuture {
                    let tp = TopicPartition(r.topic, r.partition)
                    out[tp] = max(out[tp] ?? 0, r.sizeBytes)
                }
            }
        }
        return out
    }

    public func alterThrottles(_ changes: [ThrottleChange]) async -> [ConfigResource: String] {
        var byResource: [ConfigResource: [ConfigAlteration]] = [:]
        for c in changes {
            byResource[c.key.resource, default: []].append(
                c.value.map { ConfigAlteration(name: c.key.key, operation: .set, value: $0) }
                    ?? ConfigAlteration(name: c.key.key, operation: .delete, value: nil))
        }
        var failures: [ConfigResource: String] = [:]
        // One request per resource, so that one refusal names its resource and does not hold back the others.
        for (resource, alterations) in byResource.sorted(by: { ThrottleKey($0.key, "") < ThrottleKey($1.key, "") }) {
            do {
                try await admin.incrementalAlterConfigs([resource: alterations])
            } catch {
                failures[resource] = error.message
            }
        }
        return failures
    }

    public func alterReassignments(_ targets: [TopicPartition: [Int32]?]) async throws -> [TopicPartition: String] {
        try await admin.alterPartitionReassignmentResults(targets).mapValues(\.message)
    }

    public func electPreferredLeaders(_ partitions: [TopicPartition]) async throws -> [TopicPartition: String] {
        var out: [TopicPartition: String] = [:]
        for r in try await admin.electLeaders(.preferred, partitions: partitions) where !r.succeeded {
            out[r.topicPartition] = "\(r.errorName ?? "")\(r.errorMessage.map { ": \($0)" } ?? "")"
        }
        return out
    }
}
