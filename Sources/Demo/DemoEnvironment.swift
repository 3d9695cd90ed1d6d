import Agent
import AgentKubernetesDriver
import BallastStore
import Dashboard
import DashboardModel
import Foundation
import Hummingbird
import KafkaAdmin
import KafkaModel
import KafkaSim
import KubernetesSim
import Logging
import Operations
import ServiceLifecycle
import Synchronization

/// Everything `ballast demo` runs in this one process, on loopback: the simulated Kafka cluster stretched over three
/// simulated Kubernetes clusters (their HTTPS APIs), one `kubernetes` agent per Kubernetes cluster with its own
/// token, the operations store (SQLite in a temporary directory), the producer and consumer applications, and the
/// dashboard. Made by `DemoRunner`, which also takes it all down.
final class DemoEnvironment: Sendable {
    static let appTopic = "orders"
    /// The topics that hold data from the start (so that a plan has something to move), their partitions and
    /// MiB per partition.
    static let dataTopics: [(name: String, partitions: Int, mib: Int64)] = [
        ("payments", 12, 96), ("inventory", 9, 64), ("clickstream", 18, 48),
    ]
    static let diskCapacityBytes: Int64 = 8 << 30

    let directory: String
    let sim: KafkaSimServer
    let kubernetes: KubernetesSimulator
    let store: SQLiteOperationsStore
    let stats = ApplicationStats()
    let operations = DemoOperations()
    let logger: Logger

    init(options: DemoOptions, logger: Logger) throws {
        self.logger = logger
        directory = NSTemporaryDirectory() + "ballast-demo-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var topology = SimTopology()
        topology.brokers = options.brokers
        topology.racks = 3
        topology.clusters = 3
        topology.topics = 0
        topology.replicationFactor = 3
        topology.minInsyncReplicas = 2
        var settings = SimSettings()
        // Real Kafka 4.1's controlled shutdown (docs/simulator.md); a start-up of a few seconds.
        settings.shutdownDurationMs = 4500
        settings.startupDelayMs = 6000
        var cluster = try topology.build(settings: settings)
        for t in Self.dataTopics {
            try cluster.createTopic(
                name: t.name, partitions: t.partitions, replicationFactor: 3, configs: ["min.insync.replicas": "2"],
                baseBytes: Array(repeating: t.mib << 20, count: t.partitions))
        }
        try cluster.createTopic(
            name: Self.appTopic, partitions: 9, replicationFactor: 3, configs: ["min.insync.replicas": "2"])
        for node in cluster.nodes { cluster.setDiskCapacity(Self.diskCapacityBytes, of: node.id) }
        sim = EmbeddedSimulator.server(cluster, timeScale: options.speed, logger: logger)
        kubernetes = try KubernetesSimulator(
            kafka: sim, configuration: KubernetesSimulator.Configuration(directory: directory + "/kubernetes"),
            logger: logger)
        store = try SQLiteOperationsStore(directory: directory + "/store")
    }

    /// The node id → Kubernetes cluster map of the simulated cluster.
    var kubernetesClusterOf: [Int32: String] {
        sim.simulator.withCluster { c in Dictionary(uniqueKeysWithValues: c.nodes.map { ($0.id, $0.cluster) }) }
    }

    var rackClusters: [String: String] {
        sim.simulator.withCluster { c in
            Dictionary(c.nodes.compactMap { n in n.rack.map { ($0, n.cluster) } }, uniquingKeysWith: { a, _ in a })
        }
    }
}

/// One agent of the demo: the `kubernetes` driver of one simulated Kubernetes cluster behind the agent HTTP API.
struct DemoAgent: Sendable {
    var cluster: String
    var token: String
    var tokenFile: String
    var driver: KubernetesDriver
}

/// The operations the demo started, for the dashboard: their ids (newest first), their runners' events (holds) and
/// their sizes.
final class DemoOperations: Sendable {
    struct State {
        var ids: [String] = []
        var events: [String: [OperationEvent]] = [:]
        /// The key of each operation's latest event, when it may be replaced by the next one with the same key.
        var lastKey: [String: String] = [:]
        var totals: [String: Int] = [:]
        var triggers: [String: String] = [:]
        var proposal: ProposalView?
        var draining: Set<Int32> = []
    }

    let state = Mutex(State())

    init() {}

    func started(_ id: String, total: Int, trigger: String) {
        state.withLock { s in
            s.ids.insert(id, at: 0)
            s.totals[id] = total
            s.triggers[id] = trigger
        }
    }

    /// Adds an event to the operation's log; one with the same `replacing` key as the latest replaces it (a wait's
    /// progress is one line that changes, not a line per poll).
    func event(_ id: String, _ text: String, holdReason: String? = nil, replacing key: String? = nil) {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        state.withLock { s in
            if let key, s.lastKey[id] == key, !(s.events[id] ?? []).isEmpty { s.events[id]!.removeLast() }
            s.lastKey[id] = key
            s.events[id, default: []].append(OperationEvent(atMs: now, text: text, holdReason: holdReason))
            // A bounded log: the last 200 events of each operation.
            if s.events[id]!.count > 200 { s.events[id]!.removeFirst() }
        }
    }

    func setProposal(_ proposal: ProposalView?) { state.withLock { $0.proposal = proposal } }
    func setDraining(_ brokers: Set<Int32>) { state.withLock { $0.draining = brokers } }

    func feeds(store: any OperationsStore, stats: ApplicationStats) -> LiveDashboardFeeds {
        LiveDashboardFeeds(
            operations: { [self] _ in
                let s = state.withLock { $0 }
                return await LiveDashboardSource.operations(
                    store: store, ids: s.ids, events: s.events, totals: s.totals, triggers: s.triggers)
            },
            applications: { _ in stats.view },
            proposal: { [self] _ in state.withLock { $0.proposal } },
            draining: { [self] _ in state.withLock { $0.draining } })
    }
}
