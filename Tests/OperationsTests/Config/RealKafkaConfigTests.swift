import AgentContract
import BallastStore
import BallastTestSupport
import Foundation
import KafkaAdmin
import KafkaModel
import KafkaPolicies
import Logging
import Roller
import Testing

@testable import ConfigPlanning
@testable import Operations

/// Against a real Kafka cluster (skipped unless KAFKA_BOOTSTRAP is set; KAFKA_VERSION defaults to 4.1): plans
/// keys of every mode, applies and reverts the dynamic ones, and checks Kafka agrees with every verdict: no key
/// planned dynamic is rejected, and no key planned restart is accepted live (except the documented keys Kafka
/// accepts but never applies to an existing listener). Writes the table of results to
/// $TMPDIR/ballast-config-it.md.
@Suite(
    .enabled(if: ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP"] != nil, "set KAFKA_BOOTSTRAP to run"),
    .serialized)
struct RealKafkaConfigTests {
    let env = ProcessInfo.processInfo.environment
    let logger = Logger(label: "config-it")

    /// Keys Kafka accepts live but applies to existing listeners only at restart; Ballast plans them as restart.
    /// (Checked on Kafka 4.1: validate-only accepts them; the listener's channel builder reconfigures only SSL
    /// stores.)
    static let acceptedButNotApplied: Set<String> = [
        "ssl.cipher.suites", "sasl.enabled.mechanisms", "ssl.client.auth", "sasl.kerberos.service.name",
        "sasl.mechanism.inter.broker.protocol", "listener.name.plaintext.ssl.cipher.suites",
    ]

    /// key → new value from the current one.
    static let dynamicProbes: [(String, @Sendable (String?) -> String)] = [
        ("log.retention.ms", { _ in "259200000" }),
        ("message.max.bytes", { v in String((Int(v ?? "0") ?? 0) + 1000) }),
        ("log.cleaner.threads", { v in String((Int(v ?? "1") ?? 1) + 1) }),
        ("num.io.threads", { v in String((Int(v ?? "8") ?? 8) + 2) }),
        ("num.network.threads", { v in String((Int(v ?? "3") ?? 3) + 1) }),
        ("background.threads", { v in String((Int(v ?? "10") ?? 10) + 2) }),
        ("num.replica.fetchers", { v in String((Int(v ?? "1") ?? 1) + 1) }),
        ("num.recovery.threads.per.data.dir", { v in String((Int(v ?? "2") ?? 2) + 1) }),
        ("log.segment.bytes", { _ in "33554432" }),
        ("log.cleaner.backoff.ms", { _ in "16000" }),
        ("log.cleaner.io.max.bytes.per.second", { _ in "1000000000.0" }),
        ("log.index.interval.bytes", { _ in "8192" }),
        ("compression.gzip.level", { _ in "6" }),
        ("compression.lz4.level", { _ in "10" }),
        ("compression.zstd.level", { _ in "4" }),
        ("log.preallocate", { v in v == "true" ? "false" : "true" }),
        ("log.message.timestamp.after.max.ms", { _ in "7200000" }),
        ("log.message.timestamp.before.max.ms", { _ in "604800000000" }),
        ("log.cleaner.delete.retention.ms", { _ in "90000000" }),
        ("log.cleaner.min.compaction.lag.ms", { _ in "1000" }),
        ("log.cleaner.min.cleanable.ratio", { _ in "0.6" }),
        ("max.connections.per.ip", { _ in "100000" }),
        ("max.connection.creation.rate", { _ in "100000" }),
        ("max.connections", { _ in "100000" }),
        ("producer.id.expiration.ms", { _ in "90000000" }),
        ("remote.fetch.max.wait.ms", { _ in "600" }),
        ("log.retention.bytes", { _ in "1099511627776" }),
        ("log.roll.ms", { _ in "86400000" }),
        ("leader.replication.throttled.rate", { _ in "100000000" }),
        ("listener.name.plaintext.max.connections", { _ in "100000" }),
        ("listener.name.plaintext.ssl.keystore.type", { _ in "PKCS12" }),
    ]

    /// Keys Ballast plans as restart, and the value to try live.
    static let restartProbes: [(String, String)] = [
        ("num.partitions", "2"),
        ("log.retention.hours", "100"),
        ("log.retention.minutes", "1000"),
        ("log.roll.hours", "100"),
        ("ssl.keystore.location", "/tmp/ballast-it.jks"),
        ("auto.create.topics.enable", "false"),
        ("default.replication.factor", "2"),
        ("queued.max.requests", "600"),
        ("socket.send.buffer.bytes", "204800"),
        ("replica.lag.time.max.ms", "31000"),
        ("offsets.topic.replication.factor", "2"),
        ("log.retention.check.interval.ms", "310000"),
        ("num.io.threads", "100"),
        ("log.cleaner.threads", "9"),
        ("listener.name.plaintext.ssl.cipher.suites", "TLS_AES_128_GCM_SHA256"),
        ("ssl.cipher.suites", "TLS_AES_128_GCM_SHA256"),
        ("sasl.enabled.mechanisms", "PLAIN"),
        ("ssl.client.auth", "required"),
        ("sasl.kerberos.service.name", "kafka-it"),
        ("sasl.mechanism.inter.broker.protocol", "PLAIN"),
        ("advertised.listeners", "PLAINTEXT://127.0.0.1:19092"),
        ("log.dirs", "/tmp/ballast-it"),
        ("broker.rack", "rack-z"),
    ]

    func snapshot(_ client: KafkaAdminConfigClient) async throws -> CurrentClusterConfig {
        let nodes = try await client.brokerIDs()
        let configs = try await client.describeBrokerConfigs(nodes: nodes)
        let defaults = try await client.describeClusterDefaultConfigs()
        return CurrentClusterConfig(nodes: configs, clusterDefault: defaults)
    }

    @Test func plannedModesAgreeWithRealKafka() async throws {
        let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrap: env["KAFKA_BOOTSTRAP"]!))
        defer { Task { await admin.shutdown() } }
        let client = KafkaAdminConfigClient(admin: admin)
        let version = KafkaVersion(env["KAFKA_VERSION"] ?? "4.1")!
        let classifier = ConfigClassifier(version: version)
        let before = try await snapshot(client)
        let first = before.nodeIDs[0]
        var rows: [String] = ["| key | scope | plan | Kafka | result |", "|---|---|---|---|---|"]
        var failures: [String] = []

        // Dynamic keys: plan all at once for the whole cluster, apply, re-plan (idempotent), revert.
        var dynamicKeys: [String] = []
        var lines: [String] = []
        for (key, next) in Self.dynamicProbes {
            let preexisting =
                before.clusterDefault[key] != nil
                || before.nodeIDs.contains { before.entry(key, node: $0)?.source == .dynamicBroker }
            if preexisting {
                rows.append("| \(key) | | | | skipped: already has a dynamic value |")
                continue
            }
            dynamicKeys.append(key)
            lines.append("\(key)=\(next(before.entry(key, node: first)?.value))")
        }
        let desired = try DesiredConfig(parsing: lines.joined(separator: "\n"))
        let plan = classifier.plan(desired: desired, current: before)
        #expect(plan.problems.isEmpty, "\(plan.problems)")
        let applier = ConfigApplier(
            client: client, options: .init(verifyTimeout: .seconds(20), pollInterval: .milliseconds(250)),
            logger: logger)
        let report = try await applier.apply(plan, current: before)
        for key in dynamicKeys {
            let changes = plan.changes(key)
            let scope = changes.first?.scope.rawValue ?? "-"
            let action = changes.map(\.action.rawValue).joined(separator: "+")
            let result = report.results.first { $0.key == key }
            let status = result?.status.rawValue ?? "-"
            let ok = changes.count == 1 && changes[0].action == .dynamic && result?.status == .applied
            if !ok { failures.append("\(key): planned \(action), Kafka: \(status) \(result?.message ?? "")") }
            rows.append(
                "| \(key) | \(scope) | \(action) | \(status) | \(ok ? "ok" : "MISMATCH: \(result?.message ?? "")") |")
        }
        let afterApply = try await snapshot(client)
        let replan = classifier.plan(desired: desired, current: afterApply)
        #expect(replan.dynamicChanges.isEmpty, "not idempotent: \(replan.dynamicChanges.map(\.key))")

        let revert = try DesiredConfig(parsing: dynamicKeys.map { "\($0)=" }.joined(separator: "\n"))
        let revertPlan = classifier.plan(desired: revert, current: afterApply)
        let revertReport = try await applier.apply(revertPlan, current: afterApply)
        #expect(revertReport.succeeded, "revert: \(revertReport.results.filter { $0.status != .applied })")
        let restored = try await snapshot(client)
        for key in dynamicKeys {
            for node in before.nodeIDs where restored.entry(key, node: node) != before.entry(key, node: node) {
                failures.append(
                    "\(key) on node \(node) not restored: \(String(describing: restored.entry(key, node: node)?.value))"
                )
            }
        }

        // One key per broker on one node, then back.
        let node = before.nodeIDs.last!
        let perNode = try DesiredConfig(parsing: "message.max.bytes=2000000")
        let nodePlan = classifier.plan(desired: perNode, current: restored, nodes: [node])
        let nodeReport = try await applier.apply(nodePlan, current: restored)
        let nodeOK = nodePlan.alterations.map(\.target) == [.broker(node)] && nodeReport.succeeded
        rows.append(
            "| message.max.bytes (--node \(node)) | cluster-wide | dynamic, broker \(node) only | \(nodeReport.results.first?.status.rawValue ?? "-") | \(nodeOK ? "ok" : "MISMATCH") |"
        )
        if !nodeOK { failures.append("per-node message.max.bytes: \(nodeReport.results)") }
        let nodeRevert = classifier.plan(
            desired: try DesiredConfig(parsing: "message.max.bytes="), current: try await snapshot(client),
            nodes: [node])
        _ = try await applier.apply(nodeRevert, current: try await snapshot(client))

        // Restart keys: Kafka must refuse them live, at the broker and at the cluster default.
        for (key, value) in Self.restartProbes {
            let identity = KafkaConfigRules.nodeIdentityConfigs.contains(key)
            let p = classifier.plan(
                desired: try DesiredConfig(parsing: "\(key)=\(value)"), current: restored,
                nodes: identity ? [first] : nil)
            let planned = p.changes(key).map(\.action.rawValue).joined(separator: "+")
            let scope = p.changes(key).first?.scope.rawValue ?? "-"
            let op = PlannedAlteration(target: .broker(first), key: key, operation: .set(value))
            let atBroker = try await client.incrementalAlterConfigs([.broker(first): [op]], validateOnly: true)
            let atDefault = try await client.incrementalAlterConfigs(
                [.clusterDefault: [PlannedAlteration(target: .clusterDefault, key: key, operation: .set(value))]],
                validateOnly: true)
            let brokerError = atBroker[.broker(first)] ?? nil
            let defaultError = atDefault[.clusterDefault] ?? nil
            let accepted = brokerError == nil || defaultError == nil
            let kafka = accepted ? "accepted live" : "rejected: \((brokerError ?? defaultError)!.message ?? "")"
            let expectedAccepted = Self.acceptedButNotApplied.contains(key)
            let ok = planned == "restart" && accepted == expectedAccepted
            if !ok { failures.append("\(key): planned \(planned), Kafka \(kafka)") }
            let note =
                expectedAccepted && accepted
                ? "ok (accepted, no effect on existing listeners)" : (ok ? "ok" : "MISMATCH")
            rows.append("| \(key)=\(value) | \(scope) | \(planned) | \(kafka.prefix(90)) | \(note) |")
        }

        let table = rows.joined(separator: "\n")
        print(table)
        let out = FileManager.default.temporaryDirectory.appending(path: "ballast-config-it.md")
        try? Data((table + "\n").utf8).write(to: out)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
