public import Foundation
public import KafkaModel
public import KafkaPolicies

/// The `--current FILE` format: a JSON dump of DescribeConfigs for every node and the cluster default.
///
/// ```json
/// {"kafkaVersion": "4.1.0",
///  "clusterDefault": {"log.retention.ms": {"value": "86400000", "source": "DYNAMIC_DEFAULT_BROKER_CONFIG"}},
///  "nodes": [{"id": 1, "roles": ["broker", "controller"],
///             "configs": {"num.io.threads": {"value": "8", "source": "DEFAULT_CONFIG",
///                                            "sensitive": false, "readOnly": false}}}]}
/// ```
/// `kafkaVersion` and `roles` are optional; `source` is Kafka's ConfigSource name.
public struct ConfigDump: Sendable, Hashable, Codable {
    /// One config as dumped: KafkaAdmin's `ConfigEntry` without its name, with optional flags.
    public struct Entry: Sendable, Hashable, Codable {
        public var value: String?
        public var source: ConfigSource
        public var sensitive: Bool?
        public var readOnly: Bool?
        public var synonyms: [ConfigSynonym]?

        public init(_ e: ConfigEntry) {
            value = e.value
            source = e.source
            sensitive = e.isSensitive
            readOnly = e.isReadOnly
            synonyms = e.synonyms.isEmpty ? nil : e.synonyms
        }

        public func entry(name: String) -> ConfigEntry {
            ConfigEntry(
                name: name, value: value, source: source, isReadOnly: readOnly ?? false,
                isSensitive: sensitive ?? false, isDefault: source == .defaultConfig, synonyms: synonyms ?? [])
        }
    }

    public struct Node: Sendable, Hashable, Codable {
        public var id: Int32
        public var roles: [String]?
        public var configs: [String: Entry]

        public init(id: Int32, roles: [String]? = nil, configs: [String: Entry]) {
            self.id = id
            self.roles = roles
            self.configs = configs
        }
    }

    public var kafkaVersion: String?
    public var clusterDefault: [String: Entry]?
    public var nodes: [Node]

    public init(kafkaVersion: String? = nil, clusterDefault: [String: Entry]? = nil, nodes: [Node]) {
        self.kafkaVersion = kafkaVersion
        self.clusterDefault = clusterDefault
        self.nodes = nodes
    }

    public init(_ current: CurrentClusterConfig, kafkaVersion: KafkaVersion? = nil) {
        self.kafkaVersion = kafkaVersion?.description
        clusterDefault = current.clusterDefault.mapValues(Entry.init)
        nodes = current.nodeIDs.map { id in
            let roles = current.roles(of: id).sorted().map(\.rawValue)
            return Node(id: id, roles: roles, configs: (current.nodes[id] ?? [:]).mapValues(Entry.init))
        }
    }

    public var current: CurrentClusterConfig {
        var roles: [Int32: Set<NodeRole>] = [:]
        for n in nodes {
            if let r = n.roles, let parsed = Set<NodeRole>(processRoles: r.joined(separator: ",")) {
                roles[n.id] = parsed
            }
        }
        func entries(_ m: [String: Entry]) -> [String: ConfigEntry] {
            Dictionary(uniqueKeysWithValues: m.map { ($0.key, $0.value.entry(name: $0.key)) })
        }
        return CurrentClusterConfig(
            nodes: Dictionary(nodes.map { ($0.id, entries($0.configs)) }, uniquingKeysWith: { a, _ in a }),
            clusterDefault: entries(clusterDefault ?? [:]), roles: roles)
    }

    public static func decode(_ data: Data, fileName: String) throws -> ConfigDump {
        do {
            let dump = try JSONDecoder().decode(ConfigDump.self, from: data)
            var seen = Set<Int32>()
            for n in dump.nodes where !seen.insert(n.id).inserted {
                throw ConfigDumpError(message: "\(fileName): node \(n.id) appears twice")
            }
            return dump
        } catch let e as ConfigDumpError {
            throw e
        } catch let DecodingError.dataCorrupted(ctx) {
            throw ConfigDumpError(message: "\(fileName) is not valid JSON: \(ctx.debugDescription)")
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw ConfigDumpError(message: "\(fileName): \(path(ctx)) lacks \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ConfigDumpError(message: "\(fileName): \(path(ctx)) has the wrong type")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw ConfigDumpError(message: "\(fileName): \(path(ctx)) is null")
        }
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    static func path(_ ctx: DecodingError.Context) -> String {
        let p = ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return p.isEmpty ? "the top level" : p
    }
}

public struct ConfigDumpError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension ConfigDumpError: CategorizedError {
    public var category: ErrorCategory { .badInput }
}
