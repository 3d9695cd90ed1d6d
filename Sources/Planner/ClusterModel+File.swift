public import KafkaModel

extension ClusterModel {
    /// Decodes and checks a model file (DESIGN.md "Cluster model file"): the rules of `ClusterModelFile`, and the
    /// planner's own: every broker declares its disk capacity, and network and CPU capacities are declared by every
    /// broker or by none.
    /// - Throws: `ModelFileError` naming the first field at fault.
    public init(modelJSON bytes: [UInt8]) throws(ModelFileError) {
        try self.init(file: try ClusterModelFile.decode(bytes))
    }

    public init(file: ClusterModelFile) throws(ModelFileError) {
        self.init()
        for (i, b) in file.brokers.enumerated() {
            guard let capacity = b.capacity else {
                throw ModelFileError(field: "brokers[\(i)].capacity", reason: "is missing")
            }
            if capacity.disk == nil { throw ModelFileError(field: "brokers[\(i)].capacity.disk", reason: "is missing") }
        }
        let optional: [(Resource, KeyPath<ClusterModelFile.Resources, Double?>)] = [
            (.networkIn, \.networkIn), (.networkOut, \.networkOut), (.cpu, \.cpu),
        ]
        for (r, key) in optional {
            let given = file.brokers.filter { $0.capacity?[keyPath: key] != nil }.count
            if given != 0 && given != file.brokers.count {
                let i = file.brokers.firstIndex { $0.capacity?[keyPath: key] == nil }!
                throw ModelFileError(
                    field: "brokers[\(i)].capacity.\(r.name)", reason: "missing while other brokers declare it")
            }
            hasCapacity[r.rawValue] = given != 0
        }
        var index: [Int32: Int] = [:]
        for (i, b) in file.brokers.enumerated() {
            let c = b.capacity!
            index[b.id] = i
            addBroker(
                id: Int(b.id), rack: b.rack ?? "rack-of-\(b.id)", cluster: b.cluster ?? "", state: b.state ?? .alive,
                capacity: [c.disk!, c.networkIn ?? 1, c.networkOut ?? 1, c.cpu ?? 1])
        }
        for t in file.topics {
            let topic = addTopic(name: t.name, minIsr: t.minInSyncReplicas ?? 1)
            for p in t.partitions {
                let reps = p.replicas.map { index[$0]! }
                let lead: Int =
                    switch p.leader {
                    case nil: reps[0]
                    case -1: -1
                    case let l?: index[l]!
                    }
                let l = p.load
                addPartition(
                    topic: topic, id: Int(p.id), replicas: reps, leader: lead,
                    load: [l?.disk ?? 0, l?.networkIn ?? 0, l?.networkOut ?? 0, l?.cpu ?? 0])
            }
        }
    }

    /// One sentence naming the field a `DecodingError` is about (for policy files and the like).
    public static func describeDecodingError(_ error: DecodingError) -> String {
        ClusterModelFile.describe(error).description
    }

    /// The model as a model file (DESIGN.md format).
    public var modelFile: ClusterModelFile {
        let brokers = (0..<brokerCount).map { b in
            ClusterModelFile.Broker(
                id: Int32(brokerIds[b]), rack: rackNames[Int(brokerRack[b])],
                cluster: clusterNames[Int(brokerCluster[b])].isEmpty ? nil : clusterNames[Int(brokerCluster[b])],
                state: brokerState[b],
                capacity: ClusterModelFile.Resources(
                    disk: capacity[0][b], networkIn: hasCapacity[1] ? capacity[1][b] : nil,
                    networkOut: hasCapacity[2] ? capacity[2][b] : nil, cpu: hasCapacity[3] ? capacity[3][b] : nil))
        }
        var topics = (0..<topicCount).map {
            ClusterModelFile.Topic(name: topicNames[$0], minInSyncReplicas: Int(topicMinIsr[$0]), partitions: [])
        }
        for p in 0..<partitionCount {
            topics[Int(partitionTopic[p])].partitions.append(
                ClusterModelFile.Partition(
                    id: partitionId[p], replicas: replicas[replicaRange(p)].map { Int32(brokerIds[Int($0)]) },
                    leader: leader[p] >= 0 ? Int32(brokerIds[Int(leader[p])]) : -1,
                    load: ClusterModelFile.Resources(
                        disk: load[0][p], networkIn: load[1][p], networkOut: load[2][p], cpu: load[3][p])))
        }
        return ClusterModelFile(brokers: brokers, topics: topics)
    }

    /// The model as a model file's JSON.
    public func modelFileJSON() -> [UInt8] { modelFile.encoded() }
}
