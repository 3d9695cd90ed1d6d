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

        /// The kind of a `ConfigResource.Type` code; nil for codes Ballast does not handle.
        public init?(code: Int8) {
            switch code {
            case 2: self = .topic
            case 4: self = .broker
            case 8: self = .brokerLogger
            default: return nil
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
    public var code: Int8 {
        switch self {
        case .unknown: 0
        case .dynamicTopic: 1
        case .dynamicBroker: 2
        case .dynamicDefaultBroker: 3
        case .staticBroker: 4
        case .defaultConfig: 5
        case .dynamicBrokerLogger: 6
        case .clientMetrics: 7
        case .group: 8
        }
    }

    /// A dynamic broker override (per broker or the cluster default), which IncrementalAlterConfigs can remove.
    public var isDynamic: Bool { self == .dynamicBroker || self == .dynamicDefaultBroker }

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
    /// The config's type (DescribeConfigs v3+); nil when the answer did not say.
    public var type: ConfigType?

    public init(
        name: String, value: String?, source: ConfigSource, isReadOnly: Bool = false, isSensitive: Bool = false,
        isDefault: Bool = false, synonyms: [ConfigSynonym] = [], type: ConfigType? = nil
    ) {
        self.name = name
        self.value = value
        self.source = source
        self.isReadOnly = isReadOnly
        self.isSensitive = isSensitive
        self.isDefault = isDefault
        self.synonyms = synonyms
        self.type = type
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

/// How a broker config can change on a running cluster (Kafka's "Update Mode" column, from
/// `DynamicBrokerConfig`).
public enum UpdateMode: String, Sendable, Hashable, CaseIterable, Codable {
    /// Only at restart, from server.properties.
    case readOnly = "read-only"
    /// Live, for one broker at a time (a per-broker dynamic override); never at the cluster default.
    case perBroker = "per-broker"
    /// Live, at the cluster default or per broker.
    case clusterWide = "cluster-wide"

    public var isDynamic: Bool { self != .readOnly }
}

/// Kafka's ConfigDef types.
public enum ConfigType: String, Sendable, Hashable, CaseIterable, Codable {
    case boolean, string, int, long, short, double, list, `class`, password

    /// DescribeConfigs v3+ `ConfigType` code.
    public var code: Int8 {
        switch self {
        case .boolean: 1
        case .string: 2
        case .int: 3
        case .short: 4
        case .long: 5
        case .double: 6
        case .list: 7
        case .class: 8
        case .password: 9
        }
    }

    /// The type of a DescribeConfigs v3+ `ConfigType` code; nil for 0 (unknown) and codes Ballast does not know.
    public init?(code: Int8) {
        guard let t = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = t
    }
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
