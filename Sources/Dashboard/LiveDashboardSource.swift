public import BallastStore
public import DashboardModel
import Foundation
public import KafkaAdmin
import KafkaModel
public import Operations
import Synchronization

/// One Kafka cluster the live dashboard reads: its admin client, its agents (one per Kubernetes cluster) and the
/// rack → Kubernetes cluster map for brokers no agent reports.
public struct LiveDashboardCluster: Sendable {
    public var name: String
    public var admin: KafkaAdmin
    public var agents: [any AgentAPI]
    public var rackClusters: [String: String]

    public init(name: String, admin: KafkaAdmin, agents: [any AgentAPI], rackClusters: [String: String] = [:]) {
        self.name = name
        self.admin = admin
        self.agents = agents
        self.rackClusters = rackClusters
    }
}

/// What the live dashboard gets from whoever runs the operations and the applications, per Kafka cluster.
public struct LiveDashboardFeeds: Sendable {
    /// The operations to show, newest first.
    public var operations: @Sendable (_ cluster: String) async -> [OperationView]
    public var applications: @Sendable (_ cluster: String) async -> ApplicationsView
    public var proposal: @Sendable (_ cluster: String) async -> ProposalView?
    /// Brokers an operation is emptying.
    public var draining: @Sendable (_ cluster: String) async -> Set<Int32>

    public init(
        operations: @escaping @Sendable (String) async -> [OperationView] = { _ in [] },
        applications: @escaping @Sendable (String) async -> ApplicationsView = { _ in ApplicationsView() },
        proposal: @escaping @Sendable (String) async -> ProposalView? = { _ in nil },
        draining: @escaping @Sendable (String) async -> Set<Int32> = { _ in [] }
    ) {
        self.operations = operations
        self.applications = applications
        self.proposal = proposal
        self.draining = draining
    }
}

/// The dashboard's data read live: the snapshot and every broker's log dirs from the admin client, the nodes from
/// the agents, the rest from the feeds; `DashboardViewBuilder` makes the view. A view is reused for `maxAge`, so
/// any number of open pages costs one read of the cluster per second.
public final class LiveDashboardSource: DashboardSource {
    let all: [LiveDashboardCluster]
    let feeds: LiveDashboardFeeds
    let maxAge: Duration
    let cache = Mutex<[String: (at: ContinuousClock.Instant, view: DashboardView)]>([:])

    public init(clusters: [LiveDashboardCluster], feeds: LiveDashboardFeeds, maxAge: Duration = .milliseconds(900)) {
        self.all = clusters
        self.feeds = feeds
        self.maxAge = maxAge
    }

    public func clusters() async -> [String] { all.map(\.name) }

    public func view(cluster name: String) async throws -> DashboardView {
        guard let cluster = all.first(where: { $0.name == name }) else { throw DashboardError.unknownCluster(name) }
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[name] }), now - cached.at < maxAge { return cached.view }
        let view = await read(cluster)
        cache.withLock { $0[name] = (now, view) }
        return view
    }

    func read(_ cluster: LiveDashboardCluster) async -> DashboardView {
        var problems: [String] = []
        async let snapshotResult = Self.capture { try await cluster.admin.snapshot() }
        async let nodesResult = Self.nodes(cluster.agents)
        async let operations = feeds.operations(cluster.name)
        async let applications = feeds.applications(cluster.name)
        async let proposal = feeds.proposal(cluster.name)
        async let draining = feeds.draining(cluster.name)
        var snapshot: ClusterSnapshot?
        switch await snapshotResult {
        case .success(let s): snapshot = s
        case .failure(let error): problems.append("the cluster could not be read: \(error)")
        }
        let (nodes, agentProblems) = await nodesResult
        problems += agentProblems
        let disk = await Self.disk(cluster.admin, brokers: snapshot?.brokers.map(\.id) ?? [])
        return DashboardViewBuilder.build(
            DashboardInputs(
                cluster: cluster.name, nowMs: Int64(Date().timeIntervalSince1970 * 1000), snapshot: snapshot,
                nodes: nodes, rackClusters: cluster.rackClusters, disk: disk, draining: await draining,
                operations: await operations, applications: await applications, proposal: await proposal,
                problems: problems))
    }

    static func nodes(_ agents: [any AgentAPI]) async -> ([DashboardNode], [String]) {
        await withTaskGroup(of: Result<[DashboardNode], any Error>.self) { group in
            for agent in agents {
                group.addTask {
                    await capture {
                        do {
                            return try await agent.nodes().map {
                                DashboardNode(
                                    id: $0.id, kubernetesCluster: $0.cluster, rack: $0.zone, pod: $0.pod,
                                    ready: $0.ready)
                            }
                        } catch {
                            throw AgentReadError(endpoint: agent.endpoint, error: error)
                        }
                    }
                }
            }
            var nodes: [DashboardNode] = []
            var problems: [String] = []
            for await result in group {
                switch result {
                case .success(let n): nodes += n
                case .failure(let error): problems.append("\(error)")
                }
            }
            return (nodes, problems)
        }
    }

    static func capture<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    struct AgentReadError: Error, CustomStringConvertible {
        var endpoint: String
        var error: any Error
        var description: String { "the agent \(endpoint) could not be read: \(error)" }
    }

    /// Each broker's log dirs on its own, so that one restarting broker costs only its own disk figure.
    static func disk(_ admin: KafkaAdmin, brokers: [Int32]) async -> [Int32: DiskUse] {
        await withTaskGroup(of: (Int32, DiskUse?).self) { group in
            for id in brokers {
                group.addTask {
                    guard let dirs = try? await admin.describeLogDirs(brokers: [id]).first else { return (id, nil) }
                    let used = dirs.logDirs.reduce(Int64(0)) { sum, dir in
                        sum + dir.replicas.filter { !$0.isFuture }.reduce(0) { $0 + $1.sizeBytes }
                    }
                    let totals = dirs.logDirs.map(\.totalBytes).filter { $0 > 0 }
                    return (id, DiskUse(usedBytes: used, capacityBytes: totals.isEmpty ? nil : totals.reduce(0, +)))
                }
            }
            var out: [Int32: DiskUse] = [:]
            for await (id, use) in group { out[id] = use }
            return out
        }
    }
}

extension LiveDashboardSource {
    /// The operations of `ids` from the operations store, with their runner's events: what a runner in this process
    /// (`ballast demo`, `ballast serve`) hands `LiveDashboardFeeds.operations`. Ids the store does not know are left
    /// out.
    public static func operations(
        store: any OperationsStore, ids: [String], events: [String: [OperationEvent]] = [:],
        totals: [String: Int] = [:], triggers: [String: String] = [:]
    ) async -> [OperationView] {
        var out: [OperationView] = []
        for id in ids {
            guard let record = try? await store.operation(id) else { continue }
            let steps = (try? await store.steps(id)) ?? []
            let items = (try? await store.items(id)) ?? []
            out.append(
                OperationView.fromJournal(
                    id: id, kind: record.kind.rawValue, state: record.status.rawValue, trigger: triggers[id],
                    startedAt: record.createdAt,
                    steps: steps, items: items,
                    events: events[id] ?? [], total: totals[id]))
        }
        return out
    }
}
