public import KafkaModel
public import KafkaWire

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

public struct SimNode: Sendable {
    public var id: Int32
    public var rack: String?
    /// The Kubernetes cluster the node runs in.
    public var cluster: String
    public var roles: Set<NodeRole>
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
    /// server.properties as edited since the node started (keys set or replaced): Kafka reads the file only at
    /// start-up, so these become static configs at the node's next start (`SimCluster.editServerProperties`).
    public var editedServerProperties: [String: String] = [:]
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
    case error(KafkaErrorCode)
}

/// An error with the message Kafka would put beside the code.
public struct SimFailure: Error, Sendable, Equatable {
    public var code: KafkaErrorCode
    public var message: String
    public init(_ code: KafkaErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
}
