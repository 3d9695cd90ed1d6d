import CRdKafka

/// librdkafka's built-in mock cluster (rdkafka_mock.h): real Kafka protocol over loopback TCP, enough for
/// Metadata and ApiVersions. For tests of the read path until a richer simulator is at hand.
public final class RdKafkaMockCluster: Sendable {
    private let handle: SendableOpaquePointer
    private let cluster: SendableOpaquePointer
    /// `host:port,...` of the mock brokers (ids 1...n).
    public let bootstrap: String

    public init(brokers: Int) throws(KafkaAdminError) {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaAdminError(.invalidArgument, "librdkafka could not allocate a configuration.")
        }
        ballast_rd_kafka_conf_silence(conf)
        var errstr = [CChar](repeating: 0, count: 256)
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaAdminError(.invalidArgument, "librdkafka could not create a handle: \(cText(errstr)).")
        }
        guard let mc = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
            rd_kafka_destroy(rk)
            throw KafkaAdminError(.invalidArgument, "librdkafka could not start a mock cluster.")
        }
        handle = SendableOpaquePointer(pointer: rk)
        cluster = SendableOpaquePointer(pointer: mc)
        bootstrap = String(cString: rd_kafka_mock_cluster_bootstraps(mc))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster.pointer)
        rd_kafka_destroy(handle.pointer)
    }

    private func check(_ err: rd_kafka_resp_err_t, _ what: String) throws(KafkaAdminError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaAdminError(.kafka, "Mock cluster: \(what) failed with \(RdKafkaClient.errName(err)).")
        }
    }

    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32) throws(KafkaAdminError) {
        try check(
            rd_kafka_mock_topic_create(cluster.pointer, name, partitions, replicationFactor), "creating topic \(name)")
    }

    public func setRack(broker: Int32, rack: String) throws(KafkaAdminError) {
        try check(rd_kafka_mock_broker_set_rack(cluster.pointer, broker, rack), "setting the rack of \(broker)")
    }

    public func setLeader(topic: String, partition: Int32, broker: Int32) throws(KafkaAdminError) {
        try check(
            rd_kafka_mock_partition_set_leader(cluster.pointer, topic, partition, broker),
            "moving the leader of \(topic)-\(partition)")
    }

    /// Takes a broker off the network (connections are closed, new ones refused) or brings it back.
    public func setBroker(_ id: Int32, up: Bool) throws(KafkaAdminError) {
        try check(
            up ? rd_kafka_mock_broker_set_up(cluster.pointer, id) : rd_kafka_mock_broker_set_down(cluster.pointer, id),
            "setting broker \(id) \(up ? "up" : "down")")
    }
}
