import BallastStore
import ConfigPlanning
import Crypto
import Foundation
import KafkaAdmin
import KafkaModel
import KafkaPolicies
import Logging
import Operations
import ServiceConfig
public import ServiceContract

/// Reconcile, as far as it is built: broker configs (cluster-wide and per broker) whose changes Kafka takes live
/// are applied live by the config applier, as one `config` operation. A desired state that needs a restart, a
/// broker-set change or a restart generation is refused (501) naming what: rolls and scales from reconcile are
/// not built yet. Idempotent: the same desired state answers the operation it created; a desired state the live
/// cluster already has is a no-op.
extension ServiceEngine {
    public func reconcile(_ name: String, _ request: ReconcileRequest) async throws -> (
        ReconcileResponse, created: Bool
    ) {
        let c = try cluster(name)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let canonical = try encoder.encode(request)
        let hash = "sha256:" + SHA256.hash(data: canonical).map { String(format: "%02x", $0) }.joined()
        let key = "reconcile:\(name):\(hash)"
        let plans = try await configPlans(c, request)
        let plan = Self.reconcilePlan(plans, request)
        if let row = try await store.serviceOperations(ServiceOperationQuery(key: key, limit: 1)).first,
            let body = live[row.id] ?? Self.decode(row)
        {
            return (
                ReconcileResponse(
                    noop: false, existing: true, desiredHash: hash, plan: plan, operationId: row.id,
                    operation: body.summary), false
            )
        }
        if let problem = plans.flatMap(\.plan.problems).first {
            throw ServiceError(.unprocessable, "the desired configs cannot be applied as given: \(problem)")
        }
        if let generation = request.restart?.generation {
            throw ServiceError(
                .notImplemented,
                "restart generation \(generation) asks for a roll; rolls from reconcile are not built in this engine yet"
            )
        }
        if request.pools != nil {
            throw ServiceError(
                .notImplemented,
                "pools asks for a broker-set change; scaling from reconcile is not built in this engine yet (use the "
                    + "upscale/downscale alerts or a rebalance)")
        }
        if !plan.restartNodes.isEmpty {
            let keys = plans.flatMap(\.plan.changes).filter { $0.action == .restart }.map(\.key)
            throw ServiceError(
                .notImplemented,
                "\(Set(keys).sorted().joined(separator: ", ")) need(s) a restart of broker(s) "
                    + "\(plan.restartNodes.map(String.init).joined(separator: ",")); rolls from reconcile are not "
                    + "built in this engine yet")
        }
        if plan.configChanges.isEmpty {
            return (
                ReconcileResponse(
                    noop: true, existing: false, desiredHash: hash, plan: plan, operationId: nil, operation: nil),
                false
            )
        }
        let op = try await create(
            cluster: name, kind: .config, trigger: Trigger(source: .reconcile, detail: hash),
            job: .init(reconcile: String(decoding: canonical, as: UTF8.self)), total: plan.configChanges.count,
            unit: "configs", key: key)
        return (
            ReconcileResponse(
                noop: false, existing: false, desiredHash: hash, plan: plan, operationId: op.id, operation: op),
            true
        )
    }

    /// One classified plan for the cluster-wide configs (every broker) and one per broker with its own configs.
    func configPlans(_ c: ServiceConfiguration.Cluster, _ request: ReconcileRequest) async throws
        -> [(plan: ConfigChangePlan, current: CurrentClusterConfig)]
    {
        let cluster = request.configs?.cluster ?? [:]
        let brokers = request.configs?.brokers ?? [:]
        if cluster.isEmpty && brokers.isEmpty { return [] }
        var requested: KafkaVersion?
        if let v = request.kafkaVersion {
            guard let parsed = KafkaVersion(v) else {
                throw ServiceError(.badRequest, "kafkaVersion '\(v)' is not a version like 4.1 or 3.9.1")
            }
            requested = parsed
        }
        var perBroker: [(Int32, [String: String])] = []
        for (id, configs) in brokers.sorted(by: { $0.key < $1.key }) {
            guard let n = Int32(id), n >= 0 else {
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
        _ plans: [(plan: ConfigChangePlan, current: CurrentClusterConfig)], _ request: ReconcileRequest
    )
        -> ReconcilePlan
    {
        var changes: [ReconcilePlan.ConfigChange] = []
        var restart = Set<Int32>()
        for (plan, _) in plans {
            for ch in plan.changes {
                changes.append(
                    .init(
                        key: ch.key, scope: ch.scope.rawValue, action: ch.action.rawValue,
                        nodes: ch.nodes.map(Int.init),
                        value: ch.isSensitive ? "(sensitive)" : ch.to))
            }
            restart.formUnion(plan.restartNodes)
        }
        var steps: [String] = []
        let live = changes.filter { $0.action == "dynamic" }
        if !live.isEmpty {
            steps.append("apply \(live.count) config change(s) live: \(live.map(\.key).joined(separator: ", "))")
        }
        if !restart.isEmpty {
            steps.append("roll broker(s) \(restart.sorted().map(String.init).joined(separator: ","))")
        }
        return ReconcilePlan(
            configChanges: changes, restartNodes: restart.sorted().map(Int.init),
            restartReason: request.restart?.reason,
            scale: [], steps: steps)
    }

    /// Runs a reconcile's config operation: classifies again against the cluster as it is now and applies the
    /// dynamic changes (validated first, verified after, rolled back per key when Kafka refuses part-way).
    func runConfig(_ id: String, _ body: OperationBody) async throws -> (ServiceOperationState, String) {
        let c = try cluster(body.summary.cluster)
        guard let text = body.job.reconcile,
            let request = try? JSONDecoder().decode(ReconcileRequest.self, from: Data(text.utf8))
        else { return (.failed, "the operation holds no desired state") }
        let plans = try await configPlans(c, request)
        var applied = 0
        var total = 0
        let logger = self.logger
        for (plan, current) in plans {
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
            await progress(id, done: applied, total: total, message: "\(applied)/\(total) config change(s) applied")
            if !report.succeeded {
                return (.failed, "\(total - applied) config change(s) not applied (see the events)")
            }
        }
        return (.succeeded, "\(applied) config change(s) applied live, no restart")
    }
}
