public import Foundation
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
    public struct Node: Sendable, Hashable, Codable {
        public var id: Int32
        public var roles: [String]?
        public var configs: [String: ConfigEntry]

        public init(id: Int32, roles: [String]? = nil, configs: [String: ConfigEntry]) {
            self.id = id
            self.roles = roles
            self.configs = configs
        }
    }

    public var kafkaVersion: String?
    public var clusterDefault: [String: ConfigEntry]?
    public var nodes: [Node]

    public init(kafkaVersion: String? = nil, clusterDefault: [String: ConfigEntry]? = nil, nodes: [Node]) {
        self.kafkaVersion = kafkaVersion
        self.clusterDefault = clusterDefault
        self.nodes = nodes
    }

    public init(_ current: CurrentClusterConfig, kafkaVersion: KafkaVersion? = nil) {
        self.kafkaVersion = kafkaVersion?.description
        clusterDefault = current.clusterDefault
        nodes = current.nodeIDs.map { id in
            let r = current.roles(of: id)
            let roles = [r.broker ? "broker" : nil, r.controller ? "controller" : nil].compactMap { $0 }
            return Node(id: id, roles: roles, configs: current.nodes[id] ?? [:])
        }
    }

    public var current: CurrentClusterConfig {
        var roles: [Int32: NodeRoles] = [:]
        for n in nodes {
            if let r = n.roles, let parsed = NodeRoles(processRoles: r.joined(separator: ",")) { roles[n.id] = parsed }
        }
        return CurrentClusterConfig(
            nodes: Dictionary(nodes.map { ($0.id, $0.configs) }, uniquingKeysWith: { a, _ in a }),
            clusterDefault: clusterDefault ?? [:], roles: roles)
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
