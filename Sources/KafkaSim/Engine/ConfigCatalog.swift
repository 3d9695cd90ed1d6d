/// The configs the simulated Kafka version knows: names, types, defaults and dynamic update modes.
public enum ConfigType: Int8, Sendable {
    case boolean = 1, string = 2, int = 3, short = 4, long = 5, double = 6, list = 7, klass = 8, password = 9
}

/// Kafka's dynamic update mode of a broker config (`DynamicBrokerConfig`).
public enum ConfigUpdateMode: String, Sendable {
    case readOnly = "read-only"
    case perBroker = "per-broker"
    case clusterWide = "cluster-wide"
}

public struct BrokerConfigDefinition: Sendable {
    public var name: String
    public var type: ConfigType
    public var defaultValue: String?
    public var mode: ConfigUpdateMode
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

    /// Broker configs that exist only as dynamic configs (`DynamicConfig.Broker`), absent from the docs table.
    static let dynamicOnly: [BrokerConfigDefinition] = [
        .init(name: "leader.replication.throttled.rate", type: .long, defaultValue: "9223372036854775807", mode: .clusterWide),
        .init(name: "follower.replication.throttled.rate", type: .long, defaultValue: "9223372036854775807", mode: .clusterWide),
        .init(
            name: "replica.alter.log.dirs.io.max.bytes.per.second", type: .long, defaultValue: "9223372036854775807",
            mode: .clusterWide),
    ]

    /// The catalog of Kafka 4.1, the only version whose defaults the simulator carries.
    public static let kafka41 = SimConfigCatalog(
        kafkaVersion: "4.1", brokerRows: brokerRows41 + dynamicOnly, topicRows: topicRows41)

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

    /// The same catalog with update modes replaced (from KafkaPolicies for another Kafka version).
    public func withModes(version: String, _ mode: (String) -> ConfigUpdateMode?) -> SimConfigCatalog {
        let rows = brokerOrder.compactMap { name -> BrokerConfigDefinition? in
            guard var row = broker[name] else { return nil }
            if let m = mode(name) { row.mode = m }
            return row
        }
        return SimConfigCatalog(kafkaVersion: version, brokerRows: rows, topicRows: topicOrder.compactMap { topic[$0] })
    }
}
