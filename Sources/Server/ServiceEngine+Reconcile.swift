import AgentContract
import BallastStore
import ConfigPlanning
import Crypto
import Foundation
import KafkaAdmin
import KafkaModel
import KafkaPolicies
import Logging
import Operations
import Roller
import ServiceConfig
public import ServiceContract

/// Reconcile: the operator's desired state (broker configs cluster-wide and per broker, the broker ids of each pool,
/// a restart generation) against the live cluster.
///
/// - Configs Kafka takes live, and nothing to restart: one `config` operation (the config applier).
/// - Configs that need a restart (read-only keys, on the nodes whose value differs), or a restart generation not
///   rolled yet (every node the agents manage): one `roll` operation that applies the live part, then rolls the
///   nodes that need it with the roll runner (the same safety gate, journal and resume as `ballast roll`).
/// - A pool whose desired broker ids differ from its brokers: one `upscale` or `downscale` operation per pool (the
///   scale flows the alerts use), queued after the roll or config operation.
///
/// Idempotent: the same desired state answers the operations it created (keyed by its SHA-256); a desired state
/// the live cluster already has (and a generation already rolled) is a no-op. A target that cannot be reached
/// safely (an unknown pool, a controller removed, fewer brokers left than a topic's replication factor, beyond the
/// pool's limits, an addition and a removal in one pool) is 422 naming why, before anything is stored.
extension ServiceEngine {
    public func reconcile(_ name: String, _ request: ReconcileRequest) async throws -> (
        ReconcileResponse, created: Bool
    ) {
        let c = try cluster(name)
        if let g = request.restart?.generation, g < 0 {
            throw ServiceError(.badRequest, "restart.generation must be 0 or more, not \(g)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let canonical = try encoder.encode(request)
        let hash = "sha256:" + SHA256.hash(data: canonical).map { String(format: "%02x", $0) }.joined()
        let key = "reconcile:\(name):\(hash)"
        let pools = (request.pools ?? [:]).sorted { $0.key < $1.key }
        let plans = try await configPlans(c, request)
        var existing: [OperationBody] = []
        for k in [key] + pools.map({ "\(key)/pool:\($0.key)" }) {
            if let row = try await store.serviceOperations(ServiceOperationQuery(key: k, limit: 1)).first,
                let body = live[row.id] ?? Self.decode(row)
            {
                existing.append(body)
            }
        }
        let ended = existing.filter { $0.summary.state == .failed || $0.summary.state == .cancelled }
        if let first = existing.first, ended.isEmpty {
            return (
                ReconcileResponse(
                    noop: false, existing: true, desiredHash: hash,
                    plan: Self.reconcilePlan(plans, request, roll: nil, scales: []), operationId: first.summary.id,
                    operation: first.summary, operations: existing.map(\.summary)), false
            )
        }
        // An operation for this desired state failed or was cancelled: the desired state is diffed again (what is
        // done is no longer a difference), except that a roll whose restarts left read-only values not in effect is
        // not repeated for the same desired state.
        if let problem = plans.flatMap(\.plan.problems).first {
            throw ServiceError(.unprocessable, "the desired configs cannot be applied as given: \(problem)")
        }
        let restart = Set(plans.flatMap(\.plan.restartNodes).map(Int.init))
        if !restart.isEmpty, let failed = ended.first(where: { $0.job.notInEffect != nil }) {
            throw ServiceError(
                .conflict,
                "operation \(failed.summary.id) rolled this desired state and its read-only config is not in effect: "
                    + (failed.job.notInEffect ?? []).joined(separator: "; ")
                    + ". The brokers read their old static configuration at their restart, so rolling them again "
                    + "would change nothing: change server.properties (the ConfigMap or pod template), then post the "
                    + "desired state with a higher restart.generation")
        }
        let scales = try await scalePlan(c, pools)
        var generation: Int64?
        if let g = request.restart?.generation {
            let rolled = try await lastRolledGeneration(name)
            if rolled == nil || rolled! < g { generation = g }
        }
        var roll: RollPreview?
        if generation != nil || !restart.isEmpty {
            roll = try await rollPreview(c, nodes: generation == nil ? restart : nil)
        }
        let plan = Self.reconcilePlan(plans, request, roll: roll, scales: scales)
        var created: [OperationSummary] = []
        let again = ended.map { "\($0.summary.id) \($0.summary.state.rawValue)" }.joined(separator: ", ")
        let trigger = Trigger(source: .reconcile, detail: ended.isEmpty ? hash : "\(hash), again after \(again)")
        let desired = String(decoding: canonical, as: UTF8.self)
        if let roll {
            created.append(
                try await create(
                    cluster: name, kind: .roll, trigger: trigger,
                    job: .init(
                        brokers: generation == nil ? roll.nodes : nil, generation: generation, reconcile: desired),
                    total: roll.nodes.count, unit: "nodes", key: key))
        } else if plan.configChanges.contains(where: { $0.action == "dynamic" }) {
            created.append(
                try await create(
                    cluster: name, kind: .config, trigger: trigger, job: .init(reconcile: desired),
                    total: plan.configChanges.count, unit: "configs", key: key))
        }
        for s in scales {
            let up = s.direction == "up"
            created.append(
                try await create(
                    cluster: name, kind: up ? .upscale : .downscale, trigger: trigger,
                    job: .init(pool: s.pool, count: up ? s.add.count : s.remove.count, brokers: up ? nil : s.remove),
                    total: up ? s.add.count : s.remove.count, unit: "brokers", key: "\(key)/pool:\(s.pool)"))
        }
        guard let first = created.first else {
            return (
                ReconcileResponse(
                    noop: true, existing: false, desiredHash: hash, plan: plan, operationId: nil, operation: nil),
                false
            )
        }
        return (
            ReconcileResponse(
                noop: false, existing: false, desiredHash: hash, plan: plan, operationId: first.id, operation: first,
                operations: created),
            true
        )
    }

    /// The newest restart generation a roll of this cluster carried out (every node restarted: it succeeded, or
    /// failed only because read-only values were not in effect afterwards).
    func lastRolledGeneration(_ cluster: String) async throws -> Int64? {
        let rows = try await store.serviceOperations(
            ServiceOperationQuery(
                cluster: cluster, kind: ServiceOperationKind.roll.rawValue, states: ["succeeded", "failed"],
                limit: 10_000))
        return rows.compactMap { row in
            Self.decode(row).flatMap {
                $0.summary.state == .succeeded || $0.job.notInEffect != nil ? $0.job.generation : nil
            }
        }.max()
    }

    /// The nodes a roll restarts and its batches as the gate plans them now (the live roll plans again before
    /// every batch).
    struct RollPreview: Sendable {
        var nodes: [Int]
        var batches: [[Int]]?
    }

    /// `nodes` nil: every node the agents manage (a restart generation).
    func rollPreview(_ c: ServiceConfiguration.Cluster, nodes: Set<Int>?) async throws -> RollPreview {
        guard !c.agents.isEmpty else {
            throw ServiceError(
                .unprocessable, "cluster \(c.name) has no agents in the configuration: a roll cannot restart anything")
        }
        var agentNodes: [AgentNode] = []
        for a in c.agents {
            let client = HTTPAgentClient(endpoint: a.url, token: try a.token(), timeoutSeconds: 60)
            do {
                agentNodes += try await client.nodes()
            } catch {
                throw ServiceError(.unavailable, "agent \(a.name) could not list its nodes: \(error)")
            }
        }
        let managed = Set(agentNodes.map { Int($0.id) })
        if let unmanaged = nodes?.subtracting(managed).sorted(), !unmanaged.isEmpty {
            throw ServiceError(
                .unprocessable,
                "node(s) \(unmanaged.map(String.init).joined(separator: ",")) need a restart but no agent of cluster "
                    + "\(c.name) manages them")
        }
        let toRoll = nodes ?? managed
        let snapshot = try await withAdmin(c) { try await $0.snapshot() }
        let planner = BatchPlanner(
            snapshot: snapshot, nodes: agentNodes.map(\.nodeInfo), options: policy.roll,
            nowMillis: Int64(Date().timeIntervalSince1970 * 1000))
        let batches = planner.plan(nodes: Set(toRoll.map(Int32.init))).batches.map { $0.nodes.map(Int.init) }
        return RollPreview(nodes: toRoll.sorted(), batches: batches.isEmpty ? nil : batches)
    }

    /// Each pool's broker-set change, checked: an agent manages the pool, one direction at a time, within the pool's
    /// limits, a downscale by the pool's highest ids that removes no controller and leaves every topic enough
    /// brokers. The pool's brokers are the broker nodes of the agent that manages it.
    func scalePlan(_ c: ServiceConfiguration.Cluster, _ pools: [(key: String, value: [Int])]) async throws
        -> [ReconcilePlan.Scale]
    {
        guard !pools.isEmpty else { return [] }
        let snapshot = try await withAdmin(c) { try await $0.snapshot() }
        var out: [ReconcilePlan.Scale] = []
        for (name, ids) in pools {
            func refuse(_ why: String) -> ServiceError { ServiceError(.unprocessable, "pools.\(name): \(why)") }
            guard Set(ids).count == ids.count, ids.allSatisfy({ $0 >= 0 }) else {
                throw ServiceError(.badRequest, "pools.\(name): broker ids must be distinct and not negative")
            }
            let (agent, _) = try await findPool(c, name)
            let current = Set(
                try await retrying("the nodes of pool \(name)") { try await agent.nodes() }.filter {
                    $0.roles.contains(.broker)
                }.map { Int($0.id) })
            let desired = Set(ids)
            let add = desired.subtracting(current).sorted()
            let remove = current.subtracting(desired).sorted()
            if add.isEmpty && remove.isEmpty { continue }
            if !add.isEmpty && !remove.isEmpty {
                throw refuse(
                    "adds \(add) and removes \(remove) at once; a pool scales in one direction at a time (send the "
                        + "removal, then the addition)")
            }
            let limits = c.pools[name]
            if let max = limits?.max, desired.count > max {
                throw refuse("\(desired.count) brokers is above the pool's maximum of \(max)")
            }
            if let min = limits?.min, desired.count < min {
                throw refuse("\(desired.count) brokers is below the pool's minimum of \(min)")
            }
            if !remove.isEmpty {
                let highest = Array(current.sorted().suffix(remove.count))
                guard highest == remove else {
                    throw refuse("a pool scales down by its highest ids (\(highest)); \(remove) cannot be removed")
                }
                if let why = Self.downscaleRefusal(snapshot, removing: remove) { throw refuse(why) }
            }
            out.append(.init(pool: name, direction: add.isEmpty ? "down" : "up", add: add, remove: remove))
        }
        return out
    }

    /// openapi.yaml's `kafkaVersion` pattern: `MAJOR.MINOR[.PATCH]` (up to 9 digits each), then optionally `-` or
    /// `+` and a suffix of letters, digits, `.`, `+`, `-` ("3.9.1-SNAPSHOT"): what a request may name, stricter than
    /// the parser that also reads config dumps.
    static func isVersionText(_ v: String) -> Bool {
        let numeric = v.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let parts = numeric.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ (1...9).contains($0.count) }) else {
            return false
        }
        let suffix = v.dropFirst(numeric.count)
        guard let first = suffix.first else { return true }
        return (first == "-" || first == "+")
            && suffix.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
    }

    /// One classified plan for the cluster-wide configs (every broker) and one per broker with its own configs.
    func configPlans(_ c: ServiceConfiguration.Cluster, _ request: ReconcileRequest) async throws
        -> [(plan: ConfigChangePlan, current: CurrentClusterConfig)]
    {
        let cluster = request.configs?.cluster ?? [:]
        let brokers = request.configs?.brokers ?? [:]
        // Checked even when no config changes: a request is refused for what it says, whatever else it asks.
        var requested: KafkaVersion?
        if let v = request.kafkaVersion {
            guard Self.isVersionText(v), let parsed = KafkaVersion(v) else {
                throw ServiceError(.badRequest, "kafkaVersion '\(v)' is not a version like 4.1 or 3.9.1")
            }
            requested = parsed
        }
        if cluster.isEmpty && brokers.isEmpty { return [] }
        var perBroker: [(Int32, [String: String])] = []
        for (id, configs) in brokers.sorted(by: { $0.key < $1.key }) {
            // As openapi.yaml's pattern says: decimal, no sign or leading zero (so one broker has one key).
            guard let n = Int32(id), n >= 0, String(n) == id else {
                throw ServiceError(.badRequest, "configs.brokers: '\(id)' is not a broker id")
            }
            perBroker.append((n, configs))
        }
        return try await withAdmin(c) { admin in
            let current = try await KafkaAdminConfigClient(admin: admin).currentConfig()
            let version = KafkaVersionChoice(requested: requested, dumped: nil, current: current)
            let classifier = ConfigClassifier(version: version.version)
            func desired(_ configs: [String: String]) -> DesiredConfig {
                DesiredConfig(
                    entries: configs.sorted { $0.key < $1.key }.enumerated().map { i, kv in
                        DesiredConfig.Entry(key: kv.key, value: kv.value, line: i + 1)
                    })
            }
            var plans: [(ConfigChangePlan, CurrentClusterConfig)] = []
            if !cluster.isEmpty {
                plans.append((classifier.plan(desired: desired(cluster), current: current), current))
            }
            for (id, configs) in perBroker {
                guard current.nodes[id] != nil else {
                    throw ServiceError(.unprocessable, "configs.brokers.\(id): broker \(id) is not in the cluster")
                }
                plans.append((classifier.plan(desired: desired(configs), current: current, nodes: [id]), current))
            }
            return plans
        }
    }

    static func reconcilePlan(
        _ plans: [(plan: ConfigChangePlan, current: CurrentClusterConfig)], _ request: ReconcileRequest,
        roll: RollPreview?, scales: [ReconcilePlan.Scale]
    ) -> ReconcilePlan {
        var changes: [ReconcilePlan.ConfigChange] = []
        for (plan, _) in plans {
            for ch in plan.changes {
                changes.append(
                    .init(
                        key: ch.key, scope: ch.scope.rawValue, action: ch.action.rawValue,
                        nodes: ch.nodes.map(Int.init),
                        value: ch.isSensitive ? "(sensitive)" : ch.to))
            }
        }
        let restart = roll?.nodes ?? Set(plans.flatMap(\.plan.restartNodes)).sorted().map(Int.init)
        func ids(_ list: [Int]) -> String { list.map(String.init).joined(separator: ",") }
        var steps: [String] = []
        let live = changes.filter { $0.action == "dynamic" }
        if !live.isEmpty {
            steps.append("apply \(live.count) config change(s) live: \(live.map(\.key).joined(separator: ", "))")
        }
        if !restart.isEmpty {
            let keys = Set(changes.filter { $0.action == "restart" }.map(\.key)).sorted()
            var text = "roll node(s) \(ids(restart))"
            text +=
                keys.isEmpty
                ? " for restart generation \(request.restart?.generation ?? 0)" : " for \(keys.joined(separator: ", "))"
            if let batches = roll?.batches {
                text +=
                    " in \(batches.count) batch(es) as the gate plans them now: "
                    + batches.map { "[\(ids($0))]" }.joined(separator: " ")
            }
            steps.append(text)
        }
        for s in scales {
            steps.append(
                s.direction == "up"
                    ? "scale pool \(s.pool) up by \(s.add.count) (desired ids \(ids(s.add)); the pool assigns its next "
                        + "ids), wait for them to register, move replicas onto them (add-brokers)"
                    : "drain broker(s) \(ids(s.remove)) of pool \(s.pool) (remove-brokers), check they host nothing, "
                        + "then scale the pool down by \(s.remove.count)")
        }
        return ReconcilePlan(
            configChanges: changes, restartNodes: restart, restartReason: request.restart?.reason,
            batches: roll?.batches, scale: scales, steps: steps)
    }

    /// Applies a desired state's dynamic changes as the cluster is now (validated first, verified after, rolled back
    /// per key when Kafka refuses part-way); `failure` says what was not applied.
    func applyLive(_ id: String, _ c: ServiceConfiguration.Cluster, _ request: ReconcileRequest) async throws -> (
        applied: Int, total: Int, failure: String?
    ) {
        let plans = try await configPlans(c, request)
        var applied = 0
        var total = 0
        let logger = self.logger
        for (plan, current) in plans where plan.changes.contains(where: { $0.action == .dynamic }) {
            let report = try await withAdmin(c) { admin in
                try await ConfigApplier(client: KafkaAdminConfigClient(admin: admin), logger: logger).apply(
                    plan, current: current)
            }
            total += report.results.count
            applied += report.results.filter { $0.status == .applied }.count
            for r in report.results {
                try? await event(
                    id, "\(r.key): \(r.status.rawValue)\(r.message.map { " (\($0))" } ?? "")",
                    level: r.status == .applied ? .info : .error)
            }
            if !report.succeeded {
                return (applied, total, "\(total - applied) config change(s) not applied (see the events)")
            }
        }
        return (applied, total, nil)
    }

    /// Runs a reconcile's config operation: classifies again against the cluster as it is now and applies the
    /// dynamic changes.
    func runConfig(_ id: String, _ body: OperationBody) async throws -> (ServiceOperationState, String) {
        let c = try cluster(body.summary.cluster)
        guard let text = body.job.reconcile,
            let request = try? JSONDecoder().decode(ReconcileRequest.self, from: Data(text.utf8))
        else { return (.failed, "the operation holds no desired state") }
        let result = try await applyLive(id, c, request)
        await progress(
            id, done: result.applied, total: result.total,
            message: "\(result.applied)/\(result.total) config change(s) applied")
        if let failure = result.failure { return (.failed, failure) }
        return (.succeeded, "\(result.applied) config change(s) applied live, no restart")
    }
}
