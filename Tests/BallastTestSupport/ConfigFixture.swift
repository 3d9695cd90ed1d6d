public import ConfigPlanning
public import KafkaModel
import KafkaPolicies

/// A small KRaft cluster as DescribeConfigs would describe it.
public enum ConfigFixture {
    public static func entry(_ value: String?, _ source: ConfigSource = .defaultConfig, sensitive: Bool = false)
        -> ConfigEntry
    {
        ConfigEntry(value: value, source: source, isSensitive: sensitive)
    }

    /// What every broker reports unless a test overrides it.
    public static let base: [String: ConfigEntry] = [
        "listeners": entry("PLAINTEXT://:9092,SSL://:9093", .staticBroker),
        "advertised.listeners": entry("PLAINTEXT://localhost:9092,SSL://localhost:9093", .staticBroker),
        "listener.security.protocol.map": entry("PLAINTEXT:PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT", .staticBroker),
        "controller.listener.names": entry("CONTROLLER", .staticBroker),
        "process.roles": entry("broker", .staticBroker),
        "num.io.threads": entry("8"),
        "num.network.threads": entry("3"),
        "num.replica.fetchers": entry("1"),
        "background.threads": entry("10"),
        "log.cleaner.threads": entry("1"),
        "log.retention.ms": entry(nil),
        "log.retention.minutes": entry(nil),
        "log.retention.hours": entry("168"),
        "log.roll.ms": entry(nil),
        "log.roll.hours": entry("168"),
        "message.max.bytes": entry("1048588"),
        "min.insync.replicas": entry("1"),
        "compression.type": entry("producer"),
        "max.connections": entry("2147483647"),
        "metric.reporters": entry("org.apache.kafka.common.metrics.JmxReporter"),
        "ssl.keystore.location": entry(nil),
        "ssl.keystore.password": entry(nil, sensitive: true),
        "ssl.cipher.suites": entry(""),
        "ssl.client.auth": entry("none"),
        "sasl.enabled.mechanisms": entry("GSSAPI"),
        "auto.create.topics.enable": entry("true"),
        "num.partitions": entry("1"),
        "unclean.leader.election.enable": entry("false"),
        "log.cleaner.min.cleanable.ratio": entry("0.5"),
        "log.cleanup.policy": entry("delete"),
        "broker.rack": entry(nil),
        "node.id": entry("1", .staticBroker),
        "remote.log.reader.threads": entry("10"),
    ]

    public static func cluster(
        nodes: [Int32] = [1, 2, 3], roles: [Int32: Set<NodeRole>] = [:],
        perNode: [Int32: [String: ConfigEntry]] = [:], clusterDefault: [String: ConfigEntry] = [:]
    ) -> CurrentClusterConfig {
        var all: [Int32: [String: ConfigEntry]] = [:]
        for id in nodes {
            var configs = base
            configs["node.id"] = entry(String(id), .staticBroker)
            // The cluster default shows through on every node that has no per-broker value.
            for (k, e) in clusterDefault {
                configs[k] = ConfigEntry(value: e.value, source: .dynamicDefaultBroker, isSensitive: e.isSensitive)
            }
            for (k, e) in perNode[id] ?? [:] { configs[k] = e }
            all[id] = configs
        }
        return CurrentClusterConfig(nodes: all, clusterDefault: clusterDefault, roles: roles)
    }

    public static func plan(
        _ text: String, current: CurrentClusterConfig = cluster(), nodes: [Int32]? = nil, version: String = "4.1"
    ) throws -> ConfigChangePlan {
        let desired = try DesiredConfig(parsing: text)
        return ConfigClassifier(version: KafkaVersion(version)!).plan(desired: desired, current: current, nodes: nodes)
    }
}

extension ConfigChangePlan {
    public func changes(_ key: String) -> [ConfigChange] { changes.filter { $0.key == key } }
}
