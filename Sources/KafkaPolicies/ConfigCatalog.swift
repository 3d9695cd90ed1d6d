public import KafkaModel

/// The documented configs of one Kafka version, looked up by name.
public struct ConfigCatalog: Sendable {
    public enum Kind: String, Sendable { case broker, topic }

    public let kind: Kind
    /// The known version whose table this is (see `resolution` for what was asked).
    public let version: KafkaVersion
    /// How the requested version mapped onto `version`; carries the warning for unknown versions.
    public let resolution: ResolvedKafkaVersion
    /// The configs in Kafka's documentation order.
    public let definitions: [ConfigDefinition]
    private let index: [String: Int]

    /// The broker configs of `version`, or of the nearest known version (see `resolution.warning`).
    public static func broker(version: KafkaVersion) -> ConfigCatalog {
        catalog(.broker, version.resolved())
    }

    /// The topic configs of `version`, or of the nearest known version (see `resolution.warning`).
    public static func topic(version: KafkaVersion) -> ConfigCatalog {
        catalog(.topic, version.resolved())
    }

    public subscript(name: String) -> ConfigDefinition? {
        index[name].map { definitions[$0] }
    }

    public var names: [String] { definitions.map(\.name) }

    public var count: Int { definitions.count }

    /// Broker configs with the given update mode, in documentation order.
    public func definitions(withMode mode: UpdateMode) -> [ConfigDefinition] {
        definitions.filter { $0.updateMode == mode }
    }

    /// Dynamic broker configs that Kafka accepts but does not list in its config table
    /// (`QuotaConfigs.brokerQuotaConfigs()`; see kafka-config-facts/SOURCES.md). Settable per broker and at the
    /// cluster default in every known version.
    public static let undocumentedDynamicBrokerConfigs: [String] = [
        "leader.replication.throttled.rate",
        "follower.replication.throttled.rate",
        "replica.alter.log.dirs.io.max.bytes.per.second",
    ]

    private init(kind: Kind, resolution: ResolvedKafkaVersion, definitions: [ConfigDefinition]) {
        self.kind = kind
        self.version = resolution.version
        self.resolution = resolution
        self.definitions = definitions
        var index: [String: Int] = [:]
        for (i, d) in definitions.enumerated() { index[d.name] = i }
        self.index = index
    }

    private static func catalog(_ kind: Kind, _ resolution: ResolvedKafkaVersion) -> ConfigCatalog {
        let parsed = ParsedTables.shared[resolution.version] ?? ParsedTables.Tables(broker: [], topic: [])
        return ConfigCatalog(
            kind: kind, resolution: resolution, definitions: kind == .broker ? parsed.broker : parsed.topic)
    }
}

/// The generated tables, parsed once.
enum ParsedTables {
    struct Tables: Sendable {
        var broker: [ConfigDefinition]
        var topic: [ConfigDefinition]
    }

    static let shared: [KafkaVersion: Tables] = {
        var all: [KafkaVersion: Tables] = [:]
        for v in GeneratedConfigTables.knownVersions {
            guard let (broker, topic) = GeneratedConfigTables.tables(major: v.major, minor: v.minor) else { continue }
            all[v] = Tables(broker: parse(broker, kind: .broker), topic: parse(topic, kind: .topic))
        }
        return all
    }()

    /// One line per config: broker `name|type|default|valid_values|importance|mode`, topic
    /// `name|type|default|valid_values|server_default_property|importance`. The generator validated every field,
    /// so a line that does not parse is a generator bug and is caught by the tests (counts per version).
    static func parse(_ table: String, kind: ConfigCatalog.Kind) -> [ConfigDefinition] {
        table.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 6, let type = ConfigType(rawValue: f[1]) else { return nil }
            let importanceField = kind == .broker ? f[4] : f[5]
            guard let importance = ConfigImportance(rawValue: importanceField) else { return nil }
            var mode: UpdateMode?
            var serverDefault: String?
            if kind == .broker {
                guard let m = UpdateMode(rawValue: f[5]) else { return nil }
                mode = m
            } else {
                serverDefault = f[4].isEmpty ? nil : f[4]
            }
            return ConfigDefinition(
                name: f[0], type: type, defaultValue: decodeDefault(f[2]), validValues: f[3].isEmpty ? nil : f[3],
                importance: importance, updateMode: mode, serverDefaultProperty: serverDefault)
        }
    }

    /// The facts' CSV encoding: empty = required, `""` = the empty string, `null` = null.
    static func decodeDefault(_ field: String) -> ConfigDefault {
        switch field {
        case "": .required
        case "\"\"": .value("")
        case "null": .null
        default: .value(field)
        }
    }
}
