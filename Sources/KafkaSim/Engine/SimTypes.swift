/// Value types of the simulated cluster's state. Times are cluster milliseconds since the simulation began.

public enum NodeState: String, Sendable, Codable {
    /// Registered and unfenced: serves requests, leads and follows.
    case running
    /// In controlled shutdown: leadership already moved off, ISR already shrunk, process still up.
    case stopping
    /// Process down (after a controlled shutdown or a crash).
    case stopped
    /// Process up, not yet registered with the controller (the start-up delay).
    case starting
}

public struct NodeRoles: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let broker = NodeRoles(rawValue: 1)
    public static let controller = NodeRoles(rawValue: 2)

    public var names: [String] {
        var out: [String] = []
        if contains(.broker) { out.append("broker") }
        if contains(.controller) { out.append("controller") }
        return out
    }
}

public struct SimNode: Sendable {
    public var id: Int32
    public var rack: String?
    /// The Kubernetes cluster the node runs in.
    public var cluster: String
    public var roles: NodeRoles
    public var state: NodeState
    /// The loopback port the I/O layer bound for this node (0 until bound).
    public var port: Int
    /// When the current state began.
    public var stateSince: Int64
    /// Fenced by the controller: not alive in metadata, its replicas are offline.
    public var fenced: Bool
    /// A crashed node that the controller has not noticed yet; fencing happens at this time.
    public var fenceAt: Int64?
    /// Static configs (server.properties); `node.id`, `broker.rack` and the like included.
    public var staticConfigs: [String: String]
    /// Dynamic per-broker overrides.
    public var dynamicConfigs: [String: String]
    /// Removed from the cluster: kept only so ids are not reused.
    public var removed: Bool
    /// KRaft metadata log end offset of this voter (controllers) — frozen while the node is down.
    public var metadataOffset: Int64
    public var lastFetchMs: Int64
    public var lastCaughtUpMs: Int64
    /// The quorum epoch in which this voter last fetched; a leader of a later epoch never saw it.
    public var lastSeenQuorumEpoch: Int32 = 0
    /// Disk capacity from the cluster model, bytes (nil: unknown).
    public var diskCapacityBytes: Int64?
    /// Injected fault: this many of the node's next starts fail. The process dies at the end of the start-up
    /// delay instead of registering (Kafka 4.1.0's ClearElrRecord replay crash on a combined node).
    public var failStarts: Int = 0
    /// Starts asked for since the simulation began (`start`), and how many of them died at start-up.
    public var starts: Int = 0
    public var failedStarts: Int = 0
    /// Kafka 4.1.0's ClearElrRecord crash (`SimCluster+ClearElrCrash.swift`): the node's latest metadata
    /// snapshot, whether a topic deletion and then an all-topics ClearElrRecord came after it, and a broker-only
    /// node that hit the crash and stays up without ever registering.
    public var lastSnapshotMs: Int64 = 0
    public var deletionSinceSnapshot = false
    public var clearElrCrashOnStart = false
    public var startHung = false

    public var isBroker: Bool { roles.contains(.broker) }
    public var isController: Bool { roles.contains(.controller) }
    /// Alive as the controller sees it: registered and not fenced (a crashed node stays alive until fenced).
    public var isAliveInMetadata: Bool { !removed && !fenced && (state != .starting) }
    /// The process runs and serves (can lead, follow, answer).
    public var isServing: Bool { !removed && (state == .running) }
    /// The process is up (serving or in controlled shutdown).
    public var processUp: Bool { !removed && (state == .running || state == .stopping || state == .starting) }
}

public struct SimTopic: Sendable {
    public var name: String
    public var id: [UInt8]
    /// Indexes into `SimCluster.partitions`, by partition id.
    public var partitions: [Int32]
    public var configs: [String: String]
    public var deleted: Bool
}

/// One partition, stored compactly: a few arrays per partition, no dictionaries.
public struct SimPartition: Sendable {
    public var topic: Int32
    public var id: Int32
    public var replicas: [Int32]
    public var isr: [Int32]
    /// -1 when offline.
    public var leader: Int32
    public var leaderEpoch: Int32
    public var partitionEpoch: Int32
    /// Bytes appended by Produce (the background load is added on top, see `SimCluster.size(of:)`).
    public var producedBytes: Int64
    /// Initial size at start, bytes.
    public var baseBytes: Int64
    /// Background write rate from the cluster model, bytes per millisecond.
    public var loadBytesPerMs: Double
    public var logEndOffset: Int64
}

/// A replica, for side tables: the partition's index in `SimCluster.partitions` and the broker id.
public struct ReplicaKey: Hashable, Sendable, Comparable {
    public var partition: Int32
    public var broker: Int32
    public init(partition: Int32, broker: Int32) {
        self.partition = partition
        self.broker = broker
    }
    public static func < (a: ReplicaKey, b: ReplicaKey) -> Bool {
        (a.partition, a.broker) < (b.partition, b.broker)
    }
}

public struct SimReassignment: Sendable, Equatable {
    public var originalReplicas: [Int32]
    public var targetReplicas: [Int32]
    public var adding: [Int32]
    public var removing: [Int32]
    public var startedMs: Int64
}

/// Knobs of the simulation that are not Kafka configs.
public struct SimSettings: Sendable {
    /// Time from `start` until the broker registers (Kafka: JVM start, log recovery, registration).
    public var startupDelayMs: Int64 = 6000
    /// Time from a controlled shutdown until the broker leaves Metadata and its process exits (real 4.1: 4.5 s).
    public var shutdownDurationMs: Int64 = 4500
    /// Unthrottled replication throughput into one follower broker, bytes per second.
    public var replicationBytesPerSecond: Int64 = 100 * 1024 * 1024
    /// KRaft metadata log growth when idle (NoOpRecord every `metadata.max.idle.interval.ms`, 500 ms).
    public var metadataNoOpIntervalMs: Int64 = 500
    public var seed: UInt64 = 1
    /// Model Kafka 4.1.0's start-up crash replaying an all-topics ClearElrRecord (4.1 catalogs only; see
    /// `SimCluster+ClearElrCrash.swift`).
    public var modelClearElrStartupCrash = true
    /// Record batches the simulator keeps per partition, bytes: its memory bound. Older batches are dropped and
    /// the log start offset moves, as Kafka's retention would move it (`SimCluster+Logs.swift`).
    public var maxStoredBytesPerPartition: Int64 = 4 * 1024 * 1024
    /// Time a broker takes to load the groups of a `__consumer_offsets` partition it became leader of; it answers
    /// COORDINATOR_LOAD_IN_PROGRESS until then.
    public var coordinatorLoadMs: Int64 = 200
    public init() {}
}

/// Outcome of one partition of a Produce request.
public enum ProduceOutcome: Sendable, Equatable {
    case appended(baseOffset: Int64)
    case error(SimError)
}

/// Kafka error codes the engine returns (numeric values are Kafka's).
public enum SimError: Int16, Sendable, Error, Hashable {
    case none = 0
    case corruptMessage = 2
    case unknownTopicOrPartition = 3
    case leaderNotAvailable = 5
    case notLeaderOrFollower = 6
    case requestTimedOut = 7
    case brokerNotAvailable = 8
    case replicaNotAvailable = 9
    case messageTooLarge = 10
    case networkException = 13
    case notController = 41
    case invalidRequest = 42
    case invalidTopicException = 17
    case notEnoughReplicas = 19
    case notEnoughReplicasAfterAppend = 20
    case invalidRequiredAcks = 21
    case invalidPartitions = 37
    case invalidReplicationFactor = 38
    case invalidReplicaAssignment = 39
    case invalidConfig = 40
    case topicAlreadyExists = 36
    case policyViolation = 44
    case unknownServerError = -1
    case unsupportedVersion = 35
    case clusterAuthorizationFailed = 31
    case electionNotNeeded = 84
    case preferredLeaderNotAvailable = 80
    case eligibleLeadersNotAvailable = 83
    case noReassignmentInProgress = 85
    case unknownTopicId = 100
    case resourceNotFound = 91
    case invalidUpdateVersion = 95
    // Consumers, groups and idempotent producers.
    case offsetOutOfRange = 1
    case offsetMetadataTooLarge = 12
    case coordinatorLoadInProgress = 14
    case coordinatorNotAvailable = 15
    case notCoordinator = 16
    case illegalGeneration = 22
    case inconsistentGroupProtocol = 23
    case invalidGroupId = 24
    case unknownMemberId = 25
    case invalidSessionTimeout = 26
    case rebalanceInProgress = 27
    case outOfOrderSequenceNumber = 45
    case invalidProducerEpoch = 47
    case invalidTxnState = 48
    case transactionalIdAuthorizationFailed = 53
    case fetchSessionIdNotFound = 70
    case fencedLeaderEpoch = 74
    case unknownLeaderEpoch = 76
    case memberIdRequired = 79
    case fencedInstanceId = 82
    case invalidRecord = 87

    public var name: String {
        switch self {
        case .none: "NONE"
        case .corruptMessage: "CORRUPT_MESSAGE"
        case .unknownTopicOrPartition: "UNKNOWN_TOPIC_OR_PARTITION"
        case .leaderNotAvailable: "LEADER_NOT_AVAILABLE"
        case .notLeaderOrFollower: "NOT_LEADER_OR_FOLLOWER"
        case .requestTimedOut: "REQUEST_TIMED_OUT"
        case .brokerNotAvailable: "BROKER_NOT_AVAILABLE"
        case .replicaNotAvailable: "REPLICA_NOT_AVAILABLE"
        case .messageTooLarge: "MESSAGE_TOO_LARGE"
        case .networkException: "NETWORK_EXCEPTION"
        case .notController: "NOT_CONTROLLER"
        case .invalidRequest: "INVALID_REQUEST"
        case .invalidTopicException: "INVALID_TOPIC_EXCEPTION"
        case .notEnoughReplicas: "NOT_ENOUGH_REPLICAS"
        case .notEnoughReplicasAfterAppend: "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
        case .invalidRequiredAcks: "INVALID_REQUIRED_ACKS"
        case .invalidPartitions: "INVALID_PARTITIONS"
        case .invalidReplicationFactor: "INVALID_REPLICATION_FACTOR"
        case .invalidReplicaAssignment: "INVALID_REPLICA_ASSIGNMENT"
        case .invalidConfig: "INVALID_CONFIG"
        case .topicAlreadyExists: "TOPIC_ALREADY_EXISTS"
        case .policyViolation: "POLICY_VIOLATION"
        case .unknownServerError: "UNKNOWN_SERVER_ERROR"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .clusterAuthorizationFailed: "CLUSTER_AUTHORIZATION_FAILED"
        case .electionNotNeeded: "ELECTION_NOT_NEEDED"
        case .preferredLeaderNotAvailable: "PREFERRED_LEADER_NOT_AVAILABLE"
        case .eligibleLeadersNotAvailable: "ELIGIBLE_LEADERS_NOT_AVAILABLE"
        case .noReassignmentInProgress: "NO_REASSIGNMENT_IN_PROGRESS"
        case .unknownTopicId: "UNKNOWN_TOPIC_ID"
        case .resourceNotFound: "RESOURCE_NOT_FOUND"
        case .invalidUpdateVersion: "INVALID_UPDATE_VERSION"
        case .offsetOutOfRange: "OFFSET_OUT_OF_RANGE"
        case .offsetMetadataTooLarge: "OFFSET_METADATA_TOO_LARGE"
        case .coordinatorLoadInProgress: "COORDINATOR_LOAD_IN_PROGRESS"
        case .coordinatorNotAvailable: "COORDINATOR_NOT_AVAILABLE"
        case .notCoordinator: "NOT_COORDINATOR"
        case .illegalGeneration: "ILLEGAL_GENERATION"
        case .inconsistentGroupProtocol: "INCONSISTENT_GROUP_PROTOCOL"
        case .invalidGroupId: "INVALID_GROUP_ID"
        case .unknownMemberId: "UNKNOWN_MEMBER_ID"
        case .invalidSessionTimeout: "INVALID_SESSION_TIMEOUT"
        case .rebalanceInProgress: "REBALANCE_IN_PROGRESS"
        case .outOfOrderSequenceNumber: "OUT_OF_ORDER_SEQUENCE_NUMBER"
        case .invalidProducerEpoch: "INVALID_PRODUCER_EPOCH"
        case .invalidTxnState: "INVALID_TXN_STATE"
        case .transactionalIdAuthorizationFailed: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"
        case .fetchSessionIdNotFound: "FETCH_SESSION_ID_NOT_FOUND"
        case .fencedLeaderEpoch: "FENCED_LEADER_EPOCH"
        case .unknownLeaderEpoch: "UNKNOWN_LEADER_EPOCH"
        case .memberIdRequired: "MEMBER_ID_REQUIRED"
        case .fencedInstanceId: "FENCED_INSTANCE_ID"
        case .invalidRecord: "INVALID_RECORD"
        }
    }
}

/// An error with the message Kafka would put beside the code.
public struct SimFailure: Error, Sendable, Equatable {
    public var code: SimError
    public var message: String
    public init(_ code: SimError, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// A deterministic generator (SplitMix64), so a seed reproduces a run.
public struct SimRandom: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func uuid() -> [UInt8] {
        let a = next()
        let b = next()
        return (0..<8).map { UInt8(truncatingIfNeeded: a >> (8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: b >> (8 * UInt64($0))) }
    }
}
