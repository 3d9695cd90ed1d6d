import Foundation

/// A model file that cannot be used; `message` names the field at fault.
public struct ModelFileError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var reason: String
    public var description: String { "model field \(field): \(reason)" }

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}

/// The model file format of DESIGN.md, as decoded.
struct ModelFile: Codable {
    struct Capacity: Codable {
        var disk: Double
        var networkIn: Double?
        var networkOut: Double?
        var cpu: Double?
    }
    struct Broker: Codable {
        var id: Int
        var rack: String?
        var cluster: String?
        var state: BrokerState?
        var capacity: Capacity
    }
    struct Load: Codable {
        var disk: Double?
        var networkIn: Double?
        var networkOut: Double?
        var cpu: Double?
    }
    struct Partition: Codable {
        var id: Int
        var replicas: [Int]
        var leader: Int?
        var load: Load?
    }
    struct Topic: Codable {
        var name: String
        var minInSyncReplicas: Int?
        var partitions: [Partition]
    }
    var brokers: [Broker]
    var topics: [Topic]
}

extension ClusterModel {
    /// Decodes and checks a model file (DESIGN.md "Cluster model file").
    /// - Throws: `ModelFileError` naming the first field at fault.
    public init(modelJSON bytes: [UInt8]) throws(ModelFileError) {
        let file: ModelFile
        do {
            file = try JSONDecoder().decode(ModelFile.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw Self.describe(error)
        } catch {
            throw ModelFileError(field: "(file)", reason: "not valid JSON")
        }
        try self.init(file: file)
    }

    init(file: ModelFile) throws(ModelFileError) {
        self.init()
        if file.brokers.isEmpty { throw ModelFileError(field: "brokers", reason: "no brokers") }
        var index: [Int: Int] = [:]
        let optional: [(Resource, KeyPath<ModelFile.Capacity, Double?>)] = [
            (.networkIn, \.networkIn), (.networkOut, \.networkOut), (.cpu, \.cpu),
        ]
        for (r, key) in optional {
            let given = file.brokers.filter { $0.capacity[keyPath: key] != nil }.count
            if given != 0 && given != file.brokers.count {
                let i = file.brokers.firstIndex { $0.capacity[keyPath: key] == nil }!
                throw ModelFileError(
                    field: "brokers[\(i)].capacity.\(r.name)", reason: "missing while other brokers declare it")
            }
            hasCapacity[r.rawValue] = given != 0
        }
        for (i, b) in file.brokers.enumerated() {
            if index[b.id] != nil {
                throw ModelFileError(field: "brokers[\(i)].id", reason: "broker \(b.id) appears twice")
            }
            let caps = [b.capacity.disk, b.capacity.networkIn ?? 1, b.capacity.networkOut ?? 1, b.capacity.cpu ?? 1]
            for r in Resource.allCases where !(caps[r.rawValue] > 0 && caps[r.rawValue].isFinite) {
                throw ModelFileError(field: "brokers[\(i)].capacity.\(r.name)", reason: "must be a positive number")
            }
            index[b.id] = i
            addBroker(
                id: b.id, rack: b.rack ?? "rack-of-\(b.id)", cluster: b.cluster ?? "", state: b.state ?? .alive,
                capacity: caps)
        }
        var topicSeen: Set<String> = []
        for (ti, t) in file.topics.enumerated() {
            let tf = "topics[\(ti)]"
            if !topicSeen.insert(t.name).inserted {
                throw ModelFileError(field: "\(tf).name", reason: "topic \(t.name) appears twice")
            }
            let minIsr = t.minInSyncReplicas ?? 1
            if minIsr < 1 { throw ModelFileError(field: "\(tf).minInSyncReplicas", reason: "must be at least 1") }
            let topic = addTopic(name: t.name, minIsr: minIsr)
            var partSeen: Set<Int> = []
            for (pi, p) in t.partitions.enumerated() {
                let pf = "\(tf).partitions[\(pi)]"
                if !partSeen.insert(p.id).inserted {
                    throw ModelFileError(field: "\(pf).id", reason: "partition \(p.id) appears twice")
                }
                if p.replicas.isEmpty { throw ModelFileError(field: "\(pf).replicas", reason: "no replicas") }
                var reps: [Int] = []
                for id in p.replicas {
                    guard let b = index[id] else {
                        throw ModelFileError(field: "\(pf).replicas", reason: "broker \(id) is not in brokers")
                    }
                    if reps.contains(b) {
                        throw ModelFileError(field: "\(pf).replicas", reason: "broker \(id) appears twice")
                    }
                    reps.append(b)
                }
                var lead = reps[0]
                if let l = p.leader {
                    if l == -1 {
                        lead = -1
                    } else if let b = index[l], reps.contains(b) {
                        lead = b
                    } else {
                        throw ModelFileError(field: "\(pf).leader", reason: "broker \(l) is not one of the replicas")
                    }
                }
                let l = p.load
                let loads = [l?.disk ?? 0, l?.networkIn ?? 0, l?.networkOut ?? 0, l?.cpu ?? 0]
                for r in Resource.allCases where !(loads[r.rawValue] >= 0 && loads[r.rawValue].isFinite) {
                    throw ModelFileError(field: "\(pf).load.\(r.name)", reason: "must be a non-negative number")
                }
                addPartition(topic: topic, id: p.id, replicas: reps, leader: lead, load: loads)
            }
        }
    }

    /// One sentence naming the field a `DecodingError` is about (for policy files and the like).
    public static func describeDecodingError(_ error: DecodingError) -> String { describe(error).description }

    /// The model as a model file (DESIGN.md format).
    public func modelFileJSON() -> [UInt8] {
        let brokers = (0..<brokerCount).map { b in
            ModelFile.Broker(
                id: brokerIds[b], rack: rackNames[Int(brokerRack[b])],
                cluster: clusterNames[Int(brokerCluster[b])].isEmpty ? nil : clusterNames[Int(brokerCluster[b])],
                state: brokerState[b],
                capacity: ModelFile.Capacity(
                    disk: capacity[0][b], networkIn: hasCapacity[1] ? capacity[1][b] : nil,
                    networkOut: hasCapacity[2] ? capacity[2][b] : nil, cpu: hasCapacity[3] ? capacity[3][b] : nil))
        }
        var topics = (0..<topicCount).map {
            ModelFile.Topic(name: topicNames[$0], minInSyncReplicas: Int(topicMinIsr[$0]), partitions: [])
        }
        for p in 0..<partitionCount {
            topics[Int(partitionTopic[p])].partitions.append(
                ModelFile.Partition(
                    id: Int(partitionId[p]), replicas: replicas[replicaRange(p)].map { brokerIds[Int($0)] },
                    leader: leader[p] >= 0 ? brokerIds[Int(leader[p])] : -1,
                    load: ModelFile.Load(
                        disk: load[0][p], networkIn: load[1][p], networkOut: load[2][p], cpu: load[3][p])))
        }
        let data = (try? JSONEncoder().encode(ModelFile(brokers: brokers, topics: topics))) ?? Data()
        return Array(data)
    }

    static func describe(_ error: DecodingError) -> ModelFileError {
        func path(_ keys: [any CodingKey]) -> String {
            var s = ""
            for k in keys {
                if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
            }
            return s.isEmpty ? "(file)" : s
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            let p = path(ctx.codingPath + [key])
            return ModelFileError(field: p, reason: "is missing")
        case .typeMismatch(let type, let ctx):
            return ModelFileError(field: path(ctx.codingPath), reason: "expected \(Self.typeName(type))")
        case .valueNotFound(let type, let ctx):
            return ModelFileError(field: path(ctx.codingPath), reason: "expected \(Self.typeName(type)), got null")
        case .dataCorrupted(let ctx):
            if ctx.codingPath.last?.stringValue == "state" {
                return ModelFileError(
                    field: path(ctx.codingPath), reason: "must be one of alive, dead, new, removing")
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
