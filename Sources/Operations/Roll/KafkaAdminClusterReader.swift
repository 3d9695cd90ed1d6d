public import KafkaAdmin
public import KafkaModel
public import Rebalancer
public import Roller

/// The roller's view of a live cluster through `KafkaAdmin`: snapshots on the librdkafka read path, preferred
/// leader election over ElectLeaders.
public struct KafkaAdminClusterReader: ClusterReader {
    public let admin: KafkaAdmin

    public init(admin: KafkaAdmin) { self.admin = admin }

    public func snapshot() async throws -> ClusterSnapshot {
        try await admin.snapshot()
    }

    public func electPreferredLeaders(_ partitions: [TopicPartition]) async throws {
        let results = try await admin.electLeaders(
            .preferred, partitions: partitions)
        // Already led by the preferred replica is success; anything else is reported (the roll goes on).
        let failed = results.filter { !$0.succeeded }
        if !failed.isEmpty { throw ElectionError(failed: failed) }
    }

    /// DescribeLogDirs on every broker (replica sizes) and DescribeConfigs of the throttle keys: each broker's
    /// effective `leader.`/`follower.replication.throttled.rate` (its own value or the cluster default) and every
    /// topic's throttled replicas. Best effort: a broker that does not answer leaves its replicas out.
    public func replication(brokers: [Int32], at: Double) async -> ReplicationSample? {
        let admin = self.admin
        let dirs = await withTaskGroup(of: [BrokerLogDirs].self) { group in
            for id in brokers {
                group.addTask { (try? await admin.describeLogDirs(brokers: [id])) ?? [] }
            }
            var out: [BrokerLogDirs] = []
            for await list in group { out += list }
            return out
        }
        guard !dirs.isEmpty else { return nil }
        var sample = ReplicationSample(at: at, sizes: [:])
        var topics = Set<String>()
        for broker in dirs {
            for dir in broker.logDirs where dir.errorName == nil {
                for r in dir.replicas where !r.isFuture {
                    sample.sizes[ReplicaRef(TopicPartition(r.topic, r.partition), broker: broker.brokerId)] =
                        r.sizeBytes
                    topics.insert(r.topic)
                }
            }
        }
        let rateKeys = ThrottleConfig.brokerKeys
        // Each broker answers for itself: ask them all at once.
        let rates = await withTaskGroup(of: (Int32, [ConfigEntry]).self) { group in
            for id in brokers {
                group.addTask {
                    let list = try? await admin.describeConfigs(
                        [ConfigResource(kind: .broker, name: "\(id)")], names: rateKeys)
                    return (id, list?.flatMap(\.entries) ?? [])
                }
            }
            var out: [(Int32, [ConfigEntry])] = []
            for await answer in group { out.append(answer) }
            return out
        }
        for (id, entries) in rates {
            for e in entries {
                // The broker's own value is what the catch-up throttle remedy journals and puts back.
                if e.source == .dynamicBroker, let own = e.value {
                    if e.name == rateKeys[0] {
                        sample.ownLeaderRate[id] = own
                    } else {
                        sample.ownFollowerRate[id] = own
                    }
                }
                // Kafka's default, Long.MAX_VALUE, means no throttle.
                guard let v = e.value.flatMap(Double.init), v < 9.2e18 else { continue }
                if e.name == rateKeys[0] { sample.leaderRate[id] = v } else { sample.followerRate[id] = v }
            }
        }
        let listKeys = ThrottleConfig.topicKeys
        let resources = topics.sorted().map { ConfigResource(kind: .topic, name: $0) }
        if !resources.isEmpty, let list = try? await admin.describeConfigs(resources, names: listKeys) {
            for rc in list {
                for e in rc.entries {
                    guard let v = e.value, !v.isEmpty else { continue }
                    if e.name == listKeys[0] {
                        sample.leaderReplicas[rc.resource.name] = v
                    } else {
                        sample.followerReplicas[rc.resource.name] = v
                    }
                }
            }
        }
        return sample
    }
}

extension KafkaAdminClusterReader {
    /// The rebalance executor's throttle writer: one request per resource, so one refusal names its resource.
    public func alterThrottles(_ changes: [ThrottleChange]) async -> [ConfigResource: String] {
        await KafkaAdminRebalanceCluster(admin: admin).alterThrottles(changes)
    }
}

/// Preferred elections Kafka refused, with each partition's error.
public struct ElectionError: Error, Sendable, Hashable, CustomStringConvertible, CategorizedError {
    public var failed: [ElectionResult]

    public var description: String {
        let first = failed[0]
        return "\(failed.count) preferred election(s) failed, e.g. \(first.topicPartition): "
            + "\(first.errorName ?? "") \(first.errorMessage ?? "")"
    }

    public var category: ErrorCategory { .failed }
}
