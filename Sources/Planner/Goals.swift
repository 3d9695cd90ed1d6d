import Foundation
public import KafkaModel

/// The planner's goals. The policy's list gives their priority: a goal is optimized before the ones after it,
/// and no later goal may undo it.
public enum Goal: String, Sendable, Hashable, Codable, CaseIterable {
    /// No replica on a dead or removing broker.
    case deadBrokers = "DeadBrokers"
    /// A partition's replicas in distinct racks; as even as possible when RF exceeds the racks.
    case rackAware = "RackAware"
    /// At most RF − min ISR replicas of a partition in one Kubernetes cluster where the topology allows it,
    /// otherwise as even as possible (and reported).
    case clusterLossSurvivable = "ClusterLossSurvivable"
    case replicaCapacity = "ReplicaCapacity"
    case diskCapacity = "DiskCapacity"
    case networkInCapacity = "NetworkInCapacity"
    case networkOutCapacity = "NetworkOutCapacity"
    case cpuCapacity = "CpuCapacity"
    case replicaDistribution = "ReplicaDistribution"
    case diskDistribution = "DiskDistribution"
    case networkInDistribution = "NetworkInDistribution"
    case networkOutDistribution = "NetworkOutDistribution"
    case cpuDistribution = "CpuDistribution"
    case topicReplicaDistribution = "TopicReplicaDistribution"
    case leaderReplicaDistribution = "LeaderReplicaDistribution"
    case leaderBytesInDistribution = "LeaderBytesInDistribution"
    /// Every partition led by its first (preferred) replica.
    case preferredLeader = "PreferredLeader"
    /// Data moved, cross-Kubernetes-cluster data first: steers every choice; satisfied when the data moved is
    /// within `movementCostFactor` of the lower bound.
    case movementCost = "MovementCost"

    public var isHard: Bool {
        switch self {
        case .deadBrokers, .rackAware, .clusterLossSurvivable, .replicaCapacity, .diskCapacity, .networkInCapacity,
            .networkOutCapacity, .cpuCapacity:
            true
        default: false
        }
    }

    /// The per-broker metric lane (see `Metric`) a capacity or distribution goal is about.
    var metric: Int? {
        switch self {
        case .replicaCapacity, .replicaDistribution: Metric.replicas
        case .diskCapacity, .diskDistribution: Metric.disk
        case .networkInCapacity, .networkInDistribution: Metric.networkIn
        case .networkOutCapacity, .networkOutDistribution: Metric.networkOut
        case .cpuCapacity, .cpuDistribution: Metric.cpu
        case .leaderReplicaDistribution: Metric.leaders
        case .leaderBytesInDistribution: Metric.leaderBytesIn
        default: nil
        }
    }

    var isCapacity: Bool {
        switch self {
        case .replicaCapacity, .diskCapacity, .networkInCapacity, .networkOutCapacity, .cpuCapacity: true
        default: false
        }
    }

    var isDistribution: Bool { metric != nil && !isCapacity }
}

/// Lanes of the per-broker metric vector.
enum Metric {
    static let replicas = 0
    static let disk = 1
    static let networkIn = 2
    static let networkOut = 3
    static let cpu = 4
    static let leaders = 5
    static let leaderBytesIn = 6
    static let names = ["replicas", "disk", "networkIn", "networkOut", "cpu", "leaders", "leaderBytesIn"]
    /// Lanes measured against a broker capacity (the others are counts, balanced by number).
    static func isResource(_ m: Int) -> Bool { m >= 1 && m <= 4 || m == 6 }
}

/// Goals and thresholds; `policies/planner-goals.json` holds the default (a test keeps the two equal).
public struct PlannerPolicy: Sendable, Hashable, Codable {
    public struct Capacity: Sendable, Hashable, Codable {
        /// Fractions of a broker's capacity a plan may fill (Cruise Control's defaults).
        public var disk = 0.8
        public var networkIn = 0.8
        public var networkOut = 0.8
        public var cpu = 0.7
        public var maxReplicasPerBroker = 10_000
        public init() {}
    }
    public struct Balance: Sendable, Hashable, Codable {
        /// A broker is balanced when its utilization lies within [mean × (2 − t), mean × t].
        public var replica = 1.10
        public var disk = 1.10
        public var networkIn = 1.10
        public var networkOut = 1.10
        public var cpu = 1.10
        public var leaderReplica = 1.10
        public var leaderBytesIn = 1.10
        public var topicReplica = 3.0
        /// The allowed excess over a topic's mean replicas per broker is clamped to [min, max] (Cruise Control's
        /// topic.replica.count.balance.min.gap / max.gap), so small topics are not forced to one replica a broker.
        public var topicReplicaMinGap = 2
        public var topicReplicaMaxGap = 40
        public init() {}
    }
    public var goals: [Goal]
    public var capacity = Capacity()
    public var balance = Balance()
    /// When RF exceeds the alive racks: spread as evenly as possible (true) or refuse (false).
    public var rackAwareAllowUneven = true
    /// A follower's CPU as a fraction of its leader's.
    public var followerCpuRatio = 0.5
    /// MovementCost is satisfied when the data moved is at most this multiple of the lower bound.
    public var movementCostFactor = 1.3

    public init(goals: [Goal] = PlannerPolicy.defaultGoals) {
        self.goals = goals
    }

    public static let defaultGoals: [Goal] = [
        .deadBrokers, .rackAware, .clusterLossSurvivable, .replicaCapacity, .diskCapacity, .networkInCapacity,
        .networkOutCapacity, .cpuCapacity, .replicaDistribution, .diskDistribution, .networkInDistribution,
        .networkOutDistribution, .cpuDistribution, .topicReplicaDistribution, .leaderReplicaDistribution,
        .leaderBytesInDistribution, .preferredLeader, .movementCost,
    ]

    public static let `default` = PlannerPolicy()

    func balanceThreshold(metric m: Int) -> Double {
        switch m {
        case Metric.replicas: balance.replica
        case Metric.disk: balance.disk
        case Metric.networkIn: balance.networkIn
        case Metric.networkOut: balance.networkOut
        case Metric.cpu: balance.cpu
        case Metric.leaders: balance.leaderReplica
        default: balance.leaderBytesIn
        }
    }

    /// Parses a comma-separated goal list such as `RackAware,DiskDistribution`.
    public static func parseGoals(_ list: String) throws(PlanError) -> [Goal] {
        var goals: [Goal] = []
        for name in list.split(separator: ",") {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let g = Goal(rawValue: trimmed) else {
                throw PlanError(
                    kind: .badInput, goal: nil,
                    message:
                        "goal \(trimmed) is unknown; known goals: \(Goal.allCases.map(\.rawValue).joined(separator: ","))"
                )
            }
            if !goals.contains(g) { goals.append(g) }
        }
        if goals.isEmpty { throw PlanError(kind: .badInput, goal: nil, message: "--goals lists no goal") }
        return goals
    }
}

/// Why a plan could not be made. `badInput` maps to exit 2, `infeasible` to exit 1.
public struct PlanError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case badInput, infeasible }
    public var kind: Kind
    public var goal: Goal?
    public var message: String
    public var description: String { goal.map { "\($0.rawValue): \(message)" } ?? message }

    public init(kind: Kind, goal: Goal?, message: String) {
        self.kind = kind
        self.goal = goal
        self.message = message
    }
}

extension PlanError: CategorizedError {
    /// A hard goal that cannot be met is a refusal: the plan would leave partitions unsafe.
    public var category: ErrorCategory { kind == .badInput ? .badInput : .refusedForSafety }
}
