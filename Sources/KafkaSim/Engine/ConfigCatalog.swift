public import KafkaModel
import KafkaPolicies

public struct BrokerConfigDefinition: Sendable {
    public var name: String
    public var type: ConfigType
    public var defaultValue: String?
    public var mode: UpdateMode
    /// Kafka's valid-values text ("[1,...]", "[gzip, zstd]"), nil when unconstrained.
    public var validValues: String? = nil
}

public struct TopicConfigDefinition: Sendable {
    public var name: String
    public var type: ConfigType
    public var defaultValue: String?
    /// The broker config whose value is the topic's default (`log.retention.ms` for `retention.ms`).
    public var brokerSynonym: String?
}

/// Broker and topic config definitions of one Kafka version, looked up by name.
public struct SimConfigCatalog: Sendable {
    public let kafkaVersion: String
    public let broker: [String: BrokerConfigDefinition]
    public let brokerOrder: [String]
    public let topic: [String: TopicConfigDefinition]
    public let topicOrder: [String]

    /// The catalog of a Kafka version from KafkaPolicies' tables (kafka-config-facts), nil for an
    /// unparsable version. Unknown versions map to the nearest known one, as KafkaPolicies resolves them.
    public static func kafka(_ versionText: String) -> SimConfigCatalog? {
        guard let version = KafkaVersion(versionText) else { return nil }
        let broker = ConfigCatalog.broker(version: version)
        let topic = ConfigCatalog.topic(version: version)
        var brokerRows = broker.definitions.map { d in
            BrokerConfigDefinition(
                name: d.name, type: d.type, defaultValue: d.defaultValue.text,
                mode: d.updateMode ?? .readOnly, validValues: d.validValues)
        }
        // Dynamic-only configs (quotas) missing from the docs table; Long.MAX_VALUE means unlimited.
        for name in ConfigCatalog.undocumentedDynamicBrokerConfigs where broker[name] == nil {
            brokerRows.append(.init(name: name, type: .long, defaultValue: "9223372036854775807", mode: .clusterWide))
        }
        let topicRows = topic.definitions.map { d in
            TopicConfigDefinition(
                name: d.name, type: d.type, defaultValue: d.defaultValue.text,
                brokerSynonym: d.serverDefaultProperty)
        }
        return SimConfigCatalog(kafkaVersion: broker.version.description, brokerRows: brokerRows, topicRows: topicRows)
    }

    /// Kafka 4.1, the simulator's default.
    public static let kafka41 = kafka("4.1")!

    public init(kafkaVersion: String, brokerRows: [BrokerConfigDefinition], topicRows: [TopicConfigDefinition]) {
        self.kafkaVersion = kafkaVersion
        var b: [String: BrokerConfigDefinition] = [:]
        for row in brokerRows { b[row.name] = row }
        broker = b
        brokerOrder = brokerRows.map(\.name).sorted()
        var t: [String: TopicConfigDefinition] = [:]
        for row in topicRows { t[row.name] = row }
        topic = t
        topicOrder = topicRows.map(\.name).sorted()
    }
}
