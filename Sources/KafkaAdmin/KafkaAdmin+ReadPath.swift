import CRdKafka
import KafkaModel
import KafkaWire

/// The transport of the safety read path (Metadata, DescribeConfigs of `min.insync.replicas`, CreateTopics).
public enum ReadPath: String, Sendable, Hashable, CaseIterable {
    /// librdkafka: a client library used in production for years.
    case librdkafka
    /// Ballast's own `KafkaWire` connection (the one that already carries the admin calls librdkafka lacks).
    case native

    /// The linked librdkafka, as `rd_kafka_version()` reports it (`0xMMmmrrxx`).
    public static var linkedLibrdkafkaVersion: Int { Int(rd_kafka_version()) }
    public static var linkedLibrdkafkaVersionString: String { String(cString: rd_kafka_version_str()) }

    /// The first librdkafka whose SCRAM client-final message Kafka 4.x accepts (confluentinc/librdkafka#4895).
    public static let firstLibrdkafkaWithStrictScram = 0x0206_0100

    /// The read path for `security` when the caller did not fix one: librdkafka, except with SCRAM on a
    /// librdkafka older than 2.6.1. Those versions send the client nonce twice in the SCRAM client-final
    /// message; Kafka 4.x checks it as RFC 5802 requires and refuses every login ("invalid credentials").
    /// Returns the path and, when it is not librdkafka, why (one sentence for verbose output).
    public static func automatic(for security: KafkaSecurity, librdkafkaVersion: Int, versionString: String)
        -> (path: ReadPath, reason: String?)
    {
        guard let sasl = security.sasl, sasl.mechanism != .plain, librdkafkaVersion < firstLibrdkafkaWithStrictScram
        else { return (.librdkafka, nil) }
        return (
            .native,
            "librdkafka \(versionString) cannot log in with \(sasl.mechanism.rawValue) to Kafka 4.x (it sends the SCRAM "
                + "client nonce twice, fixed in 2.6.1: confluentinc/librdkafka#4895), so Metadata and DescribeConfigs "
                + "go over Ballast's native Kafka connection"
        )
    }
}

/// One Metadata answer for all topics, as either read path reports it.
struct ClusterMetadata: Sendable {
    struct Broker: Sendable, Hashable {
        var id: Int32
        var host: String
        var port: Int32
    }
    struct Partition: Sendable, Hashable {
        var id: Int32
        var errorName: String?
        var leader: Int32
        var replicas: [Int32]
        var isr: [Int32]
    }
    struct Topic: Sendable, Hashable {
        var name: String
        var errorName: String?
        var partitions: [Partition]
    }
    var originatingBrokerId: Int32
    var brokers: [Broker]
    var topics: [Topic]
    var clusterId: String?
    var controllerId: Int32
}

extension ClusterMetadata {
    /// A native Metadata answer in the same shape as librdkafka's (sorted by topic, partition and broker id).
    init(_ r: MetadataResponse) {
        func name(_ code: Int16) -> String? { code == 0 ? nil : KafkaErrorCode(code).name }
        self.init(
            originatingBrokerId: -1,
            brokers: r.brokers.map { Broker(id: $0.nodeId, host: $0.host, port: $0.port) }.sorted { $0.id < $1.id },
            topics: r.topics.compactMap { t in
                guard let topicName = t.name else { return nil }
                return Topic(
                    name: topicName, errorName: name(t.errorCode),
                    partitions: t.partitions.map {
                        Partition(
                            id: $0.partitionIndex, errorName: name($0.errorCode), leader: $0.leaderId,
                            replicas: $0.replicaNodes, isr: $0.isrNodes)
                    }.sorted { $0.id < $1.id })
            }.sorted { $0.name < $1.name },
            clusterId: r.clusterId, controllerId: r.controllerId)
    }
}

extension NativeClient {
    /// CreateTopics over the native connection (any broker; KRaft brokers forward it to the controller).
    func createTopics(_ topics: [NewTopic], validateOnly: Bool, timeout: Duration) async throws(KafkaAdminError) {
        if topics.isEmpty { return }
        let request = CreateTopicsRequest(
            topics: topics.map { t in
                let assignment = t.replicaAssignment ?? []
                return .init(
                    name: t.name, numPartitions: t.replicaAssignment == nil ? t.partitions : -1,
                    replicationFactor: t.replicaAssignment == nil ? t.replicationFactor : -1,
                    assignments: assignment.enumerated().map {
                        .init(partitionIndex: Int32($0.offset), brokerIds: $0.element)
                    },
                    configs: t.configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) })
            }, timeoutMs: Int32(clamping: timeout.milliseconds), validateOnly: validateOnly)
        let r = try await send(request, to: .any)
        for result in r.topics where result.errorCode != 0 {
            let code = KafkaErrorCode(result.errorCode)
            throw KafkaAdminError(
                .kafka,
                "CreateTopics of '\(result.name)' via \(configuration.bootstrapString) failed with \(code.name)"
                    + "\(result.errorMessage.map { ": \($0)" } ?? "").",
                kafkaErrorName: code.name)
        }
    }
}
