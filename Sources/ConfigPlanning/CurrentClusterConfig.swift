public import KafkaModel

// The classifier reads DescribeConfigs answers as `ConfigEntry` (value, source, sensitive, read-only, synonyms);
// these are the few questions it asks of them.

extension ConfigEntry {
    /// An entry keyed by name elsewhere (the classifier's maps); `name` stays empty.
    public init(
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

/// What DescribeConfigs says about every node and about the cluster default: the classifier's "current" input.
public struct CurrentClusterConfig: Sendable, Hashable {
    /// Per node: every config DescribeConfigs returned for the broker resource `"<id>"`.
    public var nodes: [Int32: [String: ConfigEntry]]
    /// The cluster-default resource `""`: only the dynamic defaults that are set.
    public var clusterDefault: [String: ConfigEntry]
    /// Node roles; a node missing here counts as a broker (or is derived from its `process.roles` entry).
    public var roles: [Int32: Set<NodeRole>]

    public init(
        nodes: [Int32: [String: ConfigEntry]], clusterDefault: [String: ConfigEntry] = [:],
        roles: [Int32: Set<NodeRole>] = [:]
    ) {
        self.nodes = nodes
        self.clusterDefault = clusterDefault
        self.roles = roles
    }

    public var nodeIDs: [Int32] { nodes.keys.sorted() }

    public func roles(of node: Int32) -> Set<NodeRole> {
        if let r = roles[node] { return r }
        if let v = nodes[node]?["process.roles"]?.value, let r = Set<NodeRole>(processRoles: v) { return r }
        return [.broker]
    }

    public func entry(_ key: String, node: Int32) -> ConfigEntry? { nodes[node]?[key] }
}
