/// What a config is attached to. A broker resource with an empty name is the cluster-wide default.
public struct ConfigResource: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case topic, broker, brokerLogger
        /// Kafka's `ConfigResource.Type` code.
        public var code: Int8 {
            switch self {
            case .topic: 2
            case .broker: 4
            case .brokerLogger: 8
            }
        }
    }
    public var kind: Kind
    public var name: String

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    public static func topic(_ name: String) -> ConfigResource { ConfigResource(kind: .topic, name: name) }
    public static func broker(_ id: Int32) -> ConfigResource { ConfigResource(kind: .broker, name: String(id)) }
    /// The dynamic cluster-wide default that every broker inherits (`--entity-default`).
    public static let clusterDefault = ConfigResource(kind: .broker, name: "")

    public var displayName: String {
        switch kind {
        case .topic: "topic '\(name)'"
        case .broker: name.isEmpty ? "the cluster-wide broker default" : "broker \(name)"
        case .brokerLogger: "broker \(name) loggers"
        }
    }
}

/// Where a config value comes from, in Kafka's precedence order.
public enum ConfigSource: String, Sendable, Hashable, Codable {
    case unknown = "UNKNOWN"
    case dynamicTopic = "DYNAMIC_TOPIC_CONFIG"
    case dynamicBroker = "DYNAMIC_BROKER_CONFIG"
    case dynamicDefaultBroker = "DYNAMIC_DEFAULT_BROKER_CONFIG"
    case staticBroker = "STATIC_BROKER_CONFIG"
    case defaultConfig = "DEFAULT_CONFIG"
    case dynamicBrokerLogger = "DYNAMIC_BROKER_LOGGER_CONFIG"
    case clientMetrics = "CLIENT_METRICS_CONFIG"
    case group = "GROUP_CONFIG"

    /// DescribeConfigs v1+ `ConfigSource` code.
    public init(code: Int8) {
        self =
            switch code {
            case 1: .dynamicTopic
            case 2: .dynamicBroker
            case 3: .dynamicDefaultBroker
            case 4: .staticBroker
            case 5: .defaultConfig
            case 6: .dynamicBrokerLogger
            case 7: .clientMetrics
            case 8: .group
            default: .unknown
            }
    }
}

public struct ConfigSynonym: Sendable, Hashable, Codable {
    public var name: String
    public var value: String?
    public var source: ConfigSource

    public init(name: String, value: String?, source: ConfigSource) {
        self.name = name
        self.value = value
        self.source = source
    }
}

public struct ConfigEntry: Sendable, Hashable, Codable {
    public var name: String
    /// nil for sensitive values (Kafka never returns them) and unset ones.
    public var value: String?
    public var source: ConfigSource
    public var isReadOnly: Bool
    public var isSensitive: Bool
    public var isDefault: Bool
    /// Most specific first: the entry itself, then what it would fall back to.
    public var synonyms: [ConfigSynonym]

    public init(
        name: String, value: String?, source: ConfigSource, isReadOnly: Bool = false, isSensitive: Bool = false,
        isDefault: Bool = false, synonyms: [ConfigSynonym] = []
    ) {
        self.name = name
        self.value = value
        self.source = source
        self.isReadOnly = isReadOnly
        self.isSensitive = isSensitive
        self.isDefault = isDefault
        self.synonyms = synonyms
    }
}

public struct ResourceConfigs: Sendable, Hashable, Codable {
    public var resource: ConfigResource
    public var entries: [ConfigEntry]

    public init(resource: ConfigResource, entries: [ConfigEntry]) {
        self.resource = resource
        self.entries = entries
    }

    public subscript(name: String) -> ConfigEntry? { entries.first { $0.name == name } }
}

/// One change of IncrementalAlterConfigs.
public struct ConfigAlteration: Sendable, Hashable, Codable {
    public enum Operation: Int8, Sendable, Hashable, Codable {
        case set = 0
        case delete = 1
        case append = 2
        case subtract = 3
    }
    public var name: String
    public var operation: Operation
    /// Ignored for `.delete`.
    public var value: String?

    public init(name: String, operation: Operation = .set, value: String?) {
        self.name = name
        self.operation = operation
        self.value = value
    }

    public static func set(_ name: String, _ value: String) -> ConfigAlteration {
        ConfigAlteration(name: name, operation: .set, value: value)
    }
    public static func delete(_ name: String) -> ConfigAlteration {
        ConfigAlteration(name: name, operation: .delete, value: nil)
    }
}

/// A topic for `createTopics`: either a partition count and replication factor, or an explicit assignment.
public struct NewTopic: Sendable, Hashable, Codable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int16
    /// partition index → replicas; when set, `partitions`/`replicationFactor` are derived from it.
    public var replicaAssignment: [[Int32]]?
    public var configs: [String: String]

    public init(
        name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1, replicaAssignment: [[Int32]]? = nil,
        configs: [String: String] = [:]
    ) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.replicaAssignment = replicaAssignment
        self.configs = configs
    }
}
