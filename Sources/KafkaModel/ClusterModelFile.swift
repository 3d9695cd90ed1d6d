import Foundation

/// A model file that cannot be used: `field` names the field at fault (`topics[0].partitions[2].replicas`).
public struct ModelFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var reason: String
    public var description: String { "model field \(field): \(reason)" }

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}

/// The cluster model file of DESIGN.md, as decoded, with the one set of rules every reader applies (`validate`).
/// Units: disk MiB, network KiB/s, CPU in percent of one broker.
///
/// Readers may demand more and say which field: the planner needs every broker's disk capacity, the simulator
/// needs partition ids `0..<n` and legal topic names. `configs` per broker is an extension the simulator reads.
public struct ClusterModelFile: Codable, Sendable, Hashable {
    /// A broker's capacity or a partition's load: disk MiB, network KiB/s in and out, CPU in percent of a broker.
    public struct Resources: Codable, Sendable, Hashable {
        public var disk: Double?
        public var networkIn: Double?
        public var networkOut: Double?
        public var cpu: Double?

        public init(disk: Double? = nil, networkIn: Double? = nil, networkOut: Double? = nil, cpu: Double? = nil) {
            self.disk = disk
            self.networkIn = networkIn
            self.networkOut = networkOut
            self.cpu = cpu
        }
    }

    public struct Broker: Codable, Sendable, Hashable {
        public var id: Int32
        public var rack: String?
        /// The Kubernetes cluster; nil: one cluster.
        public var cluster: String?
        public var state: BrokerState?
        public var capacity: Resources?
        /// Static configs of this node (an extension of the format, read by the simulator).
        public var configs: [String: String]?

        public init(
            id: Int32, rack: String? = nil, cluster: String? = nil, state: BrokerState? = nil,
            capacity: Resources? = nil, configs: [String: String]? = nil
        ) {
            self.id = id
            self.rack = rack
            self.cluster = cluster
            self.state = state
            self.capacity = capacity
            self.configs = configs
        }
    }

    public struct Partition: Codable, Sendable, Hashable {
        public var id: Int32
        public var replicas: [Int32]
        /// -1: offline; nil: the first replica.
        public var leader: Int32?
        public var load: Resources?

        public init(id: Int32, replicas: [Int32], leader: Int32? = nil, load: Resources? = nil) {
            self.id = id
            self.replicas = replicas
            self.leader = leader
            self.load = load
        }
    }

    public struct Topic: Codable, Sendable, Hashable {
        public var name: String
        public var minInSyncReplicas: Int?
        public var partitions: [Partition]

        public init(name: String, minInSyncReplicas: Int? = nil, partitions: [Partition]) {
            self.name = name
            self.minInSyncReplicas = minInSyncReplicas
            self.partitions = partitions
        }
    }

    public var brokers: [Broker]
    public var topics: [Topic]

    public init(brokers: [Broker], topics: [Topic]) {
        self.brokers = brokers
        self.topics = topics
    }

    /// Decodes and validates a model file.
    /// - Throws: `ModelFileError` naming the first field at fault.
    public static func decode(_ bytes: [UInt8]) throws(ModelFileError) -> ClusterModelFile {
        let file: ClusterModelFile
        do {
            file = try JSONDecoder().decode(ClusterModelFile.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw describe(error)
        } catch {
            throw ModelFileError(field: "(file)", reason: "not valid JSON")
        }
        try file.validate()
        return file
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// The rules every reader applies: at least one broker, unique non-negative broker ids, positive capacities,
    /// unique topic names, min ISR ≥ 1, unique partition ids, replicas that are distinct known brokers, a leader
    /// among them (or -1), non-negative loads.
    public func validate() throws(ModelFileError) {
        if brokers.isEmpty { throw ModelFileError(field: "brokers", reason: "no brokers") }
        var ids = Set<Int32>()
        for (i, b) in brokers.enumerated() {
            if b.id < 0 { throw ModelFileError(field: "brokers[\(i)].id", reason: "broker id \(b.id) is negative") }
            if !ids.insert(b.id).inserted {
                throw ModelFileError(field: "brokers[\(i)].id", reason: "broker \(b.id) appears twice")
            }
            let c = b.capacity
            for (name, value) in [
                ("disk", c?.disk), ("networkIn", c?.networkIn), ("networkOut", c?.networkOut), ("cpu", c?.cpu),
            ] {
                if let value, !(value > 0 && value.isFinite) {
                    throw ModelFileError(field: "brokers[\(i)].capacity.\(name)", reason: "must be a positive number")
                }
            }
        }
        var topicNames = Set<String>()
        for (ti, t) in topics.enumerated() {
            let tf = "topics[\(ti)]"
            if t.name.isEmpty { throw ModelFileError(field: "\(tf).name", reason: "is empty") }
            if !topicNames.insert(t.name).inserted {
                throw ModelFileError(field: "\(tf).name", reason: "topic \(t.name) appears twice")
            }
            if let m = t.minInSyncReplicas, m < 1 {
                throw ModelFileError(field: "\(tf).minInSyncReplicas", reason: "must be at least 1")
            }
            var partitionIds = Set<Int32>()
            for (pi, p) in t.partitions.enumerated() {
                let pf = "\(tf).partitions[\(pi)]"
                if !partitionIds.insert(p.id).inserted {
                    throw ModelFileError(field: "\(pf).id", reason: "partition \(p.id) appears twice")
                }
                if p.replicas.isEmpty { throw ModelFileError(field: "\(pf).replicas", reason: "no replicas") }
                var seen = Set<Int32>()
                for id in p.replicas {
                    if !ids.contains(id) {
                        throw ModelFileError(field: "\(pf).replicas", reason: "broker \(id) is not in brokers")
                    }
                    if !seen.insert(id).inserted {
                        throw ModelFileError(field: "\(pf).replicas", reason: "broker \(id) appears twice")
                    }
                }
                if let l = p.leader, l != -1, !p.replicas.contains(l) {
                    throw ModelFileError(field: "\(pf).leader", reason: "broker \(l) is not one of the replicas")
                }
                let l = p.load
                for (name, value) in [
                    ("disk", l?.disk), ("networkIn", l?.networkIn), ("networkOut", l?.networkOut), ("cpu", l?.cpu),
                ] {
                    if let value, !(value >= 0 && value.isFinite) {
                        throw ModelFileError(field: "\(pf).load.\(name)", reason: "must be a non-negative number")
                    }
                }
            }
        }
    }

    /// One error naming the field a `DecodingError` is about (model files, policy files and the like).
    public static func describe(_ error: DecodingError) -> ModelFileError {
        func path(_ keys: [any CodingKey]) -> String {
            var s = ""
            for k in keys {
                if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
            }
            return s.isEmpty ? "(file)" : s
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            return ModelFileError(field: path(ctx.codingPath + [key]), reason: "is missing")
        case .typeMismatch(let type, let ctx):
            return ModelFileError(field: path(ctx.codingPath), reason: "expected \(typeName(type))")
        case .valueNotFound(let type, let ctx):
            return ModelFileError(field: path(ctx.codingPath), reason: "expected \(typeName(type)), got null")
        case .dataCorrupted(let ctx):
            if ctx.codingPath.last?.stringValue == "state" {
                return ModelFileError(
                    field: path(ctx.codingPath),
                    reason: "must be one of " + BrokerState.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if ctx.codingPath.isEmpty { return ModelFileError(field: "(file)", reason: "not valid JSON") }
            return ModelFileError(field: path(ctx.codingPath), reason: "invalid value")
        @unknown default:
            return ModelFileError(field: "(file)", reason: "cannot be decoded")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Int.Type, is Int32.Type: "a number"
        case is String.Type: "a string"
        case is [Any].Type: "an array"
        default: "\(type)"
        }
    }
}

extension ModelFileError: CategorizedError {
    public var category: ErrorCategory { .badInput }
}
