import Foundation

/// Where a config value comes from, as DescribeConfigs reports it (Kafka's `ConfigSource`).
public enum ConfigSource: String, Sendable, Hashable, Codable, CaseIterable {
    case unknown = "UNKNOWN"
    case dynamicTopic = "DYNAMIC_TOPIC_CONFIG"
    /// A per-broker dynamic override (resource = the broker id).
    case dynamicBroker = "DYNAMIC_BROKER_CONFIG"
    /// A cluster-wide dynamic default (resource = "").
    case dynamicDefaultBroker = "DYNAMIC_DEFAULT_BROKER_CONFIG"
    /// server.properties.
    case staticBroker = "STATIC_BROKER_CONFIG"
    /// Kafka's built-in default.
    case defaultConfig = "DEFAULT_CONFIG"
    case dynamicBrokerLogger = "DYNAMIC_BROKER_LOGGER_CONFIG"
    case clientMetrics = "CLIENT_METRICS_CONFIG"
    case group = "GROUP_CONFIG"

    /// The DescribeConfigs wire value (v1+ `ConfigSource` int8).
    public init(wireValue: Int8) {
        self =
            switch wireValue {
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

    public var isDynamic: Bool { self == .dynamicBroker || self == .dynamicDefaultBroker }
}

/// One lower-precedence definition of a config (DescribeConfigs `includeSynonyms`).
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

/// One config of one broker resource as DescribeConfigs reports it.
public struct ConfigEntry: Sendable, Hashable, Codable {
    /// The effective value; nil when null, or when sensitive (Kafka never returns sensitive values).
    public var value: String?
    public var source: ConfigSource
    public var isSensitive: Bool
    public var isReadOnly: Bool
    /// Synonyms in order of precedence, the entry itself first (empty when not requested).
    public var synonyms: [ConfigSynonym]

    public init(
        value: String?, source: ConfigSource, isSensitive: Bool = false, isReadOnly: Bool = false,
        synonyms: [ConfigSynonym] = []
    ) {
        self.value = value
        self.source = source
        self.isSensitive = isSensitive
        self.isReadOnly = isReadOnly
        self.synonyms = synonyms
    }

    enum CodingKeys: String, CodingKey {
        case value, source, isSensitive = "sensitive", isReadOnly = "readOnly", synonyms
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        value = try c.decodeIfPresent(String.self, forKey: .value)
        source = try c.decodeIfPresent(ConfigSource.self, forKey: .source) ?? .unknown
        isSensitive = try c.decodeIfPresent(Bool.self, forKey: .isSensitive) ?? false
        isReadOnly = try c.decodeIfPresent(Bool.self, forKey: .isReadOnly) ?? false
        synonyms = try c.decodeIfPresent([ConfigSynonym].self, forKey: .synonyms) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value)
        try c.encode(source, forKey: .source)
        try c.encode(isSensitive, forKey: .isSensitive)
        try c.encode(isReadOnly, forKey: .isReadOnly)
        if !synonyms.isEmpty { try c.encode(synonyms, forKey: .synonyms) }
    }

    /// The value the config falls back to when its dynamic overrides are removed: the first synonym that is
    /// static or a default. Nil when unknown (no synonyms reported) or null.
    public var valueWithoutDynamicOverrides: String? {
        synonyms.first { !$0.source.isDynamic }?.value
    }
}

/// The roles of a KRaft node (`process.roles`).
public struct NodeRoles: Sendable, Hashable, Codable {
    public var broker: Bool
    public var controller: Bool

    public init(broker: Bool, controller: Bool) {
        self.broker = broker
        self.controller = controller
    }

    public static let broker = NodeRoles(broker: true, controller: false)
    public static let controller = NodeRoles(broker: false, controller: true)
    public static let combined = NodeRoles(broker: true, controller: true)

    public var isControllerOnly: Bool { controller && !broker }

    /// Parses a `process.roles` value ("broker,controller"); nil when it names neither role.
    public init?(processRoles: String) {
        let roles = Set(processRoles.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        guard roles.contains("broker") || roles.contains("controller") else { return nil }
        self.init(broker: roles.contains("broker"), controller: roles.contains("controller"))
    }
}

/// What DescribeConfigs says about every node and about the cluster default: the classifier's "current" input.
public struct CurrentClusterConfig: Sendable, Hashable {
    /// Per node: every config DescribeConfigs returned for the broker resource `"<id>"`.
    public var nodes: [Int32: [String: ConfigEntry]]
    /// The cluster-default resource `""`: only the dynamic defaults that are set.
    public var clusterDefault: [String: ConfigEntry]
    /// Node roles; a node missing here counts as a broker (or is derived from its `process.roles` entry).
    public var roles: [Int32: NodeRoles]

    public init(
        nodes: [Int32: [String: ConfigEntry]], clusterDefault: [String: ConfigEntry] = [:],
        roles: [Int32: NodeRoles] = [:]
    ) {
        self.nodes = nodes
        self.clusterDefault = clusterDefault
        self.roles = roles
    }

    public var nodeIDs: [Int32] { nodes.keys.sorted() }

    public func roles(of node: Int32) -> NodeRoles {
        if let r = roles[node] { return r }
        if let v = nodes[node]?["process.roles"]?.value, let r = NodeRoles(processRoles: v) { return r }
        return .broker
    }

    public func entry(_ key: String, node: Int32) -> ConfigEntry? { nodes[node]?[key] }
}
