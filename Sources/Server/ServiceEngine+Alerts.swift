import BallastStore
public import Foundation
import KafkaModel
import ServiceConfig
public import ServiceContract

/// What one alert asks for, from its labels, then its annotations, then the group's common labels and
/// annotations (DESIGN.md's "Alert labels").
struct AlertIntent {
    var action: AlertActionKind?
    var actionText: String?
    var cluster: String?
    var pool: String?
    var countText: String?
    /// `ballast_rollout_blocking=true`: counts toward the rollout failure threshold.
    var blocksRollouts: Bool

    init(_ a: AlertmanagerAlert, common: [String: String], commonAnnotations: [String: String]) {
        func value(_ key: String) -> String? {
            a.labels[key] ?? a.annotations?[key] ?? common[key] ?? commonAnnotations[key]
        }
        actionText = value("ballast_action")
        action = actionText.flatMap(AlertActionKind.init(rawValue:))
        cluster = value("kafka_cluster")
        pool = value("pool")
        countText = value("count")
        blocksRollouts = value("ballast_rollout_blocking") == "true"
    }
}

extension ServiceEngine {
    /// Alertmanager's webhook: checks the whole payload first (400 malformed, 422 unknown cluster: nothing is
    /// stored), stores every alert (deduplicated on fingerprint + startsAt + status), then acts on the new ones.
    /// Returns only once the alerts are in the store.
    public func receiveAlerts(_ payload: AlertmanagerWebhook, now: Date = Date()) async throws -> AlertsReceipt {
        guard payload.version == "4" else {
            throw ServiceError(
                .badRequest, "the webhook payload's version is \(payload.version); Ballast reads version 4")
        }
        guard ["firing", "resolved"].contains(payload.status) else {
            throw ServiceError(
                .badRequest, "the webhook payload's status must be firing or resolved, not \(payload.status)")
        }
        var intents: [AlertIntent] = []
        for (i, a) in payload.alerts.enumerated() {
            guard ["firing", "resolved"].contains(a.status) else {
                throw ServiceError(.badRequest, "alerts[\(i)].status must be firing or resolved, not \(a.status)")
            }
            guard !a.fingerprint.isEmpty else { throw ServiceError(.badRequest, "alerts[\(i)].fingerprint is empty") }
            guard ServiceJSON.parseDate(a.startsAt) != nil else {
                throw ServiceError(.badRequest, "alerts[\(i)].startsAt '\(a.startsAt)' is not an RFC 3339 time")
            }
            if let endsAt = a.endsAt, ServiceJSON.parseDate(endsAt) == nil {
                throw ServiceError(.badRequest, "alerts[\(i)].endsAt '\(endsAt)' is not an RFC 3339 time")
            }
            let intent = AlertIntent(
                a, common: payload.commonLabels ?? [:], commonAnnotations: payload.commonAnnotations ?? [:])
            if let text = intent.actionText, intent.action == nil {
                throw ServiceError(
                    .badRequest,
                    "alerts[\(i)] has ballast_action=\(text); use one of "
                        + AlertActionKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if intent.action != nil || intent.blocksRollouts {
                guard let cluster = intent.cluster else {
                    throw ServiceError(.badRequest, "alerts[\(i)] has ballast_action but no kafka_cluster label")
                }
                guard configuration.clusters.contains(where: { $0.name == cluster }) else {
                    throw ServiceError(
                        .unprocessable,
                        "alerts[\(i)] names kafka_cluster=\(cluster), which is not in the configuration (its clusters: "
                            + configuration.clusters.map(\.name).joined(separator: ", ") + ")")
                }
            }
            if let count = intent.countText {
                guard let n = Int(count), n >= 1 else {
                    throw ServiceError(.badRequest, "alerts[\(i)] has count=\(count); it must be a whole number ≥ 1")
                }
                _ = n
            }
            if intent.action == .upscale || intent.action == .downscale {
                _ = try pool(intent, cluster: intent.cluster!, index: i)
            }
            intents.append(intent)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let rows = try payload.alerts.enumerated().map { i, a in
            AlertRow(
                key: AlertKey(fingerprint: a.fingerprint, startsAt: a.startsAt, status: a.status),
                cluster: intents[i].cluster, receivedAt: now, body: try encoder.encode(a),
                outcome: intents[i].action == nil && !intents[i].blocksRollouts ? "ignored" : nil)
        }
        let fresh: [Bool]
        do { fresh = try await store.recordAlerts(rows) } catch {
            throw ServiceError(.unavailable, "the alerts could not be stored: \(error.message)")
        }
        let duplicates = fresh.filter { !$0 }.count
        metrics.alertsReceived(rows.count, duplicates: duplicates)

        var actions: [AlertAction] = []
        // Scale alerts batch per cluster, direction and pool: one operation, sized by the largest count.
        var scales:
            [String: (
                cluster: String, kind: AlertActionKind, pool: String, count: Int, keys: [AlertKey], names: [String]
            )] = [:]
        for (i, a) in payload.alerts.enumerated() {
            let intent = intents[i]
            let key = rows[i].key
            guard fresh[i] else {
                if let action = intent.action {
                    actions.append(
                        AlertAction(
                            cluster: intent.cluster!, action: action, outcome: .duplicate, reason: "already received"))
                }
                continue
            }
            guard let cluster = intent.cluster else { continue }
            if intent.blocksRollouts {
                if a.status == "firing" {
                    blocking[cluster, default: []].insert(a.fingerprint)
                } else {
                    blocking[cluster]?.remove(a.fingerprint)
                }
            }
            switch intent.action {
            case nil:
                continue
            case .pauseRollouts:
                let name = a.labels["alertname"]
                if a.status == "firing" {
                    pauses[cluster, default: [:]][a.fingerprint] = Pause(
                        reason: "alert \(name ?? a.fingerprint) is firing", alert: name, fingerprint: a.fingerprint,
                        since: ServiceJSON.parseDate(a.startsAt) ?? now)
                    actions.append(AlertAction(cluster: cluster, action: .pauseRollouts, outcome: .paused))
                    try? await store.setAlertOutcome(key, outcome: "paused", operationId: nil)
                } else {
                    pauses[cluster]?[a.fingerprint] = nil
                    actions.append(AlertAction(cluster: cluster, action: .pauseRollouts, outcome: .unpaused))
                    try? await store.setAlertOutcome(key, outcome: "unpaused", operationId: nil)
                }
                metrics.alertActed("pause-rollouts")
                metrics.rollsPaused(cluster: cluster, !pausesOf(cluster).isEmpty)
            case .upscale, .downscale:
                let action = intent.action!
                guard a.status == "firing" else {
                    actions.append(AlertAction(cluster: cluster, action: action, outcome: .ignored, reason: "resolved"))
                    try? await store.setAlertOutcome(key, outcome: "ignored", operationId: nil)
                    continue
                }
                let pool = try pool(intent, cluster: cluster, index: i)
                let count = Int(intent.countText ?? "1") ?? 1
                let k = "\(cluster)/\(action.rawValue)/\(pool)"
                var entry = scales[k] ?? (cluster, action, pool, 0, [], [])
                entry.count = max(entry.count, count)
                entry.keys.append(key)
                entry.names.append(a.labels["alertname"] ?? a.fingerprint)
                scales[k] = entry
            }
        }
        for (_, s) in scales.sorted(by: { $0.key < $1.key }) {
            let result = try await scaleFromAlerts(
                s.cluster, s.kind, pool: s.pool, count: s.count, names: s.names, now: now)
            for key in s.keys {
                try? await store.setAlertOutcome(key, outcome: result.outcome.rawValue, operationId: result.operationId)
            }
            actions.append(result)
            if result.outcome == .operationCreated || result.outcome == .batched { metrics.alertActed(s.kind.rawValue) }
        }
        return AlertsReceipt(
            received: rows.count, stored: fresh.filter { $0 }.count, duplicates: duplicates,
            ignored: intents.filter { $0.action == nil }.count, actions: actions)
    }

    /// The alert's pool, or the cluster's only configured pool.
    func pool(_ intent: AlertIntent, cluster: String, index: Int) throws(ServiceError) -> String {
        let c = try self.cluster(cluster)
        if let pool = intent.pool {
            guard c.pools.isEmpty || c.pools[pool] != nil else {
                throw ServiceError(
                    .unprocessable,
                    "alerts[\(index)] names pool \(pool), which cluster \(cluster) does not configure (its pools: "
                        + c.pools.keys.sorted().joined(separator: ", ") + ")")
            }
            return pool
        }
        guard c.pools.count == 1, let only = c.pools.keys.first else {
            throw ServiceError(
                .unprocessable,
                "alerts[\(index)] has no pool label and cluster \(cluster) configures "
                    + (c.pools.isEmpty ? "no pool" : "several pools (\(c.pools.keys.sorted().joined(separator: ", ")))")
                    + ": name the pool")
        }
        return only
    }

    /// One scale operation for a batch of firing alerts: joins a scale of the same direction and pool that has not
    /// started yet, else refuses within the cooldown, else creates one.
    func scaleFromAlerts(
        _ cluster: String, _ kind: AlertActionKind, pool: String, count: Int, names: [String], now: Date
    ) async throws -> AlertAction {
        let opKind: ServiceOperationKind = kind == .upscale ? .upscale : .downscale
        if let (id, body) = live.first(where: {
            $0.value.summary.cluster == cluster && $0.value.summary.kind == opKind && $0.value.job.pool == pool
                && ($0.value.summary.state == .pending || $0.value.summary.state == .paused)
        }) {
            let merged = max(body.job.count ?? 1, count)
            try await update(id) {
                $0.job.count = merged
                $0.summary.progress.total = merged
            }
            try? await event(id, "alert(s) \(names.joined(separator: ", ")) batched into this \(opKind.rawValue)")
            return AlertAction(
                cluster: cluster, action: kind, pool: pool, count: merged, outcome: .batched, operationId: id)
        }
        let cooldownKey = "\(cluster)/\(opKind.rawValue)"
        if let last = lastScale[cooldownKey], now.timeIntervalSince(last) < policy.scaleCooldown.seconds {
            return AlertAction(
                cluster: cluster, action: kind, pool: pool, count: count, outcome: .cooldown,
                reason:
                    "a \(opKind.rawValue) of cluster \(cluster) was created \(Int(now.timeIntervalSince(last))) s ago "
                    + "(cooldown \(Int(policy.scaleCooldown.seconds)) s)")
        }
        lastScale[cooldownKey] = now
        let op = try await create(
            cluster: cluster, kind: opKind, trigger: Trigger(source: .alert, detail: names.joined(separator: ", ")),
            job: .init(pool: pool, count: count), total: count, unit: "brokers", now: now)
        return AlertAction(
            cluster: cluster, action: kind, pool: pool, count: count, outcome: .operationCreated, operationId: op.id)
    }

    /// The stored alerts, newest first, as the API shows them.
    public func storedAlerts(cluster: String?, limit: Int) async throws -> [StoredAlertBody] {
        try await store.alerts(cluster: cluster, limit: limit).compactMap { row in
            guard let a = try? JSONDecoder().decode(AlertmanagerAlert.self, from: row.body) else { return nil }
            return StoredAlertBody(
                fingerprint: row.key.fingerprint, startsAt: row.key.startsAt, endsAt: a.endsAt, status: row.key.status,
                labels: a.labels, annotations: a.annotations ?? [:], cluster: row.cluster,
                action: AlertIntent(a, common: [:], commonAnnotations: [:]).actionText, receivedAt: row.receivedAt,
                outcome: row.outcome, operationId: row.operationId)
        }
    }
}
