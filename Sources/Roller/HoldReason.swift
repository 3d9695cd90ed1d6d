public import KafkaModel

/// Why a node is not in the next batch, or why no batch may start at all.
public enum HoldReason: Sendable, Hashable {
    /// Whole roll: partitions have no leader.
    case offlinePartitions(count: Int, example: TopicPartition)
    /// Whole roll: more rollout-blocking signals are active than the failure threshold allows.
    case failureBudget(active: Int, threshold: Int)
    /// Restarting the node (with the batch) would leave too few in-sync replicas.
    case isrTooSmall(TopicPartition, isrAfter: Int, required: Int, together: [Int32])
    /// The partition is already under min ISR and the node hosts one of its replicas.
    case underMinIsr(TopicPartition, isr: Int, minIsr: Int)
    /// A batch holds at most one controller.
    case controllerInBatch(Int32)
    /// Restarting the node would leave fewer caught-up voters than a majority.
    case quorumMajority(caughtUpAfter: Int, majority: Int)
    /// The active controller goes last among the controllers.
    case activeControllerLast
    /// Down nodes go first, one at a time.
    case downNodeFirst(Int32)
    /// Batches stay within one zone and one Kubernetes cluster.
    case otherGroup(zone: String, cluster: String)
    /// The batch reached `--max-batch`.
    case batchFull(Int)
    /// No agent manages the node.
    case noAgent

    /// Every `code`, for metrics labels and documentation.
    public static let codes = [
        "offline-partitions", "failure-budget", "isr-too-small", "under-min-isr", "controller-in-batch",
        "quorum-majority", "active-controller-last", "down-node-first", "other-zone", "max-batch", "no-agent",
    ]

    /// A stable name for JSON output.
    public var code: String {
        switch self {
        case .offlinePartitions: "offline-partitions"
        case .failureBudget: "failure-budget"
        case .isrTooSmall: "isr-too-small"
        case .underMinIsr: "under-min-isr"
        case .controllerInBatch: "controller-in-batch"
        case .quorumMajority: "quorum-majority"
        case .activeControllerLast: "active-controller-last"
        case .downNodeFirst: "down-node-first"
        case .otherGroup: "other-zone"
        case .batchFull: "max-batch"
        case .noAgent: "no-agent"
        }
    }
}

extension HoldReason: CustomStringConvertible {
    public var description: String {
        switch self {
        case .offlinePartitions(let count, let example):
            return
                "\(count) partition(s) are offline (e.g. \(example)); no node is restarted while any partition is offline"
        case .failureBudget(let active, let threshold):
            return "\(active) rollout-blocking signal(s) are active; the failure threshold is \(threshold)"
        case .isrTooSmall(let p, let isrAfter, let required, let together):
            let with =
                together.isEmpty ? "" : " together with node(s) \(together.map(String.init).joined(separator: ","))"
            return "restarting it\(with) would leave \(p) with \(isrAfter) in-sync replica(s); it needs \(required)"
        case .underMinIsr(let p, let isr, let minIsr):
            return
                "\(p) is already under min ISR (\(isr) in sync, min.insync.replicas \(minIsr)) and it hosts a replica"
        case .controllerInBatch(let other):
            return "controller \(other) is already in this batch; a batch holds at most one controller"
        case .quorumMajority(let after, let majority):
            return "it would leave \(after) caught-up controller voter(s); a majority is \(majority)"
        case .activeControllerLast:
            return "it is the active controller, which goes after the other controllers"
        case .downNodeFirst(let node):
            return "node \(node) is down and is restarted first, alone"
        case .otherGroup(let zone, let cluster):
            let c = cluster.isEmpty ? "" : " of Kubernetes cluster \(cluster)"
            return "this batch is zone \(zone.isEmpty ? "(none)" : zone)\(c); batches stay within one zone and cluster"
        case .batchFull(let cap):
            return "the batch already has \(cap) node(s) (--max-batch)"
        case .noAgent:
            return "no agent manages this node"
        }
    }
}
