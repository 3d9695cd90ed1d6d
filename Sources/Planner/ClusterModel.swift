public import KafkaModel

/// The four measured resources. Units as in the model file: disk MiB, network KiB/s, CPU in percent of a broker.
public enum Resource: Int, Sendable, CaseIterable {
    case disk, networkIn, networkOut, cpu

    public var name: String {
        switch self {
        case .disk: "disk"
        case .networkIn: "networkIn"
        case .networkOut: "networkOut"
        case .cpu: "cpu"
        }
    }
}

/// A cluster as compact arrays (struct of arrays, Int32 indices), so a million replicas take tens of MiB.
///
/// Brokers, topics and partitions are addressed by their index in these arrays; `brokerIds` maps a
/// broker index back to the Kafka broker id. A partition's replicas are
/// `replicas[replicaStart[p] ..< replicaStart[p + 1]]`, in assignment order (the first is the preferred leader).
public struct ClusterModel: Sendable, Hashable {
    // Brokers.
    public var brokerIds: [Int]
    public var brokerRack: [Int32]
    public var brokerCluster: [Int32]
    public var brokerState: [BrokerState]
    /// `capacity[resource.rawValue][broker]`.
    public var capacity: [[Double]]
    /// False for a resource no broker declared a capacity for: its capacity goal is then void.
    public var hasCapacity: [Bool]
    public var rackNames: [String]
    public var clusterNames: [String]

    // Topics.
    public var topicNames: [String]
    public var topicMinIsr: [Int32]

    // Partitions.
    public var partitionTopic: [Int32]
    public var partitionId: [Int32]
    public var replicaStart: [Int32]
    /// Broker indices.
    public var replicas: [Int32]
    /// Broker index of the current leader, -1 when the partition is offline.
    public var leader: [Int32]
    /// `load[resource.rawValue][partition]`: the leader's load; see `PlannerPolicy.followerCpuRatio`.
    public var load: [[Double]]

    public init() {
        brokerIds = []
        brokerRack = []
        brokerCluster = []
        brokerState = []
        capacity = Array(repeating: [], count: Resource.allCases.count)
        hasCapacity = Array(repeating: true, count: Resource.allCases.count)
        rackNames = []
        clusterNames = []
        topicNames = []
        topicMinIsr = []
        partitionTopic = []
        partitionId = []
        replicaStart = [0]
        replicas = []
        leader = []
        load = Array(repeating: [], count: Resource.allCases.count)
    }

    public var brokerCount: Int { brokerIds.count }
    public var partitionCount: Int { partitionTopic.count }
    public var topicCount: Int { topicNames.count }
    public var replicaCount: Int { replicas.count }

    public func replicaRange(_ p: Int) -> Range<Int> { Int(replicaStart[p])..<Int(replicaStart[p + 1]) }
    public func replicationFactor(_ p: Int) -> Int { Int(replicaStart[p + 1] - replicaStart[p]) }
    public func brokerIndex(id: Int) -> Int? { brokerIds.firstIndex(of: id) }

    /// Appends a broker; rack and cluster names are interned.
    public mutating func addBroker(
        id: Int, rack: String, cluster: String, state: BrokerState, capacity caps: [Double]
    ) {
        brokerIds.append(id)
        brokerRack.append(Int32(Self.intern(rack, in: &rackNames)))
        brokerCluster.append(Int32(Self.intern(cluster, in: &clusterNames)))
        brokerState.append(state)
        for r in Resource.allCases { capacity[r.rawValue].append(caps[r.rawValue]) }
    }

    /// Appends a topic and returns its index.
    @discardableResult
    public mutating func addTopic(name: String, minIsr: Int) -> Int {
        topicNames.append(name)
        topicMinIsr.append(Int32(minIsr))
        return topicNames.count - 1
    }

    /// Appends a partition of topic index `topic`; `replicas` and `leader` are broker indices.
    public mutating func addPartition(topic: Int, id: Int, replicas reps: [Int], leader lead: Int, load l: [Double]) {
        partitionTopic.append(Int32(topic))
        partitionId.append(Int32(id))
        for b in reps { replicas.append(Int32(b)) }
        replicaStart.append(Int32(replicas.count))
        leader.append(Int32(lead))
        for r in Resource.allCases { load[r.rawValue].append(l[r.rawValue]) }
    }

    private static func intern(_ name: String, in names: inout [String]) -> Int {
        if let i = names.firstIndex(of: name) { return i }
        names.append(name)
        return names.count - 1
    }
}
