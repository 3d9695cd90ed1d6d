import CRdKafka
public import DashboardModel
import Foundation

/// The demo's producer application: a real Kafka client (librdkafka, as most non-Java applications use) producing
/// over TCP with acks=all and idempotence on (`enable.idempotence=true`: no duplicate and no reordering on retries),
/// at a steady rate, round the keys `key-0`…; each message's value is its sequence number within its key, so the
/// consumer can tell a lost message from a late one. Deliveries and failures go to `ApplicationStats`.
///
/// It runs on its own thread (librdkafka's calls block); `stop()` flushes every message in flight first.
public final class DemoProducer: Sendable {
    public struct Configuration: Sendable {
        public var bootstrap: String
        public var topic: String
        public var messagesPerSecond: Double = 200
        public var keys: Int = 32
        public var valueBytes: Int = 256

        public init(bootstrap: String, topic: String) {
            self.bootstrap = bootstrap
            self.topic = topic
        }
    }

    let configuration: Configuration
    let stats: ApplicationStats
    let handle: RdHandle
    let topic: RdHandle
    let thread = ApplicationThread(name: "ballast-demo-producer")

    public init(_ configuration: Configuration, stats: ApplicationStats) throws(DemoApplicationError) {
        self.configuration = configuration
        self.stats = stats
        let conf = try RdConf([
            ("bootstrap.servers", configuration.bootstrap),
            ("client.id", "ballast-demo-producer"),
            ("acks", "all"),
            ("enable.idempotence", "true"),
            ("linger.ms", "5"),
            // A roll takes minutes; a message may wait for its partition's new leader that long before it counts
            // as failed.
            ("message.timeout.ms", "600000"),
            ("reconnect.backoff.ms", "50"),
            ("reconnect.backoff.max.ms", "1000"),
        ])
        rd_kafka_conf_set_opaque(conf.pointer, Unmanaged.passUnretained(stats).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf.pointer) { _, message, opaque in
            guard let message, let opaque else { return }
            let stats = Unmanaged<ApplicationStats>.fromOpaque(opaque).takeUnretainedValue()
            let m = message.pointee
            if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                if let (key, sequence) = DemoMessage.keyAndSequence(m) {
                    stats.acknowledged(key: key, sequence: sequence)
                }
            } else {
                stats.failed(error: String(cString: rd_kafka_err2name(m.err)))
            }
        }
        handle = try RdHandle.make(RD_KAFKA_PRODUCER, conf)
        guard let t = rd_kafka_topic_new(handle.pointer, configuration.topic, nil) else {
            throw DemoApplicationError("librdkafka could not make a handle for topic \(configuration.topic)")
        }
        topic = RdHandle(pointer: t, destroy: rd_kafka_topic_destroy)
    }

    /// Produces until `stop()`, on a thread of its own.
    public func start() { thread.start { [self] in run() } }

    /// Stops producing, waits for every message in flight to be acknowledged or failed (at most 60 s), and returns
    /// the totals.
    public func stop() async -> ApplicationTotals {
        await thread.stop()
        return stats.totals
    }

    func run() {
        var sequences = [Int](repeating: 0, count: configuration.keys)
        let interval = 1 / configuration.messagesPerSecond
        let padding = String(repeating: "x", count: max(0, configuration.valueBytes - 12))
        var next = Date()
        var index = 0
        while !thread.isStopping {
            let keyIndex = index % configuration.keys
            index += 1
            let key = "key-\(keyIndex)"
            let value = DemoMessage.value(sequence: sequences[keyIndex], padding: padding)
            var queued = false
            while !queued && !thread.isStopping {
                let rc = value.withCString { v in
                    key.withCString { k in
                        rd_kafka_produce(
                            topic.pointer, -1, 0x2 /* RD_KAFKA_MSG_F_COPY */, UnsafeMutableRawPointer(mutating: v),
                            strlen(v), k, strlen(k), nil)
                    }
                }
                if rc == 0 {
                    queued = true
                } else {
                    // The local queue is full (a partition without a leader holds messages): serve callbacks, retry.
                    rd_kafka_poll(handle.pointer, 100)
                }
            }
            guard queued else { break }
            sequences[keyIndex] += 1
            stats.sent()
            rd_kafka_poll(handle.pointer, 0)
            next += interval
            let wait = next.timeIntervalSinceNow
            if wait > 0 {
                rd_kafka_poll(handle.pointer, Int32(wait * 1000))
                let rest = next.timeIntervalSinceNow
                if rest > 0 { Thread.sleep(forTimeInterval: rest) }
            } else if wait < -1 {
                next = Date()  // fell behind (a stall): do not burst to catch up
            }
        }
        rd_kafka_flush(handle.pointer, 60_000)
        // Messages still queued after the flush are failures the stats must count.
        let left = rd_kafka_outq_len(handle.pointer)
        for _ in 0..<max(0, left) { stats.failed(error: "not delivered within 60 s of stopping") }
    }
}
