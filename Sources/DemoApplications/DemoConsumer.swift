import CRdKafka
public import DashboardModel
import Foundation

/// The demo's consumer application: a member of the consumer group `ballast-demo` (librdkafka's group protocol over
/// TCP: coordinator, join, sync, heartbeats, committed offsets) reading the demo topic from the start, reporting
/// every message (key and sequence number) to `ApplicationStats`, which finds lost ones; group rebalances and
/// consumer errors are counted too. It runs on its own thread.
public final class DemoConsumer: Sendable {
    public struct Configuration: Sendable {
        public var bootstrap: String
        public var topic: String
        public var group: String = "ballast-demo"

        public init(bootstrap: String, topic: String) {
            self.bootstrap = bootstrap
            self.topic = topic
        }
    }

    let configuration: Configuration
    let stats: ApplicationStats
    let handle: RdHandle
    let thread = ApplicationThread(name: "ballast-demo-consumer")

    public init(_ configuration: Configuration, stats: ApplicationStats) throws(DemoApplicationError) {
        self.configuration = configuration
        self.stats = stats
        let conf = try RdConf([
            ("bootstrap.servers", configuration.bootstrap),
            ("client.id", "ballast-demo-consumer"),
            ("group.id", configuration.group),
            ("auto.offset.reset", "earliest"),
            ("enable.auto.commit", "true"),
            ("auto.commit.interval.ms", "1000"),
            ("session.timeout.ms", "30000"),
            ("reconnect.backoff.ms", "50"),
            ("reconnect.backoff.max.ms", "1000"),
        ])
        rd_kafka_conf_set_opaque(conf.pointer, Unmanaged.passUnretained(stats).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf.pointer) { rk, err, partitions, opaque in
            if let opaque { Unmanaged<ApplicationStats>.fromOpaque(opaque).takeUnretainedValue().rebalanced() }
            if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
                rd_kafka_assign(rk, partitions)
            } else {
                rd_kafka_assign(rk, nil)
            }
        }
        handle = try RdHandle.make(RD_KAFKA_CONSUMER, conf)
        rd_kafka_poll_set_consumer(handle.pointer)
        guard let list = rd_kafka_topic_partition_list_new(1) else {
            throw DemoApplicationError("librdkafka could not allocate a topic list")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_topic_partition_list_add(list, configuration.topic, -1)
        let err = rd_kafka_subscribe(handle.pointer, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw DemoApplicationError(
                "the consumer could not subscribe to \(configuration.topic): \(String(cString: rd_kafka_err2str(err)))")
        }
    }

    public func start() { thread.start { [self] in run() } }

    /// Leaves the group (committing its offsets) and returns the totals.
    public func stop() async -> ApplicationTotals {
        await thread.stop()
        return stats.totals
    }

    func run() {
        while !thread.isStopping {
            guard let message = rd_kafka_consumer_poll(handle.pointer, 200) else { continue }
            let m = message.pointee
            if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                if let (key, sequence) = DemoMessage.keyAndSequence(m) { stats.consumed(key: key, sequence: sequence) }
            } else if m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                stats.consumeError(String(cString: rd_kafka_err2name(m.err)))
            }
            rd_kafka_message_destroy(message)
        }
        rd_kafka_consumer_close(handle.pointer)
    }
}
