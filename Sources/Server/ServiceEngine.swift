public import BallastStore
import Foundation
import KafkaAdmin
import KafkaModel
public import Logging
import Operations
import Planner
public import Rebalancer
public import Roller
public import ServiceConfig
public import ServiceContract

/// The settings of the engine that the configuration file does not hold (yet): what the tests and `ballast serve`
/// pass in.
public struct EnginePolicy: Sendable {
    /// Events kept per operation (the oldest are dropped).
    public var eventsKept = 200
    /// A scale in one direction on one cluster is not repeated within this time (alerts keep firing while the
    /// new brokers join).
    public var scaleCooldown: Duration = .seconds(600)
    /// Rolls pause when more rollout-blocking alerts than this fire on a cluster (besides any `pause-rollouts`).
    public var blockingAlertThreshold = 0
    /// How long an upscale waits for the new brokers to register, and a scale for its agent.
    public var scaleTimeout: Duration = .seconds(900)
    /// Between polls of the cluster or an agent.
    public var pollInterval: Duration = .seconds(1)
    /// The rebalance settings of executions the service starts.
    public var rebalance = RebalanceOptions()
    /// The safety settings of the rolls reconcile starts (`policies/rollout.json`'s defaults). Its
    /// `failureThreshold` is not used: the engine holds a roll while `pausesOf` its cluster is not empty.
    public var roll = RollOptions()
    /// Dry-run proposals kept for execution by hash.
    public var proposalsKept = 64
    /// The `engine` lease: only its holder runs mutating work; renewed every third of it.
    public var leaseTTL: Duration = .seconds(15)

    public init() {}
}

/// What the service API asked that cannot be done; `status` is the HTTP status that says so.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    public enum Status: Int, Sendable {
        case badRequest = 400, notFound = 404, conflict = 409, tooLarge = 413, unprocessable = 422, unavailable = 503
    }
    public var status: Status
    public var message: String
    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { message }
}

/// An operation as the service stores it: what the API shows, and what it needs to run.
struct OperationBody: Codable, Sendable {
    var summary: OperationSummary
    var job: Job

    struct Job: Codable, Sendable, Hashable {
        /// A rebalance: the proposal's moves and hash.
        var mode: String?
        var hash: String?
        var moves: [Proposal.Move]?
        var throttleBytesPerSecond: Int64?
        /// A scale: the pool and how many brokers.
        var pool: String?
        var count: Int?
        /// The brokers a scale added or chose for removal, once known (so a resumed scale keeps them); the nodes a
        /// roll restarts (nil: every node the agents manage).
        var brokers: [Int]?
        /// A roll for a restart generation: the generation (a later reconcile with it, or an older one, is a no-op
        /// once this roll succeeded).
        var generation: Int64?
        /// A reconcile's desired state (its canonical JSON).
        var reconcile: String?
        /// A reconcile roll whose restarts were done but whose read-only values the brokers still do not report:
        /// one sentence per broker and key (`ServiceEngine.rolled`).
        var notInEffect: [String]?
    }
}

/// The engine: every trigger becomes an operation in the store; one worker per Kafka cluster runs that cluster's
/// operations one at a time, oldest first, with the runners of `Operations`.
public actor ServiceEngine {
    public let configuration: ServiceConfiguration
    public let store: any ServiceRecordsStore
    public let engineId: String
    let policy: EnginePolicy
    let logger: Logger
    let metrics: ServiceMetrics

    /// Dry-run proposals by hash (oldest dropped first).
    var proposals: [String: (cluster: String, proposal: Proposal)] = [:]
    var proposalOrder: [String] = []
    /// Pending operation ids per cluster, oldest first.
    var queues: [String: [String]] = [:]
    /// Operations not yet ended, as last written (the one copy the engine updates).
    var live: [String: OperationBody] = [:]
    var workers: [String: Task<Void, Never>] = [:]
    /// Operations asked to stop (cancel) while they run.
    var stopAsked: Set<String> = []
    /// Rolls a worker is running now, and those of them paused by the API (they hold before their next batch).
    var rolling: Set<String> = []
    var holdAsked: Set<String> = []
    /// What each running roll has done so far (for its progress).
    var rollTrackers: [String: RollTracker] = [:]
    /// Firing pause-rollouts (and rollout-blocking) alerts per cluster, by fingerprint.
    var pauses: [String: [String: Pause]] = [:]
    var blocking: [String: Set<String>] = [:]
    /// When the last scale of a cluster in a direction was created.
    var lastScale: [String: Date] = [:]
    /// Whether this engine may run mutating work: it holds the `engine` lease.
    var leading = false
    /// The lease as last seen (who leads, until when, its epoch).
    var lease: Lease?
    /// Callers of `finished(_:)` waiting for an operation to end.
    var waiters: [String: [CheckedContinuation<OperationSummary, Never>]] = [:]
    /// Each live operation's last store write: the next one waits for it, so the store gets an operation's states
    /// in the order they were made. Unordered, a progress write made before the final state but committed after it
    /// put a finished operation back to `running` for good (ServeHATests, under load, on PostgreSQL's pool).
    var writes: [String: Task<Void, any Error>] = [:]

    public init(
        configuration: ServiceConfiguration, store: any ServiceRecordsStore, engineId: String? = nil,
        policy: EnginePolicy = EnginePolicy(), metrics: ServiceMetrics = ServiceMetrics(),
        logger: Logger = Logger(label: "ballast.serve")
    ) {
        self.configuration = configuration
        self.store = store
        self.engineId = engineId ?? "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
        self.policy = policy
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: Start

    /// Reads back what the store holds: unfinished operations are queued again (a running one resumes through its
    /// runner's journal: the rebalance resume path never moves a partition twice), pauses from firing alerts,
    /// the cooldowns from the latest scales. Then starts the workers.
    public func start() async throws {
        try await load()
        await renewLease()
    }

    /// Renews the lease every third of its time until cancelled, then gives it up.
    public func keepLease() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: policy.leaseTTL / 3) } catch { break }
            await renewLease()
        }
        try? await store.releaseLease(Self.leaseName, holder: engineId)
    }

    public static let leaseName = "engine"

    /// Takes or renews the lease. Winning it reloads the store's unfinished operations and runs them (a running
    /// one resumes from its journal); losing it (or the store) stops the workers, leaving their operations
    /// running in the store for the new leader.
    func renewLease() async {
        do {
            let l = try await store.acquireLease(Self.leaseName, holder: engineId, ttl: policy.leaseTTL, now: Date())
            lease = l
            if l.holder == engineId && !leading {
                logger.info("this engine leads (lease epoch \(l.epoch))")
                leading = true
                try await load()
                for cluster in queues.keys { kick(cluster) }
            } else if l.holder == engineId {
                try await adoptPending()
            } else if leading {
                logger.warning("this engine lost the lease to \(l.holder)")
                yieldLeadership()
            }
        } catch {
            if leading {
                logger.warning("the lease could not be renewed (\(error)); this engine stops leading")
                yieldLeadership()
            }
        }
    }

    /// Queues pending operations another engine (a standby answering the API) stored since.
    func adoptPending() async throws {
        let pending = try await store.serviceOperations(
            ServiceOperationQuery(states: ["pending"], limit: 100_000, oldestFirst: true))
        for row in pending where live[row.id] == nil {
            guard let body = Self.decode(row) else { continue }
            live[row.id] = body
            queues[row.cluster, default: []].append(row.id)
            kick(row.cluster)
        }
    }

    func yieldLeadership() {
        leading = false
        for (_, t) in workers { t.cancel() }
    }

    /// Reads back what the store holds (see `start`).
    ///
    /// An operation that has started (its journal is open: it holds the cluster lock) goes first in its cluster's
    /// queue, ahead of operations that have not started, whatever their age: they would wait for its lock. A roll
    /// paused through the API after it started keeps that place, paused: its worker holds it before its next batch
    /// until it is resumed or cancelled, and the operations behind it wait in the queue (not at the lock).
    func load() async throws {
        queues = [:]
        let rows = try await store.serviceOperations(
            ServiceOperationQuery(states: ["pending", "running", "paused"], limit: 100_000, oldestFirst: true))
        var started: [String: [String]] = [:]
        for row in rows {
            guard var body = try? ServiceJSON.decoder().decode(OperationBody.self, from: row.body) else { continue }
            let holdsTheCluster = await hasStarted(row.id)
            switch body.summary.state {
            case .running:
                body.summary.state = .pending
                body.summary.progress.message = "resuming after an engine restart"
            case .paused where holdsTheCluster && body.summary.kind == .roll:
                holdAsked.insert(row.id)
                body.summary.progress.message = "paused: holds before its next batch"
            case .paused:
                // Not started: it waits outside the queue until resumed.
                live[row.id] = body
                continue
            default: break
            }
            live[row.id] = body
            if holdsTheCluster {
                started[row.cluster, default: []].append(row.id)
            } else {
                queues[row.cluster, default: []].append(row.id)
            }
        }
        for (cluster, ids) in started { queues[cluster] = ids + (queues[cluster] ?? []) }
        for kind in ["upscale", "downscale"] {
            for row in try await store.serviceOperations(ServiceOperationQuery(kind: kind, limit: 1000)) {
                let k = "\(row.cluster)/\(kind)"
                lastScale[k] = max(lastScale[k] ?? .distantPast, row.createdAt)
            }
        }
        // Pauses: the latest state of each pause-rollouts alert decides (newest rows first).
        var seen = Set<String>()
        for row in try await store.alerts(cluster: nil, limit: 10_000) {
            guard let cluster = row.cluster, !seen.contains(row.key.fingerprint) else { continue }
            seen.insert(row.key.fingerprint)
            guard row.key.status == "firing",
                let alert = try? JSONDecoder().decode(AlertmanagerAlert.self, from: row.body)
            else { continue }
            let intent = AlertIntent(alert, common: [:], commonAnnotations: [:])
            if intent.action == .pauseRollouts {
                pauses[cluster, default: [:]][row.key.fingerprint] = Pause(
                    reason: "alert \(alert.labels["alertname"] ?? row.key.fingerprint) is firing",
                    alert: alert.labels["alertname"], fingerprint: row.key.fingerprint, since: row.receivedAt)
            }
        }
    }

    /// Stops the workers (at shutdown); running operations stay `running` in the store and resume at the next
    /// start.
    public func stop() async {
        let running = Array(workers.values)
        for t in running { t.cancel() }
        // Wait for them: nothing of this engine may still call an agent or the cluster after it stopped.
        for t in running { await t.value }
    }

    // MARK: Reads

    public func cluster(_ name: String) throws(ServiceError) -> ServiceConfiguration.Cluster {
        guard let c = configuration.clusters.first(where: { $0.name == name }) else {
            throw ServiceError(
                .notFound,
                "there is no cluster \(name) in the configuration (its clusters: "
                    + configuration.clusters.map(\.name).joined(separator: ", ") + ")")
        }
        return c
    }

    public func readiness() async -> Readiness {
        do {
            _ = try await store.serviceOperations(ServiceOperationQuery(limit: 1))
            let holder = lease.flatMap { $0.holder.isEmpty || $0.expiresAt < Date() ? nil : $0.holder }
            return Readiness(
                ready: true, engine: engineId, leader: leading, leaderEngine: holder, leaseEpoch: lease?.epoch,
                store: store.location)
        } catch {
            return Readiness(
                ready: false, engine: engineId, leader: leading, store: store.location,
                reason: "the store does not answer: \(error.message)")
        }
    }

    public func operations(cluster: String?, state: ServiceOperationState?, kind: ServiceOperationKind?, limit: Int)
        async throws -> [OperationSummary]
    {
        let rows = try await store.serviceOperations(
            ServiceOperationQuery(
                cluster: cluster, kind: kind?.rawValue, states: state.map { [$0.rawValue] }, limit: limit))
        return rows.compactMap { row in live[row.id]?.summary ?? Self.decode(row)?.summary }
    }

    public func operation(_ id: String) async throws -> OperationDetail {
        guard let body = try await body(id) else { throw ServiceError(.notFound, "there is no operation \(id)") }
        let events = try await store.events(id).map {
            OperationEvent(at: $0.at, level: OperationEvent.Level(rawValue: $0.level) ?? .info, message: $0.message)
        }
        return OperationDetail(summary: body.summary, events: events)
    }

    func body(_ id: String) async throws -> OperationBody? {
        if let b = live[id] { return b }
        guard let row = try await store.serviceOperations(ServiceOperationQuery(id: id, limit: 1)).first else {
            return nil
        }
        return Self.decode(row)
    }

    static func decode(_ row: ServiceOperationRow) -> OperationBody? {
        try? ServiceJSON.decoder().decode(OperationBody.self, from: row.body)
    }

    public func status(_ name: String) async throws -> ClusterStatus {
        let c = try cluster(name)
        var health: ClusterHealth?
        var healthError: String?
        do {
            health = ClusterHealth(try await withAdmin(c) { try await $0.snapshot() })
        } catch {
            healthError = "\(error)"
        }
        let queue = try await store.serviceOperations(
            ServiceOperationQuery(
                cluster: name, states: ["pending", "running", "paused"], limit: 1000, oldestFirst: true))
        var lockHolder: String?
        if let id = health?.clusterId {
            lockHolder = try await store.clusterLockHolder(cluster: ClusterLock.name(clusterId: id, bootstrap: ""))
        }
        let paused = pausesOf(name)
        return ClusterStatus(
            name: name, leader: await readiness(), health: health, healthError: healthError,
            rollsPaused: !paused.isEmpty, pauses: paused, lockHolder: lockHolder,
            operations: queue.compactMap { live[$0.id]?.summary ?? Self.decode($0)?.summary })
    }

    /// What pauses rolls on a cluster now: firing pause-rollouts alerts, and the rollout-blocking alerts when more
    /// than the threshold fire.
    public func pausesOf(_ cluster: String) -> [Pause] {
        var list = (pauses[cluster] ?? [:]).values.sorted { $0.since < $1.since }
        let blockingCount = blocking[cluster]?.count ?? 0
        if blockingCount > policy.blockingAlertThreshold {
            list.append(
                Pause(
                    reason: "\(blockingCount) rollout-blocking alert(s) firing (threshold "
                        + "\(policy.blockingAlertThreshold))", alert: nil, fingerprint: nil, since: Date()))
        }
        return list
    }

    // MARK: Rebalance

    public func rebalance(_ name: String, _ request: RebalanceRequest) async throws -> (
        RebalanceResponse, created: Bool
    ) {
        let c = try cluster(name)
        if let t = request.throttleBytesPerSecond, t < 1 {
            throw ServiceError(.badRequest, "throttleBytesPerSecond must be at least 1, not \(t)")
        }
        // As openapi.yaml says, before the cluster is read: brokers name what add-brokers / remove-brokers add or
        // remove, and only they take them.
        let mode = request.mode ?? "rebalance"
        let named = !(request.brokers ?? []).isEmpty
        if let m = PlanMode(rawValue: mode), named != (m == .addBrokers || m == .removeBrokers) {
            throw ServiceError(
                .badRequest,
                named
                    ? "brokers applies only to the add-brokers and remove-brokers modes, not \(mode)"
                    : "\(mode) needs brokers: name the brokers to \(m == .addBrokers ? "add" : "remove")")
        }
        if let hash = request.proposalHash {
            guard request.dryRun == false else {
                throw ServiceError(.badRequest, "proposalHash executes a proposal: it needs \"dryRun\": false")
            }
            guard let cached = proposals[hash], cached.cluster == name else {
                throw ServiceError(
                    .conflict,
                    "this engine has no proposal \(hash) for cluster \(name) (dry-run proposals are kept in memory "
                        + "for the last \(policy.proposalsKept) dry runs); ask for a new dry run")
            }
            let op = try await create(
                cluster: name, kind: .rebalance, trigger: Trigger(source: .api, detail: "proposal \(hash)"),
                job: .init(
                    mode: cached.proposal.mode, hash: hash, moves: cached.proposal.moves,
                    throttleBytesPerSecond: request.throttleBytesPerSecond),
                total: cached.proposal.moves.count, unit: "moves")
            return (
                RebalanceResponse(
                    dryRun: false, hash: hash, proposal: cached.proposal, operationId: op.id, operation: op), true
            )
        }
        let proposal = try await plan(c, mode: mode, brokers: request.brokers, goals: request.goals)
        let hash = Proposal.canonicalHash(proposal.moves)
        remember(hash, cluster: name, proposal)
        guard request.dryRun == false else {
            return (RebalanceResponse(dryRun: true, hash: hash, proposal: proposal), false)
        }
        if let failed = proposal.firstFailedHardGoal {
            throw ServiceError(
                .unprocessable,
                "hard goal \(failed.name) is not met (\(failed.detail ?? "")): the proposal is not executed")
        }
        let op = try await create(
            cluster: name, kind: .rebalance, trigger: Trigger(source: .api, detail: "proposal \(hash)"),
            job: .init(
                mode: proposal.mode, hash: hash, moves: proposal.moves,
                throttleBytesPerSecond: request.throttleBytesPerSecond),
            total: proposal.moves.count, unit: "moves")
        return (
            RebalanceResponse(dryRun: false, hash: hash, proposal: proposal, operationId: op.id, operation: op), true
        )
    }

    func remember(_ hash: String, cluster: String, _ proposal: Proposal) {
        if proposals[hash] == nil { proposalOrder.append(hash) }
        proposals[hash] = (cluster, proposal)
        while proposalOrder.count > policy.proposalsKept { proposals[proposalOrder.removeFirst()] = nil }
    }

    func plan(_ c: ServiceConfiguration.Cluster, mode: String, brokers: [Int]?, goals: [String]?) async throws
        -> Proposal
    {
        guard let planMode = PlanMode(rawValue: mode) else {
            throw ServiceError(
                .badRequest,
                "mode \(mode) is unknown; use one of \(PlanMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var request = PlanRequest()
        request.mode = planMode
        request.brokers = brokers ?? []
        request.policy = .default
        if let goals {
            do { request.policy.goals = try PlannerPolicy.parseGoals(goals.joined(separator: ",")) } catch {
                throw ServiceError(.badRequest, error.description)
            }
        }
        let model = try await withAdmin(c) { admin in
            ClusterModel(
                snapshot: try await admin.snapshot(), logDirs: try await admin.describeLogDirs(), rackCluster: c.racks)
        }
        // Well-formed ids the cluster does not have: not acceptable now (422), rather than malformed.
        let known = Set(model.brokerIds)
        if let unknown = brokers?.filter({ !known.contains($0) }), !unknown.isEmpty {
            throw ServiceError(
                .unprocessable,
                "brokers \(unknown.map(String.init).joined(separator: ",")) are not in cluster \(c.name) (its brokers: "
                    + known.sorted().map(String.init).joined(separator: ",") + ")")
        }
        let result: Planner.Result
        do {
            result = try await Planner.plan(model, request)
        } catch {
            throw ServiceError(error.kind == .badInput ? .badRequest : .unprocessable, error.description)
        }
        var proposal = result.proposal
        proposal.hash = proposal.canonicalHash
        return proposal
    }

    // MARK: Operations: create, pause, resume, cancel

    func create(
        cluster: String, kind: ServiceOperationKind, trigger: Trigger, job: OperationBody.Job, total: Int, unit: String,
        key: String? = nil, now: Date = Date()
    ) async throws -> OperationSummary {
        let id = "\(kind.rawValue)-\(Int(now.timeIntervalSince1970))-\(UUID().uuidString.prefix(8).lowercased())"
        let summary = OperationSummary(
            id: id, cluster: cluster, kind: kind, state: .pending, trigger: trigger, createdAt: now, updatedAt: now,
            progress: Progress(done: 0, total: total, unit: unit, message: "queued"))
        let body = OperationBody(summary: summary, job: job)
        try await write(body, key: key)
        live[id] = body
        queues[cluster, default: []].append(id)
        metrics.operationCreated(kind: kind.rawValue)
        try? await event(id, "created by \(trigger.source.rawValue)\(trigger.detail.map { ": \($0)" } ?? "")")
        kick(cluster)
        return summary
    }

    func write(_ body: OperationBody, key: String? = nil) async throws {
        let data = try ServiceJSON.encoder().encode(body)
        try await store.putServiceOperation(
            ServiceOperationRow(
                id: body.summary.id, cluster: body.summary.cluster, kind: body.summary.kind.rawValue,
                state: body.summary.state.rawValue, key: key, createdAt: body.summary.createdAt, body: data))
    }

    /// Changes a live operation and writes it.
    @discardableResult
    func update(_ id: String, _ change: (inout OperationBody) -> Void) async throws -> OperationBody? {
        guard var body = live[id] else { return nil }
        let before = body.summary.state
        change(&body)
        body.summary.updatedAt = Date()
        live[id] = body
        if body.summary.state.isFinal {
            live[id] = nil
            for w in waiters.removeValue(forKey: id) ?? [] { w.resume(returning: body.summary) }
        }
        if before != body.summary.state {
            metrics.operationState(
                kind: body.summary.kind.rawValue, from: before.rawValue, to: body.summary.state.rawValue)
        }
        let previous = writes[id]
        let written = Task { [body] in
            _ = await previous?.result
            try await self.write(body)
        }
        // Nothing is written after the final state (the operation is no longer live).
        writes[id] = body.summary.state.isFinal ? nil : written
        try await written.value
        return body
    }

    func event(_ id: String, _ message: String, level: OperationEvent.Level = .info) async throws {
        try await store.appendEvent(
            id, ServiceEventRow(at: Date(), level: level.rawValue, message: message), keep: policy.eventsKept)
    }

    /// Whether the operation's runner has begun its journal and not ended it: it holds (or is about to take) the
    /// cluster lock, so nothing else of its cluster can run before it ends.
    func hasStarted(_ id: String) async -> Bool {
        (try? await store.operation(id))?.status == .running
    }

    public func pause(_ id: String) async throws -> OperationSummary {
        let body = try await existing(id)
        let started = body.summary.state == .pending ? await hasStarted(id) : false
        switch body.summary.state {
        case .pending where started && body.summary.kind == .roll:
            // A started roll waiting for its worker (after an engine restart) keeps its place and the cluster: its
            // worker holds it before its next batch.
            holdAsked.insert(id)
            let b = try await update(id) {
                $0.summary.state = .paused
                $0.summary.progress.message = "paused: holds before its next batch"
            }
            try? await event(id, "paused: the roll holds before its next batch")
            return b!.summary
        case .pending where started:
            throw ServiceError(
                .conflict,
                "operation \(id) has started (it resumes after an engine restart) and a started "
                    + "\(body.summary.kind.rawValue) cannot pause; cancel it (moves in flight are cancelled and throttles "
                    + "restored)")
        case .pending:
            queues[body.summary.cluster]?.removeAll { $0 == id }
            let b = try await update(id) {
                $0.summary.state = .paused; $0.summary.progress.message = "paused"
            }
            try? await event(id, "paused")
            return b!.summary
        case .paused: return body.summary
        case .running where body.summary.kind == .roll:
            // The roll finishes the batch it is in, then holds at its safety gate until resumed.
            holdAsked.insert(id)
            let b = try await update(id) {
                $0.summary.state = .paused
                $0.summary.progress.message = "paused: holds before its next batch"
            }
            try? await event(id, "paused: the roll holds before its next batch (a batch under way finishes first)")
            return b!.summary
        case .running:
            throw ServiceError(
                .conflict,
                "operation \(id) is running and a running \(body.summary.kind.rawValue) cannot pause; cancel it "
                    + "(moves in flight are cancelled and throttles restored)")
        default: throw ServiceError(.conflict, "operation \(id) already ended (\(body.summary.state.rawValue))")
        }
    }

    public func resume(_ id: String) async throws -> OperationSummary {
        let body = try await existing(id)
        switch body.summary.state {
        case .paused where rolling.contains(id):
            // A roll held in its worker goes on from where it holds.
            holdAsked.remove(id)
            let b = try await update(id) {
                $0.summary.state = .running; $0.summary.progress.message = "resumed"
            }
            try? await event(id, "resumed")
            return b!.summary
        case .paused where holdAsked.contains(id):
            // A started roll, paused, still waiting in its place at the head of the queue.
            holdAsked.remove(id)
            let b = try await update(id) {
                $0.summary.state = .pending; $0.summary.progress.message = "resumed: waiting for its worker"
            }
            try? await event(id, "resumed")
            kick(body.summary.cluster)
            return b!.summary
        case .paused:
            // Not started: it rejoins the queue at its end.
            let b = try await update(id) {
                $0.summary.state = .pending; $0.summary.progress.message = "queued"
            }
            queues[body.summary.cluster, default: []].append(id)
            try? await event(id, "resumed")
            kick(body.summary.cluster)
            return b!.summary
        case .pending, .running: return body.summary
        default: throw ServiceError(.conflict, "operation \(id) already ended (\(body.summary.state.rawValue))")
        }
    }

    public func cancel(_ id: String) async throws -> OperationSummary {
        let body = try await existing(id)
        if body.summary.state == .running || (body.summary.state == .paused && rolling.contains(id)) {
            // A running operation stops at its next safe point (a roll: before its next batch).
            stopAsked.insert(id)
            try? await store.requestStop(id, at: Date())
            try? await event(id, "cancel asked: stopping at the next safe point")
            return body.summary
        }
        switch body.summary.state {
        case .pending, .paused:
            queues[body.summary.cluster]?.removeAll { $0 == id }
            holdAsked.remove(id)
            // A roll paused across an engine restart has a journal under way: it ends, and the cluster lock goes.
            if let record = try? await store.operation(id), record.status == .running {
                try? await store.record(id, batch: 0, node: nil, .failed, detail: "cancelled")
            }
            let b = try await update(id) {
                $0.summary.state = .cancelled
                $0.summary.progress.message = "cancelled"
            }
            try? await event(id, "cancelled")
            return b!.summary
        default: throw ServiceError(.conflict, "operation \(id) already ended (\(body.summary.state.rawValue))")
        }
    }

    /// Returns once the operation has ended (at once when it has).
    public func finished(_ id: String) async throws -> OperationSummary {
        let body = try await existing(id)
        if body.summary.state.isFinal { return body.summary }
        return await withCheckedContinuation { waiters[id, default: []].append($0) }
    }

    func existing(_ id: String) async throws -> OperationBody {
        guard let b = try await body(id) else { throw ServiceError(.notFound, "there is no operation \(id)") }
        return b
    }

    // MARK: Workers

    func kick(_ cluster: String) {
        guard leading, workers[cluster] == nil, !(queues[cluster] ?? []).isEmpty else { return }
        workers[cluster] = Task { await self.drain(cluster) }
    }

    func drain(_ cluster: String) async {
        while !Task.isCancelled, leading, let id = queues[cluster]?.first {
            queues[cluster]?.removeFirst()
            await run(id)
        }
        workers[cluster] = nil
        // Something may have queued while the last operation ran its final write.
        kick(cluster)
    }

    func run(_ id: String) async {
        guard let body = live[id] else { return }
        // A started roll paused through the API runs paused: its runner holds it before its next batch.
        let heldRoll = body.summary.state == .paused && holdAsked.contains(id)
        guard body.summary.state == .pending || heldRoll else { return }
        do {
            if heldRoll {
                try? await event(id, "taken up by engine \(engineId), paused: it holds before its next batch")
            } else {
                try await update(id) {
                    $0.summary.state = .running
                    $0.summary.progress.message = "running"
                }
                try? await event(id, "started by engine \(engineId)")
            }
            let outcome = try await runRetrying(id)
            try await update(id) {
                $0.summary.state = outcome.0
                $0.summary.progress.message = outcome.1
                if outcome.0 == .failed { $0.summary.error = outcome.1 }
            }
            try? await event(id, outcome.1, level: outcome.0 == .failed ? .error : .info)
        } catch  where error is CancellationError || Task.isCancelled || !leading {
            // The engine stops or lost the lease: the operation stays running in the store; the next leader (or
            // this engine's next start) resumes it from its journal.
        } catch {
            let message = "\(error)"
            _ = try? await update(id) {
                $0.summary.state = .failed
                $0.summary.error = message
                $0.summary.progress.message = message
            }
            try? await event(id, message, level: .error)
        }
        stopAsked.remove(id)
    }

    /// Runs the operation's runner; when the cluster or an agent cannot be reached (a broker restarting, a loaded
    /// network), runs it again up to 5 times, 5 s apart: every runner resumes from what it journaled (a rebalance
    /// from its moves' states, a scale from the brokers it chose and the agent request id), so a retry never
    /// repeats a move, a restart or a scale.
    func runRetrying(_ id: String) async throws -> (ServiceOperationState, String) {
        var attempt = 1
        while true {
            guard let body = live[id] else { return (.failed, "the operation is gone") }
            do {
                switch body.summary.kind {
                case .rebalance: return try await runRebalance(id, body)
                case .upscale, .downscale: return try await runScale(id, body)
                case .config: return try await runConfig(id, body)
                case .roll: return try await runRoll(id, body)
                default: return (.failed, "this engine cannot run \(body.summary.kind.rawValue) operations yet")
                }
            } catch  where attempt < 5 && Self.isTransient(error) && !isStopAsked(id) {
                try? await event(
                    id, "attempt \(attempt) could not reach what it needs (\(error)); retrying", level: .warning)
                attempt += 1
                try await Task.sleep(for: .seconds(5))
            }
        }
    }

    static func isTransient(_ error: any Error) -> Bool {
        if let e = error as? ServiceError { return e.status == .unavailable }
        if let e = error as? any CategorizedError { return e.category == .unreachable }
        return false
    }

    /// `unit` changes what done/total count (a scale operation counts brokers, then the moves that empty or fill them).
    func progress(_ id: String, done: Int, total: Int, unit: String? = nil, message: String) async {
        _ = try? await update(id) {
            $0.summary.progress.done = done
            $0.summary.progress.total = total
            if let unit { $0.summary.progress.unit = unit }
            $0.summary.progress.message = message
        }
    }

    func isStopAsked(_ id: String) -> Bool { stopAsked.contains(id) }

    // MARK: Running a rebalance

    /// Executes a proposal's moves with the rebalance executor; when the store has its journal already (an engine
    /// restart), resumes it instead: moves done are not started again, moves in flight are followed.
    func runRebalance(_ id: String, _ body: OperationBody) async throws -> (ServiceOperationState, String) {
        let c = try cluster(body.summary.cluster)
        let moves = body.job.moves ?? []
        guard !moves.isEmpty else { return (.succeeded, "nothing to move") }
        if let problem = Proposal.executionProblem(moves) { return (.failed, problem) }
        let report = try await executeMoves(
            id, c, mode: body.job.mode ?? "rebalance", moves: moves, throttle: body.job.throttleBytesPerSecond)
        if isStopAsked(id) || report.outcome == .stopped { return (.cancelled, "cancelled: \(report.summary)") }
        return report.isClean ? (.succeeded, "done: \(report.done) move(s)") : (.failed, report.summary)
    }

    func executeMoves(
        _ id: String, _ c: ServiceConfiguration.Cluster, mode: String, moves: [Proposal.Move], throttle: Int64?
    ) async throws -> RebalanceReport {
        let planned = Proposal.plannedMoves(moves)
        let hash = Proposal.canonicalHash(moves)
        var options = policy.rebalance
        if let throttle { options.throttleBytesPerSecond = throttle }
        let bootstrap = c.bootstrap.joined(separator: ",")
        let store = self.store
        let logger = self.logger
        let metrics = self.metrics
        return try await withAdmin(c) { admin in
            let snapshot = try await admin.snapshot()
            let lock = ClusterLock.name(clusterId: snapshot.clusterId, bootstrap: bootstrap)
            var resume: RebalanceResumeState?
            if let record = try await store.operation(id), record.kind == .rebalance {
                resume = try await RebalanceResumeState.load(from: store, operationId: id)
                if record.status != .running {
                    throw ServiceError(.conflict, "the rebalance journal of \(id) already ended")
                }
            } else {
                let spec = RebalanceSpec(
                    bootstrap: bootstrap, cluster: lock, mode: mode, hash: hash, moves: planned, options: options)
                try await store.begin(operationId: id, kind: .rebalance, spec: try spec.encoded(), at: Date())
            }
            try await self.awaitLock(id, store: store, lock: lock)
            var executor = RebalanceExecutor(
                operationId: id, moves: resume?.spec.moves ?? planned, hash: resume?.spec.hash ?? hash,
                options: resume?.spec.options ?? options, cluster: KafkaAdminRebalanceCluster(admin: admin),
                store: store, resume: resume, clock: ContinuousClock(), logger: logger)
            // A cancel reaches the runner in memory, or through the store when another engine answered it.
            executor.stopRequested = {
                if await self.isStopAsked(id) { return true }
                return (try? await store.operation(id))?.stopRequestedAt != nil
            }
            let total = planned.count
            return try await executor.run { event in
                switch event {
                case .progress(let p):
                    metrics.reassignmentBytesRemaining(cluster: c.name, max(0, p.bytesTotal - p.bytesDone))
                    Task {
                        await self.progress(
                            id, done: p.done, total: total, unit: "moves",
                            message: "\(p.done)/\(total) moves done, \(p.inFlight) in flight")
                    }
                case .finished:
                    metrics.reassignmentBytesRemaining(cluster: c.name, 0)
                default:
                    Task { try? await self.event(id, "\(event)") }
                }
            }
        }
    }

    /// Takes the cluster lock; while another operation (a CLI roll or rebalance) holds it, waits and says so.
    func awaitLock(_ id: String, store: any OperationsStore, lock: String) async throws {
        var said = false
        while true {
            guard let holder = try await store.acquireClusterLock(cluster: lock, operationId: id, at: Date()) else {
                return
            }
            if !said {
                try? await event(id, "waiting: Kafka cluster \(lock) is locked by operation \(holder)")
                said = true
            }
            if isStopAsked(id) { throw ServiceError(.conflict, "cancelled while waiting for the cluster lock") }
            try await Task.sleep(for: policy.pollInterval)
        }
    }

    /// Runs `body` with a fresh admin client for the cluster (secrets read from their files now, never logged).
    func withAdmin<T: Sendable>(_ c: ServiceConfiguration.Cluster, _ body: (KafkaAdmin) async throws -> T) async throws
        -> T
    {
        let admin: KafkaAdmin
        do {
            admin = try KafkaAdmin(configuration: try TopologyProbe.adminConfiguration(c))
        } catch {
            throw ServiceError(.unavailable, "cluster \(c.name) cannot be reached: \(error)")
        }
        let result: Result<T, any Error>
        do { result = .success(try await body(admin)) } catch { result = .failure(error) }
        await admin.shutdown()
        return try result.get()
    }
}
