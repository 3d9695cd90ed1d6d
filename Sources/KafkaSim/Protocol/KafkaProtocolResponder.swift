import KafkaModel
public import KafkaWire

/// Answers Kafka requests from the simulated cluster's state: decode with KafkaWire, compute under the
/// lock, encode outside it. Requests Kafka could not parse close the connection, as Kafka does.
public enum KafkaProtocolResponder {
    /// The APIs served and their versions: KafkaWire's range (Kafka's message definitions) cut to what a
    /// Kafka 4.1 broker accepts (its ApiVersions answer, Tests/Fixtures/real-kafka-4.1/api-versions.json).
    public static let supported: [(ApiKey, ClosedRange<Int16>)] = [
        (.produce, cut(ProduceRequest.validVersions, 0...13)),
        (.metadata, cut(MetadataRequest.validVersions, 0...13)),
        (.createTopics, cut(CreateTopicsRequest.validVersions, 2...7)),
        (.deleteTopics, cut(DeleteTopicsRequest.validVersions, 1...6)),
        (.describeConfigs, cut(DescribeConfigsRequest.validVersions, 1...4)),
        (.alterConfigs, cut(AlterConfigsRequest.validVersions, 0...2)),
        (.apiVersions, cut(ApiVersionsRequest.validVersions, 0...4)),
        (.describeLogDirs, cut(DescribeLogDirsRequest.validVersions, 1...4)),
        (.createPartitions, cut(CreatePartitionsRequest.validVersions, 0...3)),
        (.electLeaders, cut(ElectLeadersRequest.validVersions, 0...2)),
        (.incrementalAlterConfigs, cut(IncrementalAlterConfigsRequest.validVersions, 0...1)),
        (.alterPartitionReassignments, cut(AlterPartitionReassignmentsRequest.validVersions, 0...1)),
        (.listPartitionReassignments, cut(ListPartitionReassignmentsRequest.validVersions, 0...0)),
        (.describeQuorum, cut(DescribeQuorumRequest.validVersions, 0...2)),
        (.describeCluster, cut(DescribeClusterRequest.validVersions, 0...2)),
        (.saslHandshake, cut(SaslHandshakeRequest.validVersions, 0...1)),
        (.saslAuthenticate, cut(SaslAuthenticateRequest.validVersions, 0...2)),
        // Consumers, consumer groups (classic protocol) and idempotent producers.
        (.fetch, cut(FetchRequest.validVersions, 4...18)),
        (.listOffsets, cut(ListOffsetsRequest.validVersions, 1...10)),
        (.offsetForLeaderEpoch, cut(OffsetForLeaderEpochRequest.validVersions, 2...4)),
        (.initProducerId, cut(InitProducerIdRequest.validVersions, 0...5)),
        (.findCoordinator, cut(FindCoordinatorRequest.validVersions, 0...6)),
        (.joinGroup, cut(JoinGroupRequest.validVersions, 0...9)),
        (.syncGroup, cut(SyncGroupRequest.validVersions, 0...5)),
        (.heartbeat, cut(HeartbeatRequest.validVersions, 0...4)),
        (.leaveGroup, cut(LeaveGroupRequest.validVersions, 0...5)),
        (.offsetCommit, cut(OffsetCommitRequest.validVersions, 2...9)),
        (.offsetFetch, cut(OffsetFetchRequest.validVersions, 1...9)),
        (.listGroups, cut(ListGroupsRequest.validVersions, 0...5)),
        (.describeGroups, cut(DescribeGroupsRequest.validVersions, 0...6)),
    ]

    static func cut(_ a: ClosedRange<Int16>, _ b: ClosedRange<Int16>) -> ClosedRange<Int16> {
        max(a.lowerBound, b.lowerBound)...min(a.upperBound, b.upperBound)
    }

    public static func make(_ sim: KafkaSimulator) -> KafkaResponder {
        { node, frame in respond(sim, node: node, frame: frame) }
    }

    static let host = "127.0.0.1"

    public static func respond(_ sim: KafkaSimulator, node: Int32, frame: [UInt8]) -> KafkaReply {
        let header: RequestHeader
        let offset: Int
        do {
            (header, offset) = try KafkaFrame.decodeRequestHeader(frame)
        } catch {
            // An ApiVersions version this broker does not know (KIP-511): answer UNSUPPORTED_VERSION in v0.
            if frame.count >= 8, frame[0] == 0, frame[1] == UInt8(ApiKey.apiVersions.rawValue) {
                let cid = Int32(
                    bitPattern: UInt32(frame[4]) << 24 | UInt32(frame[5]) << 16 | UInt32(frame[6]) << 8
                        | UInt32(frame[7]))
                let h = RequestHeader(
                    apiKey: ApiKey.apiVersions.rawValue, apiVersion: 0, correlationId: cid, clientId: nil)
                return encode(apiVersions(error: KafkaErrorCode.unsupportedVersion.rawValue), version: 0, h)
            }
            return .close
        }
        guard let key = ApiKey(rawValue: header.apiKey), let range = supported.first(where: { $0.0 == key })?.1 else {
            // An API this broker does not expose: Kafka closes the connection.
            return .close
        }
        let v = header.apiVersion
        guard range.contains(v) else {
            if key == .apiVersions {
                // KIP-511: an unknown ApiVersions version gets UNSUPPORTED_VERSION in v0, with the supported ranges.
                return encode(apiVersions(error: KafkaErrorCode.unsupportedVersion.rawValue), version: 0, header)
            }
            return .close
        }
        var reader = WireReader(frame, offset: offset)
        do {
            switch key {
            case .apiVersions:
                _ = try ApiVersionsRequest(from: &reader, version: v)
                return encode(apiVersions(error: 0), version: v, header)
            case .metadata:
                let r = try MetadataRequest(from: &reader, version: v)
                return encode(metadata(sim, node: node, r, version: v), version: v, header)
            case .produce:
                let r = try ProduceRequest(from: &reader, version: v)
                let resp = produce(sim, node: node, r, version: v)
                return r.acks == 0 ? .noResponse : encode(resp, version: v, header)
            case .fetch:
                return fetch(sim, node: node, try FetchRequest(from: &reader, version: v), version: v, header)
            case .listOffsets:
                let r = try ListOffsetsRequest(from: &reader, version: v)
                return encode(listOffsets(sim, node: node, r, version: v), version: v, header)
            case .offsetForLeaderEpoch:
                let r = try OffsetForLeaderEpochRequest(from: &reader, version: v)
                return encode(offsetForLeaderEpoch(sim, node: node, r), version: v, header)
            case .initProducerId:
                let r = try InitProducerIdRequest(from: &reader, version: v)
                return encode(initProducerId(sim, r), version: v, header)
            case .findCoordinator:
                let r = try FindCoordinatorRequest(from: &reader, version: v)
                return encode(findCoordinator(sim, r, version: v), version: v, header)
            case .joinGroup:
                return joinGroup(sim, node: node, try JoinGroupRequest(from: &reader, version: v), version: v, header)
            case .syncGroup:
                return syncGroup(sim, node: node, try SyncGroupRequest(from: &reader, version: v), version: v, header)
            case .heartbeat:
                let r = try HeartbeatRequest(from: &reader, version: v)
                return encode(heartbeat(sim, node: node, r, version: v), version: v, header)
            case .leaveGroup:
                let r = try LeaveGroupRequest(from: &reader, version: v)
                return encode(leaveGroup(sim, node: node, r, version: v), version: v, header)
            case .offsetCommit:
                let r = try OffsetCommitRequest(from: &reader, version: v)
                return encode(offsetCommit(sim, node: node, r, version: v), version: v, header)
            case .offsetFetch:
                let r = try OffsetFetchRequest(from: &reader, version: v)
                return encode(offsetFetch(sim, node: node, r, version: v), version: v, header)
            case .listGroups:
                let r = try ListGroupsRequest(from: &reader, version: v)
                return encode(listGroups(sim, node: node, r, version: v), version: v, header)
            case .describeGroups:
                let r = try DescribeGroupsRequest(from: &reader, version: v)
                return encode(describeGroups(sim, node: node, r, version: v), version: v, header)
            case .describeCluster:
                let r = try DescribeClusterRequest(from: &reader, version: v)
                return encode(describeCluster(sim, node: node, r), version: v, header)
            case .describeConfigs:
                let r = try DescribeConfigsRequest(from: &reader, version: v)
                return encode(describeConfigs(sim, node: node, r, version: v), version: v, header)
            case .alterConfigs:
                let r = try AlterConfigsRequest(from: &reader, version: v)
                return encode(alterConfigs(sim, node: node, r), version: v, header)
            case .incrementalAlterConfigs:
                let r = try IncrementalAlterConfigsRequest(from: &reader, version: v)
                return encode(incrementalAlterConfigs(sim, node: node, r), version: v, header)
            case .createTopics:
                let r = try CreateTopicsRequest(from: &reader, version: v)
                return encode(createTopics(sim, node: node, r), version: v, header)
            case .deleteTopics:
                let r = try DeleteTopicsRequest(from: &reader, version: v)
                return encode(deleteTopics(sim, r), version: v, header)
            case .createPartitions:
                let r = try CreatePartitionsRequest(from: &reader, version: v)
                return encode(createPartitions(sim, r), version: v, header)
            case .electLeaders:
                let r = try ElectLeadersRequest(from: &reader, version: v)
                return encode(electLeaders(sim, r, version: v), version: v, header)
            case .alterPartitionReassignments:
                let r = try AlterPartitionReassignmentsRequest(from: &reader, version: v)
                return encode(alterReassignments(sim, r), version: v, header)
            case .listPartitionReassignments:
                let r = try ListPartitionReassignmentsRequest(from: &reader, version: v)
                return encode(listReassignments(sim, r), version: v, header)
            case .describeLogDirs:
                let r = try DescribeLogDirsRequest(from: &reader, version: v)
                return encode(describeLogDirs(sim, node: node, r), version: v, header)
            case .describeQuorum:
                let r = try DescribeQuorumRequest(from: &reader, version: v)
                return encode(describeQuorum(sim, r, version: v), version: v, header)
            case .saslHandshake:
                // Only reaches the cluster on a listener without SASL, or after authentication (the listener's
                // `SaslServerHandler` answers it before): Kafka's KafkaApis answers ILLEGAL_SASL_STATE.
                _ = try SaslHandshakeRequest(from: &reader, version: v)
                return encode(
                    SaslHandshakeResponse(errorCode: KafkaErrorCode.illegalSaslState.rawValue), version: v, header)
            case .saslAuthenticate:
                _ = try SaslAuthenticateRequest(from: &reader, version: v)
                return encode(
                    SaslAuthenticateResponse(
                        errorCode: KafkaErrorCode.illegalSaslState.rawValue,
                        errorMessage: "SaslAuthenticate request received after successful authentication"),
                    version: v, header)
            default:
                return .close
            }
        } catch {
            return .close
        }
    }

    static func encode<R: KafkaResponse>(_ r: R, version: Int16, _ header: RequestHeader) -> KafkaReply {
        do {
            return .respond(try KafkaFrame.response(r, version: version, correlationId: header.correlationId))
        } catch {
            return .close
        }
    }

    // MARK: ApiVersions

    static func apiVersions(error: Int16) -> ApiVersionsResponse {
        ApiVersionsResponse(
            errorCode: error,
            apiKeys: supported.map {
                .init(apiKey: $0.0.rawValue, minVersion: $0.1.lowerBound, maxVersion: $0.1.upperBound)
            }
            .sorted { $0.apiKey < $1.apiKey })
    }

    // MARK: Metadata

    /// KRaft brokers report a live broker as controller; the simulator names the active controller when it
    /// is a broker, else the answering broker.
    static func controllerId(_ c: SimCluster, node: Int32) -> Int32 {
        if c.quorum.leader >= 0, c.node(c.quorum.leader)?.isBroker == true { return c.quorum.leader }
        return node
    }

    static func metadata(_ sim: KafkaSimulator, node: Int32, _ r: MetadataRequest, version: Int16) -> MetadataResponse {
        sim.withCluster { c in
            var resp = MetadataResponse()
            resp.clusterId = c.clusterId
            resp.controllerId = controllerId(c, node: node)
            resp.brokers = c.nodes.filter { $0.isBroker && $0.isAliveInMetadata }.map {
                .init(nodeId: $0.id, host: host, port: Int32($0.port), rack: $0.rack)
            }
            var indexes: [Int] = []
            var unknown: [MetadataResponse.MetadataResponseTopic] = []
            if let wanted = r.topics {
                for w in wanted {
                    if let name = w.name {
                        if let t = c.topicIndex[name], !c.topics[t].deleted {
                            indexes.append(t)
                        } else if r.allowAutoTopicCreation, version >= 4, autoCreate(&c, name) {
                            indexes.append(c.topicIndex[name]!)
                        } else {
                            unknown.append(
                                .init(errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue, name: name))
                        }
                    } else if let t = c.topics.firstIndex(where: { !$0.deleted && KafkaUUID(bytes: $0.id) == w.topicId }
                    ) {
                        indexes.append(t)
                    } else {
                        unknown.append(
                            .init(errorCode: KafkaErrorCode.unknownTopicId.rawValue, name: nil, topicId: w.topicId))
                    }
                }
            } else {
                indexes = c.topics.indices.filter { !c.topics[$0].deleted }
            }
            resp.topics.reserveCapacity(indexes.count + unknown.count)
            let alive = Set(c.nodes.filter(\.isAliveInMetadata).map(\.id))
            for t in indexes { resp.topics.append(metadataTopic(c, t, alive: alive)) }
            resp.topics += unknown
            return resp
        }
    }

    static func metadataTopic(_ c: SimCluster, _ t: Int, alive: Set<Int32>) -> MetadataResponse.MetadataResponseTopic {
        let topic = c.topics[t]
        var parts: [MetadataResponse.MetadataResponsePartition] = []
        parts.reserveCapacity(topic.partitions.count)
        for p in topic.partitions {
            let part = c.partitions[Int(p)]
            let offline = part.replicas.allSatisfy(alive.contains) ? [] : part.replicas.filter { !alive.contains($0) }
            parts.append(
                .init(
                    errorCode: part.leader < 0 ? KafkaErrorCode.leaderNotAvailable.rawValue : 0,
                    partitionIndex: part.id,
                    leaderId: part.leader, leaderEpoch: part.leaderEpoch, replicaNodes: part.replicas,
                    isrNodes: part.isr, offlineReplicas: offline))
        }
        return .init(
            errorCode: 0, name: topic.name, topicId: KafkaUUID(bytes: topic.id) ?? .zero,
            isInternal: topic.name == SimCluster.offsetsTopic,
            partitions: parts)
    }

    /// `auto.create.topics.enable` (true by default): `num.partitions` and `default.replication.factor`.
    static func autoCreate(_ c: inout SimCluster, _ name: String) -> Bool {
        let anyBroker = c.nodes.first { $0.isBroker }?.id ?? -1
        guard c.brokerConfig(anyBroker, "auto.create.topics.enable")?.value == "true" else { return false }
        let partitions = Int(c.brokerConfig(anyBroker, "num.partitions")?.value ?? "1") ?? 1
        let rf = Int(c.brokerConfig(anyBroker, "default.replication.factor")?.value ?? "1") ?? 1
        do {
            try c.createTopic(name: name, partitions: partitions, replicationFactor: rf)
            return true
        } catch {
            return false
        }
    }

    // MARK: DescribeCluster

    static func describeCluster(_ sim: KafkaSimulator, node: Int32, _ r: DescribeClusterRequest)
        -> DescribeClusterResponse
    {
        sim.withCluster { c in
            var resp = DescribeClusterResponse(endpointType: r.endpointType, clusterId: c.clusterId)
            if r.endpointType == 2 {
                resp.controllerId = c.quorum.leader
                resp.brokers = c.quorum.voters.compactMap { c.node($0) }.filter { SimQuorum.voterUp($0) }.map {
                    .init(brokerId: $0.id, host: host, port: Int32($0.port), rack: $0.rack)
                }
            } else if r.endpointType == 1 {
                resp.controllerId = controllerId(c, node: node)
                resp.brokers = c.nodes.filter { $0.isBroker && $0.isAliveInMetadata }.map {
                    .init(brokerId: $0.id, host: host, port: Int32($0.port), rack: $0.rack)
                }
            } else {
                resp.errorCode = KafkaErrorCode.invalidRequest.rawValue
                resp.errorMessage = "Unsupported endpoint type \(r.endpointType)"
            }
            return resp
        }
    }

    // MARK: configs

    static func resource(type: Int8, name: String) -> ConfigResource? {
        guard let kind = ConfigResource.Kind(code: type), kind != .brokerLogger else { return nil }
        return ConfigResource(kind: kind, name: name)
    }

    static func describeConfigs(_ sim: KafkaSimulator, node: Int32, _ r: DescribeConfigsRequest, version: Int16)
        -> DescribeConfigsResponse
    {
        sim.withCluster { c in
            var resp = DescribeConfigsResponse()
            for res in r.resources {
                var result = DescribeConfigsResponse.DescribeConfigsResult(
                    resourceType: res.resourceType, resourceName: res.resourceName)
                do throws(SimFailure) {
                    guard let resource = resource(type: res.resourceType, name: res.resourceName) else {
                        throw SimFailure(.invalidRequest, "Unsupported resource type \(res.resourceType)")
                    }
                    if resource.kind == .broker, !resource.name.isEmpty, Int32(resource.name) != node {
                        throw SimFailure(
                            .invalidRequest,
                            "Unexpected broker id, expected \(node) or empty string, but received \(resource.name)")
                    }
                    let configs = try c.describeConfigs(resource, keys: res.configurationKeys, answeringBroker: node)
                    result.configs = configs.map { d in
                        .init(
                            name: d.name, value: d.value, readOnly: d.isReadOnly,
                            isDefault: version == 0 && d.source == .defaultConfig,
                            configSource: d.source.code, isSensitive: d.isSensitive,
                            synonyms: version >= 1 && r.includeSynonyms
                                ? d.synonyms.map { .init(name: $0.name, value: $0.value, source: $0.source.code) }
                                : [],
                            configType: version >= 3 ? d.type?.code ?? 0 : 0)
                    }
                } catch {
                    result.errorCode = error.code.rawValue
                    result.errorMessage = error.message
                }
                resp.results.append(result)
            }
            return resp
        }
    }

    static func alterConfigs(_ sim: KafkaSimulator, node: Int32, _ r: AlterConfigsRequest) -> AlterConfigsResponse {
        let duplicates = duplicateResources(r.resources.map { ($0.resourceType, $0.resourceName) })
        return sim.withCluster { c in
            var resp = AlterConfigsResponse()
            for res in r.resources {
                let outcome = alterOne(
                    &c, node: node, type: res.resourceType, name: res.resourceName,
                    changes: res.configs.map { .init(name: $0.name, value: $0.value) }, incremental: false,
                    validateOnly: r.validateOnly,
                    duplicate: duplicates.contains(Key(res.resourceType, res.resourceName)))
                resp.responses.append(
                    .init(
                        errorCode: outcome.code.rawValue, errorMessage: outcome.message, resourceType: res.resourceType,
                        resourceName: res.resourceName))
            }
            return resp
        }
    }

    static func incrementalAlterConfigs(_ sim: KafkaSimulator, node: Int32, _ r: IncrementalAlterConfigsRequest)
        -> IncrementalAlterConfigsResponse
    {
        let duplicates = duplicateResources(r.resources.map { ($0.resourceType, $0.resourceName) })
        return sim.withCluster { c in
            var resp = IncrementalAlterConfigsResponse()
            for res in r.resources {
                var outcome: (code: KafkaErrorCode, message: String?)
                let ops = res.configs.map { ($0, ConfigAlteration.Operation(rawValue: $0.configOperation)) }
                if let bad = ops.first(where: { $0.1 == nil }) {
                    outcome = (.invalidRequest, "Unknown operations type \(bad.0.configOperation)")
                } else {
                    outcome = alterOne(
                        &c, node: node, type: res.resourceType, name: res.resourceName,
                        changes: ops.map { .init(name: $0.0.name, operation: $0.1!, value: $0.0.value) },
                        incremental: true,
                        validateOnly: r.validateOnly,
                        duplicate: duplicates.contains(Key(res.resourceType, res.resourceName)))
                }
                resp.responses.append(
                    .init(
                        errorCode: outcome.code.rawValue, errorMessage: outcome.message, resourceType: res.resourceType,
                        resourceName: res.resourceName))
            }
            return resp
        }
    }

    struct Key: Hashable {
        var type: Int8
        var name: String
        init(_ type: Int8, _ name: String) {
            self.type = type
            self.name = name
        }
    }

    static func duplicateResources(_ all: [(Int8, String)]) -> Set<Key> {
        var seen = Set<Key>()
        var dup = Set<Key>()
        for (t, n) in all where !seen.insert(Key(t, n)).inserted { dup.insert(Key(t, n)) }
        return dup
    }

    static func alterOne(
        _ c: inout SimCluster, node: Int32, type: Int8, name: String, changes: [ConfigAlteration], incremental: Bool,
        validateOnly: Bool, duplicate: Bool
    ) -> (code: KafkaErrorCode, message: String?) {
        if duplicate { return (.invalidRequest, "Each resource must appear at most once.") }
        guard let resource = resource(type: type, name: name) else {
            return (.invalidRequest, "Unknown resource type \(type)")
        }
        do throws(SimFailure) {
            try c.alterConfigs(
                resource, changes, incremental: incremental, validateOnly: validateOnly, answeringBroker: node)
            return (.none, nil)
        } catch {
            return (error.code, error.message)
        }
    }

    // MARK: topics

    static func createTopics(_ sim: KafkaSimulator, node: Int32, _ r: CreateTopicsRequest) -> CreateTopicsResponse {
        sim.withCluster { c in
            var resp = CreateTopicsResponse()
            let names = r.topics.map(\.name)
            for t in r.topics {
                var result = CreateTopicsResponse.CreatableTopicResult(name: t.name)
                do throws(SimFailure) {
                    guard names.filter({ $0 == t.name }).count == 1 else {
                        throw SimFailure(.invalidRequest, "Duplicate topic name.")
                    }
                    let defaults = c.nodes.first { $0.isBroker }?.id ?? node
                    let count =
                        t.numPartitions == -1
                        ? Int(c.brokerConfig(defaults, "num.partitions")?.value ?? "1") ?? 1 : Int(t.numPartitions)
                    let rf =
                        t.replicationFactor == -1
                        ? Int(c.brokerConfig(defaults, "default.replication.factor")?.value ?? "1") ?? 1
                        : Int(t.replicationFactor)
                    guard count <= 1_000_000 else {
                        throw SimFailure(
                            .invalidPartitions, "The simulator creates at most 1000000 partitions per request.")
                    }
                    var assignment: [[Int32]]?
                    if !t.assignments.isEmpty {
                        guard t.numPartitions == -1, t.replicationFactor == -1 else {
                            throw SimFailure(
                                .invalidRequest,
                                "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time."
                            )
                        }
                        let sorted = t.assignments.sorted { $0.partitionIndex < $1.partitionIndex }
                        guard sorted.map(\.partitionIndex) == Array(0..<Int32(sorted.count)) else {
                            throw SimFailure(
                                .invalidReplicaAssignment,
                                "Partitions should be a consecutive 0-based integer sequence.")
                        }
                        assignment = sorted.map(\.brokerIds)
                    } else if count < 1 {
                        throw SimFailure(
                            .invalidPartitions, "Number of partitions was set to an invalid non-positive value.")
                    } else if rf < 1 {
                        throw SimFailure(
                            .invalidReplicationFactor,
                            "Replication factor must be larger than 0, or -1 to use the default value.")
                    }
                    var configs: [String: String] = [:]
                    for cfg in t.configs {
                        guard let v = cfg.value else {
                            throw SimFailure(.invalidConfig, "Null value not supported for topic configs: \(cfg.name)")
                        }
                        configs[cfg.name] = v
                    }
                    let n = try c.createTopic(
                        name: t.name, partitions: count, replicationFactor: rf, configs: configs,
                        assignment: assignment, validateOnly: r.validateOnly)
                    result.numPartitions = Int32(n)
                    result.replicationFactor = Int16(assignment?.first?.count ?? rf)
                    if !r.validateOnly, let topic = c.topic(named: t.name) {
                        result.topicId = KafkaUUID(bytes: topic.id) ?? .zero
                    }
                } catch {
                    result.errorCode = error.code.rawValue
                    result.errorMessage = error.message
                }
                resp.topics.append(result)
            }
            return resp
        }
    }

    static func deleteTopics(_ sim: KafkaSimulator, _ r: DeleteTopicsRequest) -> DeleteTopicsResponse {
        sim.withCluster { c in
            var resp = DeleteTopicsResponse()
            let targets: [(String?, KafkaUUID)] =
                r.topicNames.map { ($0, .zero) } + r.topics.map { ($0.name, $0.topicId) }
            for (name, id) in targets {
                var result = DeleteTopicsResponse.DeletableTopicResult(name: name, topicId: id)
                let resolved = name ?? c.topics.first { !$0.deleted && KafkaUUID(bytes: $0.id) == id }?.name
                do throws(SimFailure) {
                    guard let resolved else {
                        throw SimFailure(.unknownTopicId, "This server does not host this topic ID.")
                    }
                    result.name = resolved
                    if let t = c.topic(named: resolved) { result.topicId = KafkaUUID(bytes: t.id) ?? .zero }
                    try c.deleteTopic(name: resolved)
                } catch {
                    result.errorCode = error.code.rawValue
                    result.errorMessage = error.message
                }
                resp.responses.append(result)
            }
            return resp
        }
    }

    static func createPartitions(_ sim: KafkaSimulator, _ r: CreatePartitionsRequest) -> CreatePartitionsResponse {
        sim.withCluster { c in
            var resp = CreatePartitionsResponse()
            for t in r.topics {
                var result = CreatePartitionsResponse.CreatePartitionsTopicResult(name: t.name)
                do throws(SimFailure) {
                    guard t.count <= 1_000_000 else {
                        throw SimFailure(
                            .invalidPartitions, "The simulator holds at most 1000000 partitions per topic.")
                    }
                    try c.createPartitions(
                        topic: t.name, count: Int(t.count), assignment: t.assignments?.map(\.brokerIds),
                        validateOnly: r.validateOnly)
                } catch {
                    result.errorCode = error.code.rawValue
                    result.errorMessage = error.message
                }
                resp.results.append(result)
            }
            return resp
        }
    }

    // MARK: elections and reassignments

    static func electLeaders(_ sim: KafkaSimulator, _ r: ElectLeadersRequest, version: Int16) -> ElectLeadersResponse {
        let type: SimCluster.ElectionType = (version >= 1 && r.electionType == 1) ? .unclean : .preferred
        return sim.withCluster { c in
            var resp = ElectLeadersResponse()
            let all = r.topicPartitions == nil
            let wanted: [(String, [Int32])] =
                r.topicPartitions?.map { ($0.topic, $0.partitions) }
                ?? c.liveTopics.map { t in (t.name, (0..<Int32(t.partitions.count)).map { $0 }) }
            for (topic, parts) in wanted {
                var results: [ElectLeadersResponse.PartitionResult] = []
                for p in parts {
                    do throws(SimFailure) {
                        try c.electLeaders(topic: topic, partition: p, type: type)
                        results.append(.init(partitionId: p))
                    } catch {
                        // For "all partitions" Kafka reports only the partitions an election was tried for.
                        if all && error.code == .electionNotNeeded { continue }
                        results.append(
                            .init(partitionId: p, errorCode: error.code.rawValue, errorMessage: error.message))
                    }
                }
                if !results.isEmpty {
                    resp.replicaElectionResults.append(.init(topic: topic, partitionResult: results))
                }
            }
            return resp
        }
    }

    static func alterReassignments(_ sim: KafkaSimulator, _ r: AlterPartitionReassignmentsRequest)
        -> AlterPartitionReassignmentsResponse
    {
        sim.withCluster { c in
            var resp = AlterPartitionReassignmentsResponse()
            for t in r.topics {
                var out: [AlterPartitionReassignmentsResponse.ReassignablePartitionResponse] = []
                for p in t.partitions {
                    do throws(SimFailure) {
                        try c.alterReassignment(topic: t.name, partition: p.partitionIndex, target: p.replicas)
                        out.append(.init(partitionIndex: p.partitionIndex))
                    } catch {
                        out.append(
                            .init(
                                partitionIndex: p.partitionIndex, errorCode: error.code.rawValue,
                                errorMessage: error.message))
                    }
                }
                resp.responses.append(.init(name: t.name, partitions: out))
            }
            return resp
        }
    }

    static func listReassignments(_ sim: KafkaSimulator, _ r: ListPartitionReassignmentsRequest)
        -> ListPartitionReassignmentsResponse
    {
        sim.withCluster { c in
            let only = r.topics.map { ts in ts.flatMap { t in t.partitionIndexes.map { (t.name, $0) } } }
            var byTopic: [String: [ListPartitionReassignmentsResponse.OngoingPartitionReassignment]] = [:]
            var order: [String] = []
            for s in c.listReassignments(only: only) {
                if byTopic[s.topic] == nil { order.append(s.topic) }
                byTopic[s.topic, default: []].append(
                    .init(
                        partitionIndex: s.partition, replicas: s.replicas, addingReplicas: s.adding,
                        removingReplicas: s.removing))
            }
            return ListPartitionReassignmentsResponse(topics: order.map { .init(name: $0, partitions: byTopic[$0]!) })
        }
    }

    // MARK: log dirs and quorum

    static let logDir = "/var/lib/kafka/data"

    static func describeLogDirs(_ sim: KafkaSimulator, node: Int32, _ r: DescribeLogDirsRequest)
        -> DescribeLogDirsResponse
    {
        sim.withCluster { c in
            var wanted: Set<Int32>?
            if let topics = r.topics {
                wanted = Set(
                    topics.flatMap { t in t.partitions.compactMap { c.partitionIndex(topic: t.topic, partition: $0) } })
            }
            var topics: [DescribeLogDirsResponse.DescribeLogDirsTopic] = []
            var used: Int64 = 0
            for topic in c.topics where !topic.deleted {
                var parts: [DescribeLogDirsResponse.DescribeLogDirsPartition] = []
                for p in topic.partitions where c.partitions[Int(p)].replicas.contains(node) {
                    let size = c.replicaSize(partition: p, broker: node)
                    used += size
                    if let wanted, !wanted.contains(p) { continue }
                    let full = c.size(of: p)
                    let leo = c.partitions[Int(p)].logEndOffset
                    let lag = full > 0 ? Int64(Double(leo) * Double(full - size) / Double(full)) : 0
                    parts.append(
                        .init(
                            partitionIndex: c.partitions[Int(p)].id, partitionSize: size, offsetLag: lag,
                            isFutureKey: false))
                }
                if !parts.isEmpty { topics.append(.init(name: topic.name, partitions: parts)) }
            }
            let capacity = c.diskCapacity(of: node)
            return DescribeLogDirsResponse(results: [
                .init(
                    errorCode: 0, logDir: logDir, topics: topics, totalBytes: capacity ?? -1,
                    usableBytes: capacity.map { max(0, $0 - used) } ?? -1)
            ])
        }
    }

    static func describeQuorum(_ sim: KafkaSimulator, _ r: DescribeQuorumRequest, version: Int16)
        -> DescribeQuorumResponse
    {
        sim.withCluster { c in
            let q = c.quorumState()
            var resp = DescribeQuorumResponse()
            var out: [DescribeQuorumResponse.TopicData] = []
            for t in r.topics {
                var parts: [DescribeQuorumResponse.PartitionData] = []
                for p in t.partitions {
                    guard t.topicName == "__cluster_metadata", p.partitionIndex == 0 else {
                        parts.append(
                            .init(
                                partitionIndex: p.partitionIndex,
                                errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue))
                        continue
                    }
                    if q.leader < 0 {
                        parts.append(
                            .init(
                                partitionIndex: 0, errorCode: KafkaErrorCode.notLeaderOrFollower.rawValue, leaderId: -1,
                                leaderEpoch: q.epoch))
                        continue
                    }
                    func state(_ v: SimQuorum.VoterState) -> DescribeQuorumResponse.ReplicaState {
                        .init(
                            replicaId: v.id, logEndOffset: v.logEndOffset, lastFetchTimestamp: v.lastFetchMs,
                            lastCaughtUpTimestamp: v.lastCaughtUpMs)
                    }
                    parts.append(
                        .init(
                            partitionIndex: 0, leaderId: q.leader, leaderEpoch: q.epoch, highWatermark: q.highWatermark,
                            currentVoters: q.voters.map(state), observers: q.observers.map(state)))
                }
                out.append(.init(topicName: t.topicName, partitions: parts))
            }
            resp.topics = out
            guard version >= 2 else { return resp }
            resp.nodes = q.voters.compactMap { c.node($0.id) }.map {
                .init(
                    nodeId: $0.id, listeners: [.init(name: "CONTROLLER", host: host, port: UInt16(clamping: $0.port))])
            }
            return resp
        }
    }
}
