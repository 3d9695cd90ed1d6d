public import KafkaModel
import KafkaWire
import Logging

extension KafkaAdmin {
    /// The live cluster in one value: brokers with racks, the controller, every topic's partitions with
    /// leader, replicas, ISR, offline replicas and leader epoch, and each topic's effective
    /// `min.insync.replicas`.
    ///
    /// Leaders, replicas and ISR come from the read path's Metadata, `min.insync.replicas` from its
    /// DescribeConfigs: librdkafka where it can log in, else the native connection (`readPath`). Racks and the
    /// controller come from DescribeCluster, leader epochs and offline replicas from a native Metadata, the quorum
    /// from DescribeQuorum (nil when the cluster does not answer it). Throws rather than guess when a topic's
    /// `min.insync.replicas` cannot be read, unless `minInSyncReplicasIfUnknown` is given.
    public func snapshot(minInSyncReplicasIfUnknown: Int? = nil) async throws(KafkaAdminError) -> ClusterSnapshot {
        let native = self.native
        let rd = self.rd
        async let nativeMetadataResult = Self.capture {
            () async throws(KafkaAdminError) -> MetadataResponse in
            try await native.send(MetadataRequest(topics: nil))
        }
        // The native read path needs no second Metadata: the native one carries leaders, ISR, epochs and offline
        // replicas.
        let md: ClusterMetadata
        if let rd {
            md = try await rd.metadata()
        } else {
            md = ClusterMetadata(try await nativeMetadataResult.get())
        }
        let resources = md.topics.map(\.name).map(ConfigResource.topic)
        async let configsResult = Self.capture {
            () async throws(KafkaAdminError) -> [ResourceConfigs] in
            let read = { () async throws(KafkaAdminError) -> [ResourceConfigs] in
                if let rd { return try await rd.describeConfigs(resources, names: ["min.insync.replicas"]) }
                return try await native.describeConfigs(resources, names: ["min.insync.replicas"], route: .any)
            }
            do throws(KafkaAdminError) {
                return try await read()
            } catch  where error.isRetriable {
                // A topic just created (or deleted) may be in one broker's metadata and not yet in another's.
                try? await Task.sleep(for: .milliseconds(500))
                return try await read()
            }
        }
        async let clusterResult = Self.capture { () async throws(KafkaAdminError) in try await native.refreshCluster() }
        async let quorumResult = Self.capture { () async throws(KafkaAdminError) in try await self.describeQuorum() }

        let cluster = try await clusterResult.get()
        let configs = await configsResult
        let nativeMetadata = await nativeMetadataResult
        let quorum = await quorumResult

        var minIsr: [String: Int] = [:]
        switch configs {
        case .success(let list):
            for rc in list {
                if let v = rc["min.insync.replicas"]?.value, let n = Int(v) { minIsr[rc.resource.name] = n }
            }
        case .failure(let error):
            guard minInSyncReplicasIfUnknown != nil else { throw error }
            logger.warning("min.insync.replicas unknown", metadata: [LogKey.error: "\(error.message)"])
        }

        // Epochs and offline replicas by partition, only where the native view agrees on the leader.
        var extra: [TopicPartition: (epoch: Int32, offline: [Int32], leader: Int32)] = [:]
        if case .success(let m) = nativeMetadata {
            for t in m.topics {
                guard let name = t.name else { continue }
                for p in t.partitions {
                    extra[TopicPartition(name, p.partitionIndex)] = (p.leaderEpoch, p.offlineReplicas, p.leaderId)
                }
            }
        } else if case .failure(let error) = nativeMetadata {
            logger.warning("leader epochs unknown", metadata: [LogKey.error: "\(error.message)"])
        }

        var topics: [TopicInfo] = []
        for t in md.topics {
            guard let min = minIsr[t.name] ?? minInSyncReplicasIfUnknown else {
                throw KafkaAdminError(
                    .kafka,
                    "DescribeConfigs via \(configuration.bootstrapString) did not return min.insync.replicas "
                        + "of topic '\(t.name)'.")
            }
            let partitions = t.partitions.map { p in
                let x = extra[TopicPartition(t.name, p.id)]
                let agrees = x?.leader == p.leader
                return PartitionInfo(
                    topic: t.name, partition: p.id, leader: p.leader, leaderEpoch: agrees ? x!.epoch : -1,
                    replicas: p.replicas, isr: p.isr, offlineReplicas: agrees ? x!.offline : [])
            }
            topics.append(
                TopicInfo(
                    name: t.name, isInternal: t.name.hasPrefix("__"), minInSyncReplicas: min, partitions: partitions))
        }

        // librdkafka's broker list is authoritative for membership; racks come from DescribeCluster.
        let racks = Dictionary(cluster.brokers.map { ($0.id, $0.rack) }, uniquingKeysWith: { a, _ in a })
        let brokers = md.brokers.map { BrokerInfo(id: $0.id, host: $0.host, port: $0.port, rack: racks[$0.id] ?? nil) }

        var snapshotQuorum: QuorumInfo?
        switch quorum {
        case .success(let q): snapshotQuorum = q
        case .failure(let error):
            logger.debug("quorum unknown", metadata: [LogKey.error: "\(error.message)"])
        }
        return ClusterSnapshot(
            clusterId: cluster.clusterId ?? md.clusterId,
            controllerId: snapshotQuorum?.leaderId ?? cluster.controllerId,
            brokers: brokers, topics: topics, quorum: snapshotQuorum)
    }

    static func capture<T: Sendable>(_ body: () async throws(KafkaAdminError) -> T) async -> Result<T, KafkaAdminError>
    {
        do throws(KafkaAdminError) { return .success(try await body()) } catch { return .failure(error) }
    }
}
