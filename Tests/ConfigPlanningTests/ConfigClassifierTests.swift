import BallastTestSupport
import KafkaModel
import KafkaPolicies
import Testing

@testable import ConfigPlanning

/// One expected change: key, scope, action, nodes, and optionally the resources apply would alter
/// ("" = cluster default, "2" = broker 2, "-2" = delete at broker 2, "-" = delete at the default).
struct ExpectedChange: Sendable, CustomStringConvertible {
    var key: String
    var scope: UpdateMode
    var action: ConfigAction
    var nodes: [Int32]
    var targets: [String]?

    var description: String { "\(key) \(scope.rawValue) \(action.rawValue) \(nodes)" }
}

struct ClassifierCase: Sendable, CustomTestStringConvertible {
    var name: String
    var desired: String
    var current: CurrentClusterConfig = ConfigFixture.cluster()
    var nodes: [Int32]? = nil
    var version = "4.1"
    var expect: [ExpectedChange] = []
    var unchanged: [String] = []
    var problems: [String] = []
    var warning: String? = nil
    var reason: String? = nil

    var testDescription: String { name }
}

private func change(
    _ key: String, _ scope: UpdateMode, _ action: ConfigAction, _ nodes: [Int32], _ targets: [String]? = nil
) -> ExpectedChange {
    ExpectedChange(key: key, scope: scope, action: action, nodes: nodes, targets: targets)
}

private let controllerCluster = ConfigFixture.cluster(nodes: [1, 2, 3, 4], roles: [4: [.controller]])

let classifierCases: [ClassifierCase] = [
    // Update modes from the table.
    ClassifierCase(
        name: "cluster-wide key is set once at the cluster default", desired: "log.retention.ms=86400000",
        expect: [change("log.retention.ms", .clusterWide, .dynamic, [1, 2, 3], [""])]),
    ClassifierCase(
        name: "message.max.bytes is cluster-wide", desired: "message.max.bytes=2000000",
        expect: [change("message.max.bytes", .clusterWide, .dynamic, [1, 2, 3], [""])]),
    ClassifierCase(
        name: "read-only key needs a restart of every node", desired: "num.partitions=3",
        expect: [change("num.partitions", .readOnly, .restart, [1, 2, 3], [])]),
    ClassifierCase(
        name: "a key already at the desired value is a no-op",
        desired: "min.insync.replicas=1\ncompression.type=producer",
        unchanged: ["min.insync.replicas", "compression.type"]),
    ClassifierCase(
        name: "values compare by type (boolean case, list spacing, number form)",
        desired: "auto.create.topics.enable=TRUE\nlog.cleanup.policy= delete\nlog.cleaner.min.cleanable.ratio=0.50",
        unchanged: ["auto.create.topics.enable", "log.cleanup.policy", "log.cleaner.min.cleanable.ratio"]),
    ClassifierCase(
        name: "only nodes whose value differs are touched", desired: "num.partitions=3",
        current: ConfigFixture.cluster(perNode: [2: ["num.partitions": ConfigFixture.entry("3", .staticBroker)]]),
        expect: [change("num.partitions", .readOnly, .restart, [1, 3], [])]),
    ClassifierCase(
        name: "in 3.9 remote.log.reader.threads is read-only", desired: "remote.log.reader.threads=20", version: "3.9",
        expect: [change("remote.log.reader.threads", .readOnly, .restart, [1, 2, 3])]),
    ClassifierCase(
        name: "in 4.1 remote.log.reader.threads is cluster-wide", desired: "remote.log.reader.threads=20",
        expect: [change("remote.log.reader.threads", .clusterWide, .dynamic, [1, 2, 3], [""])]),
    ClassifierCase(
        name: "undocumented quota configs are dynamic", desired: "leader.replication.throttled.rate=1000000",
        expect: [change("leader.replication.throttled.rate", .clusterWide, .dynamic, [1, 2, 3], [""])]),

    // Synonyms.
    ClassifierCase(
        name: "log.retention.hours is read-only; only log.retention.ms is dynamic", desired: "log.retention.hours=72",
        expect: [change("log.retention.hours", .readOnly, .restart, [1, 2, 3])], reason: "set log.retention.ms"),
    ClassifierCase(
        name: "log.retention.minutes is read-only", desired: "log.retention.minutes=60",
        expect: [change("log.retention.minutes", .readOnly, .restart, [1, 2, 3])]),
    ClassifierCase(
        name: "a lower synonym shadowed by a set log.retention.ms is warned about", desired: "log.retention.hours=72",
        current: ConfigFixture.cluster(perNode: [2: ["log.retention.ms": ConfigFixture.entry("1000", .staticBroker)]]),
        expect: [change("log.retention.hours", .readOnly, .restart, [1, 2, 3])],
        warning: "has no effect while log.retention.ms is set (on node 2)"),
    ClassifierCase(
        name: "log.roll.ms is dynamic, log.roll.hours is not", desired: "log.roll.ms=3600000\nlog.roll.hours=1",
        expect: [
            change("log.roll.ms", .clusterWide, .dynamic, [1, 2, 3], [""]),
            change("log.roll.hours", .readOnly, .restart, [1, 2, 3]),
        ]),

    // SSL stores and listeners.
    ClassifierCase(
        name: "a keystore without a listener prefix needs a restart", desired: "ssl.keystore.location=/etc/k.jks",
        expect: [change("ssl.keystore.location", .perBroker, .restart, [1, 2, 3])], reason: "listener.name"),
    ClassifierCase(
        name: "a listener keystore changes live per broker, never at the default",
        desired: "listener.name.ssl.ssl.keystore.location=/etc/k.jks",
        expect: [change("listener.name.ssl.ssl.keystore.location", .perBroker, .dynamic, [1, 2, 3], ["1", "2", "3"])]),
    ClassifierCase(
        name: "an existing listener's other settings need a restart",
        desired: "listener.name.ssl.ssl.cipher.suites=TLS_AES_128_GCM_SHA256",
        expect: [change("listener.name.ssl.ssl.cipher.suites", .perBroker, .restart, [1, 2, 3])],
        reason: "existing listener"),
    ClassifierCase(
        name: "listener max.connections is a cluster-wide exception", desired: "listener.name.ssl.max.connections=100",
        expect: [change("listener.name.ssl.max.connections", .clusterWide, .dynamic, [1, 2, 3], [""])]),
    ClassifierCase(
        name: "listener num.network.threads is cluster-wide too",
        desired: "listener.name.plaintext.num.network.threads=4",
        expect: [change("listener.name.plaintext.num.network.threads", .clusterWide, .dynamic, [1, 2, 3], [""])]),
    ClassifierCase(
        name: "listener sasl.jaas.config without a mechanism segment is refused",
        desired: "listener.name.sasl_ssl.sasl.jaas.config=x required;",
        problems: ["listener.name.sasl_ssl.sasl.jaas.config"]),
    ClassifierCase(
        name: "a new listener added with its SASL settings goes live on that node",
        desired: """
            listeners=PLAINTEXT://:9092,SSL://:9093,SASL_SSL://:9094
            listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
            listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
            """,
        nodes: [1],
        expect: [
            change("listeners", .perBroker, .dynamic, [1], ["1"]),
            change("listener.security.protocol.map", .perBroker, .dynamic, [1], ["1"]),
            change("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", .perBroker, .dynamic, [1], ["1"]),
        ]),
    ClassifierCase(
        name: "moving an existing listener to another port needs a restart",
        desired: "listeners=PLAINTEXT://:9092,SSL://:9443", nodes: [2],
        expect: [change("listeners", .perBroker, .restart, [2])], reason: "SSL"),
    ClassifierCase(
        name: "removing an advertised listener needs a restart", desired: "listeners=PLAINTEXT://:9092", nodes: [2],
        expect: [change("listeners", .perBroker, .restart, [2])], reason: "advertised"),
    ClassifierCase(
        name: "changing an existing listener's security protocol needs a restart",
        desired: "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
        expect: [change("listener.security.protocol.map", .perBroker, .restart, [1, 2, 3])]),
    ClassifierCase(
        name: "SSL settings without a prefix reach existing listeners only at restart",
        desired: "ssl.client.auth=required\nsasl.enabled.mechanisms=PLAIN",
        expect: [
            change("ssl.client.auth", .perBroker, .restart, [1, 2, 3]),
            change("sasl.enabled.mechanisms", .perBroker, .restart, [1, 2, 3]),
        ]),
    ClassifierCase(
        name: "advertised.listeners (per-broker in 3.9) needs a restart under KRaft",
        desired: "advertised.listeners=PLAINTEXT://h1:9092,SSL://h1:9093", nodes: [1], version: "3.9",
        expect: [change("advertised.listeners", .perBroker, .restart, [1])], reason: "KAFKA-18405"),
    ClassifierCase(
        name: "advertised.listeners is read-only in 4.1", desired: "advertised.listeners=PLAINTEXT://h1:9092",
        nodes: [1],
        expect: [change("advertised.listeners", .readOnly, .restart, [1])]),

    // Node identity.
    ClassifierCase(
        name: "node identity keys are never part of a plan for several nodes",
        desired: "node.id=7\nbroker.rack=az-a\nlisteners=PLAINTEXT://:9092",
        problems: ["node.id", "broker.rack", "listeners"]),
    ClassifierCase(
        name: "a node identity key for one node is planned per node", desired: "broker.rack=az-b", nodes: [2],
        expect: [change("broker.rack", .readOnly, .restart, [2])]),

    // Per-broker overrides and --node.
    ClassifierCase(
        name: "a per-broker override that would shadow the cluster default is removed",
        desired: "message.max.bytes=2000000",
        current: ConfigFixture.cluster(perNode: [
            2: ["message.max.bytes": ConfigFixture.entry("500000", .dynamicBroker)]
        ]),
        expect: [change("message.max.bytes", .clusterWide, .dynamic, [1, 2, 3], ["", "-2"])],
        reason: "shadow"),
    ClassifierCase(
        name: "with --node a cluster-wide key is set per broker", desired: "message.max.bytes=2000000", nodes: [2, 3],
        expect: [change("message.max.bytes", .clusterWide, .dynamic, [2, 3], ["2", "3"])]),
    ClassifierCase(
        name: "only the override is removed when the default already has the value",
        desired: "message.max.bytes=2000000",
        current: ConfigFixture.cluster(
            perNode: [3: ["message.max.bytes": ConfigFixture.entry("1", .dynamicBroker)]],
            clusterDefault: ["message.max.bytes": ConfigFixture.entry("2000000", .dynamicDefaultBroker)]),
        expect: [change("message.max.bytes", .clusterWide, .dynamic, [3], ["-3"])]),

    // Removing overrides with `key=`.
    ClassifierCase(
        name: "key= removes a per-broker override", desired: "message.max.bytes=",
        current: ConfigFixture.cluster(perNode: [
            2: ["message.max.bytes": ConfigFixture.entry("500000", .dynamicBroker)]
        ]),
        expect: [change("message.max.bytes", .clusterWide, .dynamic, [2], ["-2"])]),
    ClassifierCase(
        name: "key= removes the cluster default and overrides", desired: "message.max.bytes=",
        current: ConfigFixture.cluster(
            perNode: [2: ["message.max.bytes": ConfigFixture.entry("500000", .dynamicBroker)]],
            clusterDefault: ["message.max.bytes": ConfigFixture.entry("2000000", .dynamicDefaultBroker)]),
        expect: [change("message.max.bytes", .clusterWide, .dynamic, [1, 2, 3], ["-", "-2"])]),
    ClassifierCase(
        name: "key= with nothing to remove is a no-op", desired: "message.max.bytes=", unchanged: ["message.max.bytes"]),
    ClassifierCase(
        name: "key= of a read-only key warns", desired: "num.partitions=", unchanged: ["num.partitions"],
        warning: "read-only"),

    // Thread pools.
    ClassifierCase(
        name: "a thread pool within half to double changes live", desired: "num.io.threads=16",
        expect: [change("num.io.threads", .clusterWide, .dynamic, [1, 2, 3], [""])]),
    ClassifierCase(
        name: "a thread pool beyond double needs a restart", desired: "num.io.threads=17",
        expect: [change("num.io.threads", .clusterWide, .restart, [1, 2, 3])], reason: "half to double"),
    ClassifierCase(
        name: "a thread pool below half needs a restart", desired: "num.io.threads=3",
        expect: [change("num.io.threads", .clusterWide, .restart, [1, 2, 3])]),
    ClassifierCase(
        name: "one node out of bounds keeps a thread pool off the cluster default", desired: "num.network.threads=6",
        current: ConfigFixture.cluster(perNode: [3: ["num.network.threads": ConfigFixture.entry("2", .staticBroker)]]),
        expect: [change("num.network.threads", .clusterWide, .restart, [1, 2, 3])], reason: "node 3"),
    ClassifierCase(
        name: "log cleaner threads are bounded too", desired: "log.cleaner.threads=3",
        expect: [change("log.cleaner.threads", .clusterWide, .restart, [1, 2, 3])]),
    ClassifierCase(
        name: "with --node an out-of-bounds node restarts and others go live", desired: "num.network.threads=6",
        current: ConfigFixture.cluster(perNode: [3: ["num.network.threads": ConfigFixture.entry("2", .staticBroker)]]),
        nodes: [1, 2, 3],
        expect: [
            change("num.network.threads", .clusterWide, .dynamic, [1, 2], ["1", "2"]),
            change("num.network.threads", .clusterWide, .restart, [3]),
        ]),

    ClassifierCase(
        name: "min.insync.replicas goes to the cluster default", desired: "min.insync.replicas=2",
        expect: [change("min.insync.replicas", .clusterWide, .dynamic, [1, 2, 3], [""])]),
    ClassifierCase(
        name: "a cluster-default min.insync.replicas change on 4.1 warns of the 4.1.0 ClearElrRecord restart crash",
        desired: "min.insync.replicas=2", version: "4.1.0",
        expect: [change("min.insync.replicas", .clusterWide, .dynamic, [1, 2, 3], [""])],
        warning: "on Kafka 4.1.0 a node restarted after this change and before its next metadata snapshot may crash"),
    ClassifierCase(
        name: "per-broker min.insync.replicas needs a restart in Kafka 4 (ELR)", desired: "min.insync.replicas=2",
        nodes: [1], expect: [change("min.insync.replicas", .clusterWide, .restart, [1])], reason: "ELR"),
    ClassifierCase(
        name: "per-broker min.insync.replicas is live in 3.9", desired: "min.insync.replicas=2", nodes: [1],
        version: "3.9", expect: [change("min.insync.replicas", .clusterWide, .dynamic, [1], ["1"])]),

    // Controller-only nodes.
    ClassifierCase(
        name: "controller-only nodes restart for keys they cannot change live", desired: "message.max.bytes=2000000",
        current: controllerCluster,
        expect: [
            change("message.max.bytes", .clusterWide, .dynamic, [1, 2, 3], [""]),
            change("message.max.bytes", .clusterWide, .restart, [4]),
        ]),
    ClassifierCase(
        name: "controller-only nodes resize their I/O pool live", desired: "num.io.threads=12",
        current: controllerCluster, expect: [change("num.io.threads", .clusterWide, .dynamic, [1, 2, 3, 4], [""])]),

    // Bad input.
    ClassifierCase(
        name: "unknown keys are skipped with the nearest known key", desired: "log.retention.msec=5",
        warning: "did you mean log.retention.ms?"),
    ClassifierCase(
        name: "a key of another Kafka version is named as such", desired: "log.message.downconversion.enable=false",
        warning: "it is in 3.6, 3.7, 3.8, 3.9"),
    ClassifierCase(
        name: "values that fail Kafka's types and ranges are not planned",
        desired:
            "num.io.threads=abc\ncompression.type=brotli\nmin.insync.replicas=0\nunclean.leader.election.enable=yes",
        problems: ["num.io.threads", "compression.type", "min.insync.replicas", "unclean.leader.election.enable"]),
    ClassifierCase(
        name: "an unknown node is a problem", desired: "message.max.bytes=2000000", nodes: [9],
        problems: ["--node 9"]),
    ClassifierCase(
        name: "an unknown Kafka version uses the nearest known one with a warning", desired: "num.partitions=2",
        version: "4.2.0", expect: [change("num.partitions", .readOnly, .restart, [1, 2, 3])],
        warning: "nearest known version, 4.1"),
]

@Suite struct ConfigClassifierTests {
    @Test(arguments: classifierCases)
    func classifies(_ c: ClassifierCase) throws {
        let plan = try ConfigFixture.plan(c.desired, current: c.current, nodes: c.nodes, version: c.version)
        #expect(
            plan.changes.count == c.expect.count,
            "changes: \(plan.changes.map { "\($0.key) \($0.action) \($0.nodes)" })")
        for (got, want) in zip(plan.changes, c.expect) {
            #expect(got.key == want.key)
            #expect(got.scope == want.scope, "\(want.key)")
            #expect(got.action == want.action, "\(want.key): \(got.reason ?? "")")
            #expect(got.nodes == want.nodes, "\(want.key)")
            if let targets = want.targets {
                let rendered = got.alterations.map { a in
                    (a.operation == .delete ? "-" : "") + a.target.resourceName
                }
                #expect(rendered == targets, "\(want.key)")
            }
            if want.action == .restart { #expect(got.alterations.isEmpty) }
        }
        #expect(plan.unchanged == c.unchanged)
        #expect(plan.problems.map(\.key) == c.problems, "\(plan.problems)")
        if let w = c.warning { #expect(plan.warnings.contains { $0.contains(w) }, "\(plan.warnings)") }
        if let r = c.reason {
            #expect(plan.changes.contains { $0.reason?.contains(r) == true }, "\(plan.changes.map(\.reason))")
        }
    }

    @Test func aClusterWideChangeIsNeverSentPerBrokerAndAPerBrokerOneNeverAtTheDefault() throws {
        let plan = try ConfigFixture.plan(
            "log.retention.ms=1000\nlistener.name.ssl.ssl.truststore.location=/t.jks\nmax.connections=1000")
        for c in plan.changes {
            let atDefault = c.alterations.contains { $0.target == .clusterDefault }
            #expect(atDefault == (c.scope == .clusterWide), "\(c.key)")
        }
    }

    @Test func restartSummaryListsEveryNodeOfARestartChange() throws {
        let plan = try ConfigFixture.plan("num.partitions=3\nmessage.max.bytes=2000000\nbroker.rack=x", nodes: [2])
        #expect(plan.restartRequired)
        #expect(plan.restartNodes == [2])
        let none = try ConfigFixture.plan("message.max.bytes=2000000")
        #expect(!none.restartRequired)
        #expect(none.restartNodes.isEmpty)
    }

    @Test func sensitiveValuesAreAlwaysPlannedAndNeverPrinted() throws {
        let plan = try ConfigFixture.plan(
            "listener.name.ssl.ssl.keystore.password=hunter2\nssl.keystore.password=hunter3")
        let live = try #require(plan.changes("listener.name.ssl.ssl.keystore.password").first)
        #expect(live.isSensitive)
        #expect(live.action == .dynamic)
        let json = ConfigPlanOutput.json(plan)
        let table = ConfigPlanOutput.table(plan)
        for secret in ["hunter2", "hunter3"] {
            #expect(!json.contains(secret))
            #expect(!table.contains(secret))
        }
        #expect(json.contains(#""to":"[redacted]""#))
    }

    @Test func jsonFollowsTheContract() throws {
        let plan = try ConfigFixture.plan("num.partitions=3\nlog.retention.ms=86400000")
        let json = ConfigPlanOutput.json(plan)
        #expect(
            json.contains(
                #"{"key":"num.partitions","from":"1","to":"3","scope":"read-only","action":"restart","nodes":[1,2,3]}"#)
        )
        #expect(
            json.contains(
                #"{"key":"log.retention.ms","from":null,"to":"86400000","scope":"cluster-wide","action":"dynamic","nodes":[1,2,3]}"#
            ))
        #expect(json.contains(#""restart":{"required":true,"nodes":[1,2,3]}"#))
    }

    @Test func differingCurrentValuesAreReportedPerNode() throws {
        let plan = try ConfigFixture.plan(
            "num.partitions=3",
            current: ConfigFixture.cluster(perNode: [2: ["num.partitions": ConfigFixture.entry("2", .staticBroker)]]))
        let c = try #require(plan.changes.first)
        #expect(c.from == nil)
        #expect(c.fromByNode == [1: "1", 2: "2", 3: "1"])
    }

    /// Kafka 4.1.0's ClearElrRecord restart crash (docs/real-kafka-4.1.md): only a cluster-default
    /// min.insync.replicas change (set or removal) on 4.1 warns, in the table and in JSON.
    @Test func aClusterDefaultMinInsyncChangeOnKafka41WarnsOfTheRestartCrashInTextAndJson() throws {
        let marker = "ClearElrRecord"
        for version in ["4.1", "4.1.0"] {
            let plan = try ConfigFixture.plan("min.insync.replicas=2", version: version)
            let warning = try #require(plan.warnings.first { $0.contains(marker) }, "\(plan.warnings)")
            #expect(warning.contains("metadata.log.max.snapshot.interval.ms") && warning.contains("Ballast"))
            #expect(ConfigPlanOutput.table(plan).contains("warning: " + warning))
            #expect(ConfigPlanOutput.json(plan).contains("metadata.log.max.snapshot.interval.ms"))
        }
        let removal = try ConfigFixture.plan(
            "min.insync.replicas=",
            current: ConfigFixture.cluster(clusterDefault: ["min.insync.replicas": ConfigFixture.entry("2")]))
        #expect(removal.warnings.contains { $0.contains(marker) }, "\(removal.warnings)")
        let quiet = [
            try ConfigFixture.plan("min.insync.replicas=2", version: "3.9"),
            try ConfigFixture.plan("min.insync.replicas=2", nodes: [1]),
            try ConfigFixture.plan("min.insync.replicas=1"),
            try ConfigFixture.plan("log.retention.ms=1000"),
        ]
        for plan in quiet { #expect(!plan.warnings.contains { $0.contains(marker) }, "\(plan.warnings)") }
    }
}
