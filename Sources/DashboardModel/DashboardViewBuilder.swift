public import KafkaModel

/// A Kafka node as an agent reports it (its pod, the Kubernetes cluster it runs in, whether it is Ready).
public struct DashboardNode: Sendable, Hashable {
    public var id: Int32
    public var kubernetesCluster: String?
    public var rack: String?
    public var pod: String?
    public var ready: Bool

    public init(id: Int32, kubernetesCluster: String?, rack: String? = nil, pod: String? = nil, ready: Bool) {
        self.id = id
        self.kubernetesCluster = kubernetesCluster
        self.rack = rack
        self.pod = pod
        self.ready = ready
    }
}

/// A broker's disk: bytes used by its replicas against its log dirs' capacity.
public struct DiskUse: Sendable, Hashable {
    public var usedBytes: Int64
    public var capacityBytes: Int64?

    public init(usedBytes: Int64, capacityBytes: Int64?) {
        self.usedBytes = usedBytes
        self.capacityBytes = capacityBytes
    }
}

/// What the dashboard is built from; every field but the cluster's name may be empty (then that part is empty and,
/// when it could not be read, `problems` says why).
public struct DashboardInputs: Sendable {
    public var cluster: String
    public var nowMs: Int64
    public var snapshot: ClusterSnapshot?
    /// The nodes the agents report (a stopped broker is still here, not ready).
    public var nodes: [DashboardNode]
    /// Rack → Kubernetes cluster, for brokers no agent reports.
    public var rackClusters: [String: String]
    public var disk: [Int32: DiskUse]
    /// Brokers an operation is emptying.
    public var draining: Set<Int32>
    public var operations: [OperationView]
    public var applications: ApplicationsView
    public var proposal: ProposalView?
    public var problems: [String]

    public init(
        cluster: String, nowMs: Int64, snapshot: ClusterSnapshot? = nil, nodes: [DashboardNode] = [],
        rackClusters: [String: String] = [:], disk: [Int32: DiskUse] = [:], draining: Set<Int32> = [],
        operations: [OperationView] = [], applications: ApplicationsView = ApplicationsView(),
        proposal: ProposalView? = nil, problems: [String] = []
    ) {
        self.cluster = cluster
        self.nowMs = nowMs
        self.snapshot = snapshot
        self.nodes = nodes
        self.rackClusters = rackClusters
        self.disk = disk
        self.draining = draining
        self.operations = operations
        self.applications = applications
        self.proposal = proposal
        self.problems = problems
    }
}

/// Builds the dashboard's view from a snapshot, the agents' nodes and the operations: pure, so the page's every
/// decision (a broker's state, which partitions are the worst) is tested without a cluster.
public enum DashboardViewBuilder {
    /// How many problem partitions the health panel lists.
    public static let worstListed = 20
    /// The name of the Kubernetes cluster of a broker nobody places.
    public static let unplaced = "unplaced"

    public static func build(_ inputs: DashboardInputs) -> DashboardView {
        let snapshot = inputs.snapshot ?? ClusterSnapshot()
        var view = DashboardView(
            cluster: inputs.cluster, generatedAtMs: inputs.nowMs, problems: inputs.problems,
            controllerId: snapshot.controllerId)
        view.kubernetesClusters = map(inputs, snapshot: snapshot)
        view.health = health(snapshot)
        view.operations = inputs.operations
        view.applications = inputs.applications
        view.proposal = inputs.proposal
        return view
    }

    /// The state a broker is shown in. A missing or unready pod wins (the broker is restarting whatever metadata
    /// still says), then draining, then catching up, then new.
    public static func state(
        registered: Bool, podReady: Bool?, draining: Bool, replicas: Int, outOfSync: Int
    ) -> BrokerDisplayState {
        if !registered || podReady == false { return .restarting }
        if draining { return .draining }
        if outOfSync > 0 { return .catchingUp }
        if replicas == 0 { return .new }
        return .up
    }

    static func map(_ inputs: DashboardInputs, snapshot: ClusterSnapshot) -> [KubernetesClusterView] {
        var leaders: [Int32: Int] = [:]
        var replicas: [Int32: Int] = [:]
        var outOfSync: [Int32: Int] = [:]
        for p in snapshot.allPartitions {
            if p.leader >= 0 { leaders[p.leader, default: 0] += 1 }
            for r in p.replicas {
                replicas[r, default: 0] += 1
                if !p.isr.contains(r) { outOfSync[r, default: 0] += 1 }
            }
        }
        let registered = Dictionary(snapshot.brokers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let nodes = Dictionary(inputs.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let ids = Set(registered.keys).union(nodes.keys)
        var byCluster: [String: [String: [BrokerView]]] = [:]
        for id in ids {
            let node = nodes[id]
            let rack = registered[id]?.rack ?? node?.rack ?? "no rack"
            let kubernetes = node?.kubernetesCluster ?? inputs.rackClusters[rack] ?? unplaced
            let broker = BrokerView(
                id: id, rack: rack,
                state: state(
                    registered: registered[id] != nil, podReady: node?.ready, draining: inputs.draining.contains(id),
                    replicas: replicas[id] ?? 0, outOfSync: outOfSync[id] ?? 0),
                isController: snapshot.controllerId == id, leaders: leaders[id] ?? 0, replicas: replicas[id] ?? 0,
                outOfSync: outOfSync[id] ?? 0, diskUsedBytes: inputs.disk[id]?.usedBytes,
                diskCapacityBytes: inputs.disk[id]?.capacityBytes, pod: node?.pod)
            byCluster[kubernetes, default: [:]][rack, default: []].append(broker)
        }
        return byCluster.keys.sorted().map { name in
            KubernetesClusterView(
                name: name,
                racks: byCluster[name]!.keys.sorted().map { rack in
                    RackView(name: rack, brokers: byCluster[name]![rack]!.sorted { $0.id < $1.id })
                })
        }
    }

    static func health(_ snapshot: ClusterSnapshot) -> PartitionHealth {
        var health = PartitionHealth()
        var issues: [PartitionIssue] = []
        for topic in snapshot.topics {
            for p in topic.partitions {
                health.partitions += 1
                let problem: PartitionProblem?
                if p.isOffline {
                    problem = .offline
                } else if p.isr.count < topic.minInSyncReplicas {
                    problem = .underMinIsr
                } else if p.isr.count < p.replicas.count {
                    problem = .underReplicated
                } else if let preferred = p.preferredLeader, preferred != p.leader {
                    problem = .offPreferredLeader
                } else {
                    problem = nil
                }
                // The counts are not exclusive: an offline partition is also under-replicated, as Kafka counts it.
                if p.isOffline { health.offline += 1 }
                if !p.isOffline && p.isr.count < topic.minInSyncReplicas { health.underMinIsr += 1 }
                if p.isr.count < p.replicas.count { health.underReplicated += 1 }
                if !p.isOffline, let preferred = p.preferredLeader, preferred != p.leader {
                    health.offPreferredLeader += 1
                }
                if let problem {
                    issues.append(
                        PartitionIssue(
                            topic: p.topic, partition: p.partition, problem: problem, leader: p.leader,
                            replicas: p.replicas, isr: p.isr, minIsr: topic.minInSyncReplicas))
                }
            }
        }
        health.worst = Array(
            issues.sorted {
                ($0.problem, $0.isr.count, $0.topic, $0.partition) < ($1.problem, $1.isr.count, $1.topic, $1.partition)
            }.prefix(worstListed))
        return health
    }
}
