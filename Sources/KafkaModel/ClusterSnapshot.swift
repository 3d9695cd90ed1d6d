/// What the live cluster looks like at one moment: the input of every safety decision.
///
/// Filled by `KafkaAdmin.snapshot()` (Metadata and DescribeConfigs through librdkafka, racks,
/// controller and quorum over `KafkaWire`); built by hand in tests of the roller's gate. Every decider reads
/// this one type.
public struct ClusterSnapshot: Sendable, Hashable, Codable {
    public var clusterId: String?
    /// The active controller as Metadata/DescribeCluster report it; -1 when unknown.
    public var controllerId: Int32
    /// Brokers registered in metadata (a stopped broker is absent).
    public var brokers: [BrokerInfo]
    public var topics: [TopicInfo]
    /// The KRaft quorum; nil when it could not be read (or the cluster is not KRaft).
    public var quorum: QuorumInfo?

    public init(
        clusterId: String? = nil, controllerId: Int32 = -1, brokers: [BrokerInfo] = [],
        topics: [TopicInfo] = [], quorum: QuorumInfo? = nil
    ) {
        self.clusterId = clusterId
        self.controllerId = controllerId
        self.brokers = brokers
        self.topics = topics
        self.quorum = quorum
    }
}

public struct BrokerInfo: Sendable, Hashable, Codable {
    public var id: Int32
    public var host: String
    public var port: Int32
    public var rack: String?

    public init(id: Int32, host: String, port: Int32, rack: String? = nil) {
        self.id = id
        self.host = host
        self.port = port
        self.rack = rack
    }
}

public struct TopicInfo: Sendable, Hashable, Codable {
    public var name: String
    public var isInternal: Bool
    /// The effective `min.insync.replicas` of the topic (topic override, else broker default).
    public var minInSyncReplicas: Int
    public var partitions: [PartitionInfo]

    public init(name: String, isInternal: Bool = false, minInSyncReplicas: Int, partitions: [PartitionInfo]) {
        self.name = name
        self.isInternal = isInternal
        self.minInSyncReplicas = minInSyncReplicas
        self.partitions = partitions
    }
}

public struct PartitionInfo: Sendable, Hashable, Codable {
    public var topic: String
    public var partition: Int32
    /// -1 when the partition has no leader (offline).
    public var leader: Int32
    public var leaderEpoch: Int32
    /// `isr.count`, kept inline: a scan of every partition (the executor's gate, at every poll) then reads no ISR
    /// array (one cache miss per partition in a 100k-partition snapshot).
    public private(set) var isrCount: Int32
    /// In assignment order; `replicas[0]` is the preferred leader.
    public var replicas: [Int32]
    public var isr: [Int32] { didSet { isrCount = Int32(truncatingIfNeeded: isr.count) } }
    public var offlineReplicas: [Int32]

    public init(
        topic: String, partition: Int32, leader: Int32, leaderEpoch: Int32 = 0, replicas: [Int32],
        isr: [Int32], offlineReplicas: [Int32] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.leader = leader
        self.leaderEpoch = leaderEpoch
        self.isrCount = Int32(truncatingIfNeeded: isr.count)
        self.replicas = replicas
        self.isr = isr
        self.offlineReplicas = offlineReplicas
    }

    // Encoded without `isrCount` (derived), as before it existed.
    enum CodingKeys: String, CodingKey {
        case topic, partition, leader, leaderEpoch, replicas, isr, offlineReplicas
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            topic: try c.decode(String.self, forKey: .topic), partition: try c.decode(Int32.self, forKey: .partition),
            leader: try c.decode(Int32.self, forKey: .leader),
            leaderEpoch: try c.decode(Int32.self, forKey: .leaderEpoch),
            replicas: try c.decode([Int32].self, forKey: .replicas), isr: try c.decode([Int32].self, forKey: .isr),
            offlineReplicas: try c.decode([Int32].self, forKey: .offlineReplicas))
    }

    public var isOffline: Bool { leader < 0 }
    public var preferredLeader: Int32? { replicas.first }
}

public struct QuorumInfo: Sendable, Hashable, Codable {
    public var leaderId: Int32
    public var leaderEpoch: Int32
    public var highWatermark: Int64
    public var voters: [QuorumReplica]
    public var observers: [QuorumReplica]

    public init(
        leaderId: Int32, leaderEpoch: Int32 = 0, highWatermark: Int64 = 0, voters: [QuorumReplica],
        observers: [QuorumReplica] = []
    ) {
        self.leaderId = leaderId
        self.leaderEpoch = leaderEpoch
        self.highWatermark = highWatermark
        self.voters = voters
        self.observers = observers
    }
}

public struct QuorumReplica: Sendable, Hashable, Codable {
    public var replicaId: Int32
    public var logEndOffset: Int64
    /// Milliseconds since the epoch; -1 when unknown.
    public var lastCaughtUpTimestamp: Int64

    public init(replicaId: Int32, logEndOffset: Int64, lastCaughtUpTimestamp: Int64 = -1) {
        self.replicaId = replicaId
        self.logEndOffset = logEndOffset
        self.lastCaughtUpTimestamp = lastCaughtUpTimestamp
    }
}

extension ClusterSnapshot {
    /// Partitions with no leader.
    public var offlinePartitions: [PartitionInfo] { allPartitions.filter(\.isOffline) }
    /// Partitions whose ISR is smaller than their replica set.
    public var underReplicatedPartitions: [PartitionInfo] {
        allPartitions.filter { $0.isr.count < $0.replicas.count }
    }
    /// Partitions whose ISR is below the topic's min ISR: acks=all produce fails on them.
    public var underMinIsrPartitions: [PartitionInfo] {
        topics.flatMap { t in t.partitions.filter { !$0.isOffline && $0.isr.count < t.minInSyncReplicas } }
    }
    /// Partitions exactly at min ISR: one more lost replica and acks=all produce fails.
    public var atMinIsrPartitions: [PartitionInfo] {
        topics.flatMap { t in t.partitions.filter { !$0.isOffline && $0.isr.count == t.minInSyncReplicas } }
    }
    public var allPartitions: [PartitionInfo] { topics.flatMap(\.partitions) }
}

/// A topic partition: the one name for it in every module.
public struct TopicPartition: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public init(topic: String, partition: Int32) {
        self.init(topic, partition)
    }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }

    public var description: String { "\(topic)-\(partition)" }
}

extension PartitionInfo {
    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
}
