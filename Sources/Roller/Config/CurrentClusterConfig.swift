import Foundation
public import KafkaAdmin

// Roller reads DescribeConfigs answers as KafkaAdmin's `ConfigEntry` (value, source, sensitive, read-only,
// synonyms); these are the few questions the classifier asks of them.

extension ConfigSource {
    public var isDynamic: Bool { self == .dynamicBroker || self == .dynamicDefaultBroker }
}

extension ConfigEntry {
    /// An entry keyed by name elsewhere (the classifier's maps); `name` stays empty.
    init(
        value: String?, source: ConfigSource, isSensitive: Bool = false, isReadOnly: Bool = false,
        synonyms: [ConfigSynonym] = []
    ) {
        self.init(
            name: "", value: value, source: source, isReadOnly: isReadOnly, isSensitive: isSensitive,
            isDefault: source == .defaultConfig, synonyms: synonyms)
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
