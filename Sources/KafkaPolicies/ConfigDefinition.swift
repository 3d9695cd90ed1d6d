public import KafkaModel

public enum ConfigImportance: String, Sendable, Hashable, CaseIterable, Codable {
    case high, medium, low
}

/// The default of a config as Kafka documents it.
public enum ConfigDefault: Sendable, Hashable {
    /// No default: the config is required.
    case required
    /// The default is null (unset).
    case null
    /// A default value, as text ("" is the empty string).
    case value(String)

    /// The value, nil when required or null.
    public var text: String? {
        if case .value(let v) = self { v } else { nil }
    }
}

/// One documented broker or topic config of one Kafka version.
public struct ConfigDefinition: Sendable, Hashable {
    public var name: String
    public var type: ConfigType
    public var defaultValue: ConfigDefault
    /// Kafka's description of the valid values ("[0,...]", "[compact, delete]"), nil when unconstrained.
    public var validValues: String?
    public var importance: ConfigImportance
    /// For broker configs: how it can change live. Nil for topic configs (always dynamic, per topic).
    public var updateMode: UpdateMode?
    /// For topic configs: the broker config that supplies its default (`retention.ms` → `log.retention.ms`).
    public var serverDefaultProperty: String?

    public init(
        name: String, type: ConfigType, defaultValue: ConfigDefault, validValues: String? = nil,
        importance: ConfigImportance, updateMode: UpdateMode? = nil, serverDefaultProperty: String? = nil
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.validValues = validValues
        self.importance = importance
        self.updateMode = updateMode
        self.serverDefaultProperty = serverDefaultProperty
    }

    /// Password-typed configs: their values are never printed.
    public var isSensitive: Bool { type == .password }
}
