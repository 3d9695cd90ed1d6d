public import KafkaModel
import KafkaWire

/// A reassignment in progress (ListPartitionReassignments).
public struct PartitionReassignment: Sendable, Hashable, Codable {
    public var topic: String
    public var partition: Int32
    /// The full target set while moving: current plus adding.
    public var replicas: [Int32]
    public var addingReplicas: [Int32]
    public var removingReplicas: [Int32]

    public init(topic: String, partition: Int32, replicas: [Int32], addingReplicas: [Int32], removingReplicas: [Int32])
    {
        self.topic = topic
        self.partition = partition
        self.replicas = replicas
        self.addingReplicas = addingReplicas
        self.removingReplicas = removingReplicas
    }
}

public enum ElectionType: Int8, Sendable, Hashable, Codable {
    case preferred = 0
    /// May elect an out-of-sync replica and lose acknowledged writes.
    case unclean = 1
}

/// The outcome of one partition's election. `ELECTION_NOT_NEEDED` counts as success: the leader already is
/// the one asked for.
public struct ElectionResult: Sendable, Hashable, Codable {
    public var topicPartition: TopicPartition
    /// nil on success; Kafka's error name otherwise.
    public var errorName: String?
    public var errorMessage: String?

    public init(topicPartition: TopicPartition, errorName: String? = nil, errorMessage: String? = nil) {
        self.topicPartition = topicPartition
        self.errorName = errorName
        self.errorMessage = errorMessage
    }

    public var succeeded: Bool { errorName == nil || errorName == "ELECTION_NOT_NEEDED" }
}

public struct BrokerLogDirs: Sendable, Hashable, Codable {
    public var brokerId: Int32
    public var logDirs: [LogDirInfo]

    public init(brokerId: Int32, logDirs: [LogDirInfo]) {
        self.brokerId = brokerId
        self.logDirs = logDirs
    }
}

public struct LogDirInfo: Sendable, Hashable, Codable {
    public var path: String
    /// nil when healthy; e.g. KAFKA_STORAGE_ERROR for an offline dir.
    public var errorName: String?
    /// -1 when the broker does not report it (before Kafka 3.3).
    public var totalBytes: Int64
    public var usableBytes: Int64
    public var replicas: [ReplicaLogInfo]

    public init(path: String, errorName: String?, totalBytes: Int64, usableBytes: Int64, replicas: [ReplicaLogInfo]) {
        self.path = path
        self.errorName = errorName
        self.totalBytes = totalBytes
        self.usableBytes = usableBytes
        self.replicas = replicas
    }
}

public struct ReplicaLogInfo: Sendable, Hashable, Codable {
    public var topic: String
    public var partition: Int32
    public var sizeBytes: Int64
    public var offsetLag: Int64
    /// A future replica: the target of an intra-broker move.
    public var isFuture: Bool

    public init(topic: String, partition: Int32, sizeBytes: Int64, offsetLag: Int64, isFuture: Bool) {
        self.topic = topic
        self.partition = partition
        self.sizeBytes = sizeBytes
        self.offsetLag = offsetLag
        self.isFuture = isFuture
    }
}

extension KafkaAdmin {
    private var timeoutMs: Int32 { Int32(clamping: configuration.requestTimeout.milliseconds) }

    /// DescribeCluster: brokers with racks and the controller id as the brokers report it.
    public func describeCluster() async throws(KafkaAdminError) -> (
        clusterId: String?, controllerId: Int32, brokers: [BrokerInfo]
    ) {
        let info = try await native.refreshCluster()
        return (info.clusterId, info.controllerId, info.brokers)
    }

    // MARK: Configs

    /// IncrementalAlterConfigs. A broker's own resource goes to that broker (Kafka requires it); topics and
    /// the cluster default go to any broker. With `validateOnly` the brokers check and change nothing.
    /// Throws on the first resource Kafka rejected, naming it and Kafka's error.
    public func incrementalAlterConfigs(_ changes: [ConfigResource: [ConfigAlteration]], validateOnly: Bool = false)
        async throws(KafkaAdminError)
    {
        var byRoute: [Route: [IncrementalAlterConfigsRequest.AlterConfigsResource]] = [:]
        for (resource, alterations) in changes.sorted(by: { $0.key.name < $1.key.name }) {
            let route: Route =
                resource.kind != .topic && !resource.name.isEmpty
                ? .broker(Int32(resource.name) ?? -1) : .any
            if case .broker(-1) = route {
                throw KafkaAdminError(.invalidArgument, "Broker resource '\(resource.name)' is not a broker id.")
            }
            byRoute[route, default: []].append(
                .init(
                    resourceType: resource.kind.code, resourceName: resource.name,
                    configs: alterations.map {
                        .init(name: $0.name, configOperation: $0.operation.rawValue, value: $0.value)
                    }))
        }
        for (route, resources) in byRoute {
            let r = try await native.send(
                IncrementalAlterConfigsRequest(resources: resources, validateOnly: validateOnly), to: route)
            for res in r.responses where res.errorCode != 0 {
                let code = KafkaErrorCode(rawValue: res.errorCode)
                let resource = ConfigResource(
                    kind: res.resourceType == 2 ? .topic : res.resourceType == 8 ? .brokerLogger : .broker,
                    name: res.resourceName)
                throw KafkaAdminError(
                    .kafka,
                    "IncrementalAlterConfigs of \(resource.displayName) failed with \(code.name)"
                        + "\(res.errorMessage.map { ": \($0)" } ?? "").",
                    kafkaErrorName: code.name, isRetriable: code.isRetriable)
            }
        }
    }

    // MARK: Reassignments

    /// Starts (replicas given) or cancels (nil) reassignments. Throws on the first partition Kafka refused.
    public func alterPartitionReassignments(_ targets: [TopicPartition: [Int32]?]) async throws(KafkaAdminError) {
        let byTopic = Dictionary(grouping: targets, by: { $0.key.topic })
        let request = AlterPartitionReassignmentsRequest(
            timeoutMs: timeoutMs,
            topics: byTopic.keys.sorted().map { topic in
                .init(
                    name: topic,
                    partitions: byTopic[topic]!.sorted { $0.key < $1.key }.map {
                        .init(partitionIndex: $0.key.partition, replicas: $0.value)
                    })
            })
        let r = try await sendToController(request)
        if r.errorCode != 0 {
            throw await native.kafkaError(
                "AlterPartitionReassignments", "the controller", .init(rawValue: r.errorCode), r.errorMessage)
        }
        for t in r.responses {
            for p in t.partitions where p.errorCode != 0 {
                let code = KafkaErrorCode(rawValue: p.errorCode)
                throw KafkaAdminError(
                    .kafka,
                    "AlterPartitionReassignments of \(t.name)-\(p.partitionIndex) failed with \(code.name)"
                        + "\(p.errorMessage.map { ": \($0)" } ?? "").",
                    kafkaErrorName: code.name, isRetriable: code.isRetriable)
            }
        }
    }

    /// Cancels reassignments in progress (the replicas go back to the original set).
    public func cancelPartitionReassignments(_ partitions: [TopicPartition]) async throws(KafkaAdminError) {
        try await alterPartitionReassignments(Dictionary(uniqueKeysWithValues: partitions.map { ($0, nil) }))
    }

    /// Reassignments in progress (all, or those of the given partitions).
    public func listPartitionReassignments(_ partitions: [TopicPartition]? = nil) async throws(KafkaAdminError)
        -> [PartitionReassignment]
    {
        let topics = partitions.map { list in
            Dictionary(grouping: list, by: \.topic).sorted { $0.key < $1.key }.map {
                ListPartitionReassignmentsRequest.ListPartitionReassignmentsTopics(
                    name: $0.key, partitionIndexes: $0.value.map(\.partition).sorted())
            }
        }
        let r = try await sendToController(ListPartitionReassignmentsRequest(timeoutMs: timeoutMs, topics: topics))
        if r.errorCode != 0 {
            throw await native.kafkaError(
                "ListPartitionReassignments", "the controller", .init(rawValue: r.errorCode), r.errorMessage)
        }
        return r.topics.flatMap { t in
            t.partitions.map {
                PartitionReassignment(
                    topic: t.name, partition: $0.partitionIndex, replicas: $0.replicas,
                    addingReplicas: $0.addingReplicas, removingReplicas: $0.removingReplicas)
            }
        }.sorted { TopicPartition($0.topic, $0.partition) < TopicPartition($1.topic, $1.partition) }
    }

    // MARK: Elections

    /// Elects leaders: `.preferred` moves leadership to `replicas[0]` where it is in sync; `.unclean` elects
    /// any live replica for partitions without a leader. nil partitions: every eligible partition.
    /// Returns one result per partition; throws only when the request as a whole failed.
    public func electLeaders(_ type: ElectionType = .preferred, partitions: [TopicPartition]? = nil)
        async throws(KafkaAdminError) -> [ElectionResult]
    {
        let topicPartitions = partitions.map { list in
            Dictionary(grouping: list, by: \.topic).sorted { $0.key < $1.key }.map {
                ElectLeadersRequest.TopicPartitions(topic: $0.key, partitions: $0.value.map(\.partition).sorted())
            }
        }
        let r = try await sendToController(
            ElectLeadersRequest(electionType: type.rawValue, topicPartitions: topicPartitions, timeoutMs: timeoutMs))
        if r.errorCode != 0 {
            throw await native.kafkaError("ElectLeaders", "the controller", .init(rawValue: r.errorCode), nil)
        }
        return r.replicaElectionResults.flatMap { t in
            t.partitionResult.map { p in
                let code = KafkaErrorCode(rawValue: p.errorCode)
                return ElectionResult(
                    topicPartition: TopicPartition(t.topic, p.partitionId),
                    errorName: p.errorCode == 0 ? nil : code.name, errorMessage: p.errorMessage)
            }
        }.sorted { $0.topicPartition < $1.topicPartition }
    }

    // MARK: Log dirs

    /// DescribeLogDirs of every broker (or the given ones): each log dir's capacity and the size of every
    /// replica in it. Each broker answers for itself, so one request goes to each, concurrently.
    public func describeLogDirs(brokers ids: [Int32]? = nil) async throws(KafkaAdminError) -> [BrokerLogDirs] {
        let targets: [Int32]
        if let ids { targets = ids } else { targets = try await native.refreshCluster().brokers.map(\.id) }
        let native = self.native
        let results = await withTaskGroup(of: (Int32, Result<DescribeLogDirsResponse, KafkaAdminError>).self) {
            group in
            for id in targets {
                group.addTask {
                    (
                        id,
                        await Self.capture { () async throws(KafkaAdminError) in
                            try await native.send(DescribeLogDirsRequest(topics: nil), to: .broker(id))
                        }
                    )
                }
            }
            var out: [(Int32, Result<DescribeLogDirsResponse, KafkaAdminError>)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }
        }
        var out: [BrokerLogDirs] = []
        for (id, result) in results {
            let r = try result.get()
            if r.errorCode != 0 {
                throw await native.kafkaError("DescribeLogDirs", "broker \(id)", .init(rawValue: r.errorCode), nil)
            }
            out.append(
                BrokerLogDirs(
                    brokerId: id,
                    logDirs: r.results.map { d in
                        LogDirInfo(
                            path: d.logDir,
                            errorName: d.errorCode == 0 ? nil : KafkaErrorCode(rawValue: d.errorCode).name,
                            totalBytes: d.totalBytes, usableBytes: d.usableBytes,
                            replicas: d.topics.flatMap { t in
                                t.partitions.map {
                                    ReplicaLogInfo(
                                        topic: t.name, partition: $0.partitionIndex, sizeBytes: $0.partitionSize,
                                        offsetLag: $0.offsetLag, isFuture: $0.isFutureKey)
                                }
                            }.sorted { TopicPartition($0.topic, $0.partition) < TopicPartition($1.topic, $1.partition) }
                        )
                    }))
        }
        return out
    }

    // MARK: Quorum

    /// DescribeQuorum of the KRaft metadata log (`__cluster_metadata`-0). A broker forwards it to the active
    /// controller (Kafka 3.3+).
    public func describeQuorum() async throws(KafkaAdminError) -> QuorumInfo {
        let r = try await native.send(
            DescribeQuorumRequest(topics: [
                .init(topicName: "__cluster_metadata", partitions: [.init(partitionIndex: 0)])
            ]))
        if r.errorCode != 0 {
            throw await native.kafkaError("DescribeQuorum", "the cluster", .init(rawValue: r.errorCode), r.errorMessage)
        }
        guard let p = r.topics.first?.partitions.first else {
            throw KafkaAdminError(.protocolViolation, "DescribeQuorum returned no partition.")
        }
        if p.errorCode != 0 {
            throw await native.kafkaError("DescribeQuorum", "the cluster", .init(rawValue: p.errorCode), p.errorMessage)
        }
        func replica(_ s: DescribeQuorumResponse.ReplicaState) -> QuorumReplica {
            QuorumReplica(
                replicaId: s.replicaId, logEndOffset: s.logEndOffset, lastCaughtUpTimestamp: s.lastCaughtUpTimestamp)
        }
        return QuorumInfo(
            leaderId: p.leaderId, leaderEpoch: p.leaderEpoch, highWatermark: p.highWatermark,
            voters: p.currentVoters.map(replica).sorted { $0.replicaId < $1.replicaId },
            observers: p.observers.map(replica).sorted { $0.replicaId < $1.replicaId })
    }

    /// Sends to the controller; after NOT_CONTROLLER looks the controller up again and retries once.
    private func sendToController<R: KafkaRequest>(_ request: R) async throws(KafkaAdminError) -> R.Response
    where R.Response: TopLevelErrorCode {
        let first = try await native.send(request, to: .controller)
        guard first.topLevelErrorCode == KafkaErrorCode.notController.rawValue else { return first }
        await native.invalidateController()
        return try await native.send(request, to: .controller)
    }
}

/// Responses whose top-level error code may say NOT_CONTROLLER.
protocol TopLevelErrorCode { var topLevelErrorCode: Int16 { get } }
extension AlterPartitionReassignmentsResponse: TopLevelErrorCode { var topLevelErrorCode: Int16 { errorCode } }
extension ListPartitionReassignmentsResponse: TopLevelErrorCode { var topLevelErrorCode: Int16 { errorCode } }
extension ElectLeadersResponse: TopLevelErrorCode { var topLevelErrorCode: Int16 { errorCode } }
