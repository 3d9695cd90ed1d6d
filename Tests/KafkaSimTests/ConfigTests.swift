import KafkaModel
import KafkaWire
import Testing

@testable import KafkaSim

@Suite struct ConfigPrecedenceTests {
    @Test func perBrokerDynamicBeatsClusterDefaultBeatsStaticBeatsDefault() throws {
        var c = try smallCluster(configs: ["log.retention.ms": "1000"])
        #expect(c.brokerConfig(1, "num.io.threads")! == ("8", .defaultConfig))
        #expect(c.brokerConfig(1, "log.retention.ms")! == ("1000", .staticBroker))
        try c.alterConfigs(
            .clusterDefault, [.init(name: "log.retention.ms", value: "2000")], incremental: true, validateOnly: false,
            answeringBroker: 1)
        #expect(c.brokerConfig(1, "log.retention.ms")! == ("2000", .dynamicDefaultBroker))
        try c.alterConfigs(
            .broker(2), [.init(name: "log.retention.ms", value: "3000")], incremental: true, validateOnly: false,
            answeringBroker: 2)
        #expect(c.brokerConfig(2, "log.retention.ms")! == ("3000", .dynamicBroker))
        #expect(c.brokerConfig(1, "log.retention.ms")! == ("2000", .dynamicDefaultBroker))

        let described = try c.describeConfigs(.broker(2), keys: ["log.retention.ms"], answeringBroker: 2)
        #expect(described.count == 1)
        #expect(
            described[0].synonyms.map(\.source) == [
                .dynamicBroker, .dynamicDefaultBroker, .staticBroker,
            ])
        #expect(described[0].isReadOnly == false)

        try c.alterConfigs(
            .broker(2), [.init(name: "log.retention.ms", operation: .delete, value: nil)], incremental: true,
            validateOnly: false, answeringBroker: 2)
        #expect(c.brokerConfig(2, "log.retention.ms")! == ("2000", .dynamicDefaultBroker))
    }

    @Test func describeMarksReadOnlyAndHidesSensitiveValues() throws {
        var c = try smallCluster()
        try c.alterConfigs(
            .broker(1), [.init(name: "listener.name.plaintext.ssl.keystore.password", value: "secret")],
            incremental: true,
            validateOnly: false, answeringBroker: 1)
        let all = try c.describeConfigs(.broker(1), keys: nil, answeringBroker: 1)
        let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
        #expect(byName["log.dirs"]?.isReadOnly == true)
        #expect(byName["log.dirs"]?.source == .staticBroker)
        #expect(byName["listener.name.plaintext.ssl.keystore.password"]?.isSensitive == true)
        #expect(byName["listener.name.plaintext.ssl.keystore.password"]?.value == nil)
        #expect(byName["listener.name.plaintext.ssl.keystore.password"]?.source == .dynamicBroker)
        #expect(byName["broker.rack"]?.value == "rack-a")
    }

    @Test func topicConfigFallsBackToTheBrokerSynonym() throws {
        var c = try smallCluster()
        #expect(c.topicConfig(topic: 0, "retention.ms")!.source == .defaultConfig)
        try c.alterConfigs(
            .clusterDefault, [.init(name: "log.retention.ms", value: "5000")], incremental: true, validateOnly: false,
            answeringBroker: 1)
        #expect(c.topicConfig(topic: 0, "retention.ms")! == ("5000", .dynamicDefaultBroker))
        #expect(c.topicConfig(topic: 0, "min.insync.replicas")! == ("2", .dynamicTopic))
    }

    @Test func legacyAlterConfigsReplacesTheWholeLevel() throws {
        var c = try smallCluster()
        try c.alterConfigs(
            .clusterDefault, [.init(name: "log.retention.ms", value: "1"), .init(name: "num.io.threads", value: "4")],
            incremental: false, validateOnly: false, answeringBroker: 1)
        try c.alterConfigs(
            .clusterDefault, [.init(name: "num.io.threads", value: "6")], incremental: false, validateOnly: false,
            answeringBroker: 1)
        #expect(c.clusterDefaultConfigs == ["num.io.threads": "6"])
    }

    @Test func validateOnlyChangesNothing() throws {
        var c = try smallCluster()
        try c.alterConfigs(
            .broker(1), [.init(name: "num.io.threads", value: "4")], incremental: true, validateOnly: true,
            answeringBroker: 1)
        #expect(c.node(1)!.dynamicConfigs.isEmpty)
    }

    @Test func appendAndSubtractWorkOnListsOnly() throws {
        var c = try smallCluster()
        try c.alterConfigs(
            .topic("t"), [.init(name: "leader.replication.throttled.replicas", operation: .append, value: "0:1")],
            incremental: true, validateOnly: false, answeringBroker: 1)
        try c.alterConfigs(
            .topic("t"), [.init(name: "leader.replication.throttled.replicas", operation: .append, value: "1:2")],
            incremental: true, validateOnly: false, answeringBroker: 1)
        #expect(c.topics[0].configs["leader.replication.throttled.replicas"] == "0:1,1:2")
        try c.alterConfigs(
            .topic("t"), [.init(name: "leader.replication.throttled.replicas", operation: .subtract, value: "0:1")],
            incremental: true, validateOnly: false, answeringBroker: 1)
        #expect(c.topics[0].configs["leader.replication.throttled.replicas"] == "1:2")
        #expect {
            try c.alterConfigs(
                .topic("t"), [.init(name: "retention.ms", operation: .append, value: "1")], incremental: true,
                validateOnly: false, answeringBroker: 1)
        } throws: {
            $0 as? SimFailure
                == SimFailure(.invalidRequest, "Config value append is not allowed for config key: retention.ms")
        }
    }
}

/// One case of the config table: an alteration, where it is sent, and what Kafka answers.
struct ConfigCase: Sendable, CustomTestStringConvertible {
    var name: String
    var resource: ConfigResource
    var key: String
    var value: String?
    var op: ConfigAlteration.Operation = .set
    var incremental = true
    var answeringBroker: Int32 = 1
    var expected: KafkaErrorCode
    var message: String? = nil
    var testDescription: String { name }
}

/// Cases checked against Kafka's source (`ConfigAdminManager`, `DynamicBrokerConfig.validate`,
/// `LogConfig.validate`); see docs/simulator.md for the ones also run on a real Kafka 4.1 cluster.
let configCases: [ConfigCase] = [
    .init(
        name: "cluster-wide key per broker", resource: .broker(1), key: "log.retention.ms", value: "1000",
        expected: .none),
    .init(
        name: "cluster-wide key at cluster default", resource: .clusterDefault, key: "log.retention.ms", value: "1000",
        expected: .none),
    .init(
        name: "per-broker key per broker", resource: .broker(1), key: "listener.name.plaintext.ssl.keystore.password",
        value: "x", expected: .none),
    .init(
        name: "per-broker key at cluster default", resource: .clusterDefault,
        key: "listener.name.plaintext.ssl.keystore.password", value: "x", expected: .invalidRequest,
        message:
            "Cannot update these configs at default cluster level, broker id must be specified: Set(listener.name.plaintext.ssl.keystore.password)"
    ),
    .init(
        name: "security key without listener prefix", resource: .broker(1), key: "ssl.keystore.password", value: "x",
        expected: .invalidRequest,
        message:
            "These security configs can be dynamically updated only per-listener using the listener prefix: HashSet(ssl.keystore.password)"
    ),
    .init(
        name: "read-only key per broker", resource: .broker(1), key: "log.dirs", value: "/tmp",
        expected: .invalidRequest,
        message: "Cannot update these configs dynamically: Set(log.dirs)"),
    .init(
        name: "read-only key at cluster default", resource: .clusterDefault, key: "auto.leader.rebalance.enable",
        value: "false",
        expected: .invalidRequest, message: "Cannot update these configs dynamically: Set(auto.leader.rebalance.enable)"
    ),
    .init(
        name: "read-only key, legacy AlterConfigs", resource: .broker(1), key: "replica.lag.time.max.ms",
        value: "1000",
        incremental: false, expected: .invalidRequest,
        message: "Cannot update these configs dynamically: Set(replica.lag.time.max.ms)"),
    .init(
        name: "throttle rate at cluster default", resource: .clusterDefault, key: "follower.replication.throttled.rate",
        value: "1000", expected: .none),
    .init(
        name: "per-broker config sent to another broker", resource: .broker(2), key: "log.retention.ms", value: "1",
        answeringBroker: 1,
        expected: .invalidRequest, message: "Unexpected broker id, expected 1, but received 2"),
    .init(
        name: "non-numeric broker name", resource: ConfigResource(kind: .broker, name: "x"), key: "log.retention.ms",
        value: "1",
        expected: .invalidRequest,
        message: "Node id must be an integer, but it is: x"),
    .init(
        name: "wrong type for an int config", resource: .broker(1), key: "num.io.threads", value: "many",
        expected: .invalidRequest,
        message: "Invalid value many for configuration num.io.threads: Not a number of type INT"),
    .init(
        name: "unknown broker key is kept as custom", resource: .broker(1), key: "my.custom.key", value: "1",
        expected: .none),
    .init(name: "topic key on a topic", resource: .topic("t"), key: "retention.ms", value: "1000", expected: .none),
    .init(
        name: "unknown topic key", resource: .topic("t"), key: "no.such.config", value: "1", expected: .invalidConfig,
        message: "Unknown topic config name: no.such.config"),
    .init(
        name: "unknown topic", resource: .topic("missing"), key: "retention.ms", value: "1",
        expected: .unknownTopicOrPartition),
    .init(
        name: "min.insync.replicas 0 on a topic", resource: .topic("t"), key: "min.insync.replicas", value: "0",
        expected: .invalidConfig),
    .init(
        name: "null value in legacy AlterConfigs", resource: .broker(1), key: "log.retention.ms", value: nil,
        incremental: false,
        expected: .invalidRequest, message: "Null value not supported for : log.retention.ms"),
]

@Suite struct ConfigRejectionTests {
    @Test(arguments: configCases)
    func alterConfigsAnswersAsKafkaDoes(_ k: ConfigCase) throws {
        var c = try smallCluster()
        let before = (c.clusterDefaultConfigs, c.nodes.map(\.dynamicConfigs), c.topics.map(\.configs))
        do {
            try c.alterConfigs(
                k.resource, [.init(name: k.key, operation: k.op, value: k.value)], incremental: k.incremental,
                validateOnly: false,
                answeringBroker: k.answeringBroker)
            #expect(k.expected == .none, "accepted, but Kafka answers \(k.expected.name)")
        } catch {
            #expect(error.code == k.expected)
            if let m = k.message { #expect(error.message == m) }
            #expect(c.clusterDefaultConfigs == before.0)
            #expect(c.nodes.map(\.dynamicConfigs) == before.1)
            #expect(c.topics.map(\.configs) == before.2)
        }
    }
}

struct RealConfigCase: Sendable {
    var level: String
    var broker: Int32?
    var op: String
    var key: String
    var value: String?
    var accepted: Bool
    var error: String?
    var note: String?
}

/// The table measured on real Kafka 4.1 (kafka-configs.sh, 83 cases), replayed in order on a simulated
/// cluster configured like the harness (static num.io.threads=4, num.network.threads=3, log.segment.bytes=16 MiB).
@Suite struct RealKafkaConfigTableTests {
    @Test func everyCaseOfTheRealKafkaTableAnswersTheSame() throws {
        var topo = SimTopology()
        topo.brokers = 6
        topo.topics = 0
        topo.staticConfigs = ["num.io.threads": "4", "num.network.threads": "3", "log.segment.bytes": "16777216"]
        var c = try topo.build()
        var checked = 0
        for k in realKafkaConfigCases {
            // "Invalid config(s): KEY" on delete is kafka-configs.sh's own client-side check.
            if k.error?.hasPrefix("Invalid config(s)") == true { continue }
            let broker = k.broker ?? 2
            let resource: ConfigResource = k.level == "default" ? .clusterDefault : .broker(broker)
            let change = ConfigAlteration(name: k.key, operation: k.op == "delete" ? .delete : .set, value: k.value)
            let label = "\(k.level) \(k.op) \(k.key)=\(k.value ?? "")"
            do {
                try c.alterConfigs(resource, [change], incremental: true, validateOnly: false, answeringBroker: broker)
                #expect(k.accepted, "\(label): accepted, but Kafka said \(k.error ?? "")")
            } catch {
                #expect(!k.accepted, "\(label): rejected with \(error.message), but Kafka accepted it")
                if let e = k.error, let range = e.range(of: "Exception: ") {
                    let exception = e[..<range.lowerBound].split(separator: ".").last.map(String.init) ?? ""
                    let code: KafkaErrorCode = exception == "InvalidConfiguration" ? .invalidConfig : .invalidRequest
                    #expect(error.code == code, "\(label): \(error.code.name), Kafka: \(exception)Exception")
                    #expect(error.message == String(e[range.upperBound...]), "\(label)")
                }
            }
            checked += 1
        }
        #expect(checked == 80)
    }
}
