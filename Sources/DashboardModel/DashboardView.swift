/// Everything the dashboard page shows for one Kafka cluster, as the page's JSON (`GET /dashboard/api/clusters/{c}`
/// and every message of its event stream). Built by `DashboardViewBuilder` from what Ballast reads; the page only
/// draws it.
public struct DashboardView: Sendable, Hashable, Codable {
    public var cluster: String
    /// When it was built, milliseconds since the epoch.
    public var generatedAtMs: Int64
    /// Why parts are missing (the cluster or an agent could not be read); empty when everything was read.
    public var problems: [String]
    public var controllerId: Int32
    /// Kubernetes clusters → racks → brokers.
    public var kubernetesClusters: [KubernetesClusterView]
    public var health: PartitionHealth
    /// Newest first.
    public var operations: [OperationView]
    public var applications: ApplicationsView
    /// The latest proposal (a rebalance dry run or the one being executed), if any.
    public var proposal: ProposalView?

    public init(
        cluster: String, generatedAtMs: Int64, problems: [String] = [], controllerId: Int32 = -1,
        kubernetesClusters: [KubernetesClusterView] = [], health: PartitionHealth = PartitionHealth(),
        operations: [OperationView] = [], applications: ApplicationsView = ApplicationsView(),
        proposal: ProposalView? = nil
    ) {
        self.cluster = cluster
        self.generatedAtMs = generatedAtMs
        self.problems = problems
        self.controllerId = controllerId
        self.kubernetesClusters = kubernetesClusters
        self.health = health
        self.operations = operations
        self.applications = applications
        self.proposal = proposal
    }

    public var brokerCount: Int { kubernetesClusters.reduce(0) { $0 + $1.racks.reduce(0) { $0 + $1.brokers.count } } }
}

public struct KubernetesClusterView: Sendable, Hashable, Codable {
    public var name: String
    public var racks: [RackView]

    public init(name: String, racks: [RackView]) {
        self.name = name
        self.racks = racks
    }
}

public struct RackView: Sendable, Hashable, Codable {
    public var name: String
    public var brokers: [BrokerView]

    public init(name: String, brokers: [BrokerView]) {
        self.name = name
        self.brokers = brokers
    }
}

/// What a broker is doing, as the map shows it (a word as well as a colour).
public enum BrokerDisplayState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Registered, every replica it hosts in sync.
    case up
    /// Not registered (stopped, starting) or its pod is not Ready.
    case restarting
    /// Registered, but some replica it hosts is out of the ISR.
    case catchingUp = "catching-up"
    /// Registered and hosting no replica yet (just added).
    case new
    /// An operation is moving its replicas away (remove-brokers, downscale).
    case draining
}

public struct BrokerView: Sendable, Hashable, Codable {
    public var id: Int32
    public var rack: String
    public var state: BrokerDisplayState
    public var isController: Bool
    public var leaders: Int
    public var replicas: Int
    /// Replicas it hosts that are out of the ISR.
    public var outOfSync: Int
    public var diskUsedBytes: Int64?
    public var diskCapacityBytes: Int64?
    public var pod: String?

    public init(
        id: Int32, rack: String, state: BrokerDisplayState, isController: Bool = false, leaders: Int = 0,
        replicas: Int = 0, outOfSync: Int = 0, diskUsedBytes: Int64? = nil, diskCapacityBytes: Int64? = nil,
        pod: String? = nil
    ) {
        self.id = id
        self.rack = rack
        self.state = state
        self.isController = isController
        self.leaders = leaders
        self.replicas = replicas
        self.outOfSync = outOfSync
        self.diskUsedBytes = diskUsedBytes
        self.diskCapacityBytes = diskCapacityBytes
        self.pod = pod
    }
}

/// What is wrong with a partition, worst first.
public enum PartitionProblem: String, Sendable, Hashable, Codable, Comparable {
    case offline
    case underMinIsr = "under-min-isr"
    case underReplicated = "under-replicated"
    case offPreferredLeader = "off-preferred-leader"

    var severity: Int {
        switch self {
        case .offline: 0
        case .underMinIsr: 1
        case .underReplicated: 2
        case .offPreferredLeader: 3
        }
    }

    public static func < (a: PartitionProblem, b: PartitionProblem) -> Bool { a.severity < b.severity }
}

public struct PartitionHealth: Sendable, Hashable, Codable {
    public var partitions: Int
    public var offline: Int
    public var underMinIsr: Int
    public var underReplicated: Int
    public var offPreferredLeader: Int
    /// The worst partitions (at most `DashboardViewBuilder.worstListed`), worst first.
    public var worst: [PartitionIssue]

    public init(
        partitions: Int = 0, offline: Int = 0, underMinIsr: Int = 0, underReplicated: Int = 0,
        offPreferredLeader: Int = 0, worst: [PartitionIssue] = []
    ) {
        self.partitions = partitions
        self.offline = offline
        self.underMinIsr = underMinIsr
        self.underReplicated = underReplicated
        self.offPreferredLeader = offPreferredLeader
        self.worst = worst
    }
}

public struct PartitionIssue: Sendable, Hashable, Codable {
    public var topic: String
    public var partition: Int32
    public var problem: PartitionProblem
    public var leader: Int32
    public var replicas: [Int32]
    public var isr: [Int32]
    public var minIsr: Int

    public init(
        topic: String, partition: Int32, problem: PartitionProblem, leader: Int32, replicas: [Int32], isr: [Int32],
        minIsr: Int
    ) {
        self.topic = topic
        self.partition = partition
        self.problem = problem
        self.leader = leader
        self.replicas = replicas
        self.isr = isr
        self.minIsr = minIsr
    }
}

/// One operation (roll, rebalance, scale, config change) and its timeline.
public struct OperationView: Sendable, Hashable, Codable {
    public var id: String
    public var kind: String
    /// pending, running, paused, succeeded, failed, cancelled (the service's states) or the journal's.
    public var state: String
    /// What started it (reconcile, alert, manual), when known.
    public var trigger: String?
    public var startedAtMs: Int64?
    public var done: Int
    public var total: Int
    /// Why it waits right now, when it does.
    public var holdReason: String?
    /// Oldest first.
    public var timeline: [TimelineEntry]

    public init(
        id: String, kind: String, state: String, trigger: String? = nil, startedAtMs: Int64? = nil, done: Int = 0,
        total: Int = 0, holdReason: String? = nil, timeline: [TimelineEntry] = []
    ) {
        self.id = id
        self.kind = kind
        self.state = state
        self.trigger = trigger
        self.startedAtMs = startedAtMs
        self.done = done
        self.total = total
        self.holdReason = holdReason
        self.timeline = timeline
    }

    public var isActive: Bool { ["pending", "running", "paused"].contains(state) }
}

public struct TimelineEntry: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case batch, restart, move, hold, done, failed, info
    }

    public var atMs: Int64?
    public var kind: Kind
    /// The batch (roll) or move index (rebalance) the entry belongs to, when it does.
    public var group: Int?
    public var text: String

    public init(atMs: Int64? = nil, kind: Kind, group: Int? = nil, text: String) {
        self.atMs = atMs
        self.kind = kind
        self.group = group
        self.text = text
    }
}

/// The applications' produce and consume rates over time, and their totals.
public struct ApplicationsView: Sendable, Hashable, Codable {
    public var points: [ApplicationPoint]
    public var totals: ApplicationTotals

    public init(points: [ApplicationPoint] = [], totals: ApplicationTotals = ApplicationTotals()) {
        self.points = points
        self.totals = totals
    }
}

/// Rates over the interval ending at `timeMs`, messages per second.
public struct ApplicationPoint: Sendable, Hashable, Codable {
    public var timeMs: Int64
    public var produced: Double
    public var consumed: Double
    public var produceErrors: Double
    public var consumeErrors: Double

    public init(timeMs: Int64, produced: Double, consumed: Double, produceErrors: Double, consumeErrors: Double) {
        self.timeMs = timeMs
        self.produced = produced
        self.consumed = consumed
        self.produceErrors = produceErrors
        self.consumeErrors = consumeErrors
    }
}

public struct ApplicationTotals: Sendable, Hashable, Codable {
    /// Messages handed to the producer.
    public var sent: Int
    /// Acknowledged (acks=all).
    public var acknowledged: Int
    /// Deliveries that failed (the producer gave up on them).
    public var failed: Int
    /// Messages the consumer received (duplicates included).
    public var consumed: Int
    /// Acknowledged messages the consumer has not seen (yet): 0 at the end means no message was lost.
    public var unconfirmed: Int
    /// Messages received more than once (harmless re-reads after a group rebalance).
    public var duplicates: Int
    public var consumeErrors: Int
    /// Consumer group rebalances the consumer went through.
    public var rebalances: Int

    public init(
        sent: Int = 0, acknowledged: Int = 0, failed: Int = 0, consumed: Int = 0, unconfirmed: Int = 0,
        duplicates: Int = 0, consumeErrors: Int = 0, rebalances: Int = 0
    ) {
        self.sent = sent
        self.acknowledged = acknowledged
        self.failed = failed
        self.consumed = consumed
        self.unconfirmed = unconfirmed
        self.duplicates = duplicates
        self.consumeErrors = consumeErrors
        self.rebalances = rebalances
    }
}

/// A placement proposal as the page shows it: per-broker balance before and after, and the moves.
public struct ProposalView: Sendable, Hashable, Codable {
    public var hash: String?
    public var mode: String
    public var brokers: [BalanceBar]
    public var moves: [MoveView]
    public var dataToMoveMiB: Double
    public var crossClusterDataMiB: Double

    public init(
        hash: String?, mode: String, brokers: [BalanceBar], moves: [MoveView], dataToMoveMiB: Double,
        crossClusterDataMiB: Double
    ) {
        self.hash = hash
        self.mode = mode
        self.brokers = brokers
        self.moves = moves
        self.dataToMoveMiB = dataToMoveMiB
        self.crossClusterDataMiB = crossClusterDataMiB
    }
}

/// Replicas (and their data) on a broker before and after a proposal.
public struct BalanceBar: Sendable, Hashable, Codable {
    public var broker: Int32
    public var replicasBefore: Int
    public var replicasAfter: Int
    public var diskBeforeMiB: Double
    public var diskAfterMiB: Double

    public init(broker: Int32, replicasBefore: Int, replicasAfter: Int, diskBeforeMiB: Double, diskAfterMiB: Double) {
        self.broker = broker
        self.replicasBefore = replicasBefore
        self.replicasAfter = replicasAfter
        self.diskBeforeMiB = diskBeforeMiB
        self.diskAfterMiB = diskAfterMiB
    }
}

public struct MoveView: Sendable, Hashable, Codable {
    public var topic: String
    public var partition: Int32
    public var oldReplicas: [Int32]
    public var newReplicas: [Int32]
    public var dataMiB: Double
    public var crossCluster: Bool

    public init(
        topic: String, partition: Int32, oldReplicas: [Int32], newReplicas: [Int32], dataMiB: Double,
        crossCluster: Bool
    ) {
        self.topic = topic
        self.partition = partition
        self.oldReplicas = oldReplicas
        self.newReplicas = newReplicas
        self.dataMiB = dataMiB
        self.crossCluster = crossCluster
    }
}
