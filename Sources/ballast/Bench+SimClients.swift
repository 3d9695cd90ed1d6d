import ArgumentParser
import Dispatch
import Foundation
import KafkaSim
import KafkaWire
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `ballast bench sim --produce-consume`: how many 1 KB messages a second the simulator takes in and gives out on
/// loopback, through Ballast's own KafkaWire client: one producer and then one consumer per partition, each on its
/// own connection to the partition's leader (acks=all, batches of `--batch` records, Fetch of up to 1 MiB).
extension BenchSimCommand {
    struct ClientFigures {
        var seconds: Double
        var messages: Int
        var bytes: Int
    }

    func runProduceConsume() async throws {
        var topo = SimTopology()
        topo.brokers = 3
        topo.racks = 3
        topo.topics = 0
        var settings = SimSettings()
        // By default every message is kept and the consumers read them all; with --log-bytes-per-partition the
        // memory bound drops the oldest and the consumers read what is left.
        settings.maxStoredBytesPerPartition =
            logBytesPerPartition ?? Int64(messages / partitions + batch) * Int64(messageBytes + 100) + (1 << 20)
        var cluster = try topo.build(settings: settings)
        try cluster.createTopic(
            name: "bench", partitions: partitions, replicationFactor: 3, configs: ["min.insync.replicas": "2"])
        let sim = KafkaSimulator(cluster: cluster)
        var config = KafkaSimServer.Configuration()
        config.basePort = 0
        config.controlPort = nil
        var logger = Logger(label: "ballast.bench.sim")
        logger.logLevel = .warning
        let server = KafkaSimServer(
            simulator: sim, configuration: config, responder: KafkaProtocolResponder.make(sim), logger: logger)
        let embedded = try await EmbeddedSimulator.start(server)
        defer { embedded.cancel() }
        let (messages, partitions, batch, messageBytes) = (
            self.messages, self.partitions, self.batch, self.messageBytes
        )
        let leaders: [Int] = sim.withCluster { c in
            (0..<Int32(partitions)).map { p in
                let leader = c.partitions[Int(c.partitionIndex(topic: "bench", partition: p)!)].leader
                return c.node(leader)!.port
            }
        }
        let produced = try await Self.onThreads(partitions) { p in
            try Self.produce(
                port: leaders[p], partition: Int32(p), messages: messages / partitions, batch: batch,
                bytes: messageBytes)
        }
        let consumed = try await Self.onThreads(partitions) { p in
            try Self.consume(port: leaders[p], partition: Int32(p))
        }
        let kept = sim.withCluster { c in c.logs.values.reduce(Int64(0)) { $0 + $1.storedBytes } }
        print(
            "produce-consume: 3 brokers, topic of \(partitions) partitions (RF 3, acks=all), \(messageBytes)-byte "
                + "messages, batches of \(batch), at most \(settings.maxStoredBytesPerPartition) bytes kept per partition"
        )
        for (name, f) in [("produce", produced), ("consume", consumed)] {
            let rate = Double(f.messages) / f.seconds
            print(
                "\(name)=\(f.messages) messages in \(String(format: "%.2f", f.seconds)) s: \(Int(rate)) messages/s, "
                    + "\(String(format: "%.1f", Double(f.bytes) / f.seconds / 1_048_576)) MiB/s")
        }
        print("stored=\(kept) bytes after the run; peakRSS=\(Self.status("VmHWM"))")
    }

    /// Runs `body` for 0..<count on as many threads and times the whole.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) throws -> (messages: Int, bytes: Int))
        async throws -> ClientFigures
    {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                let results = Mutex<[Int: Result<(messages: Int, bytes: Int), any Error>]>([:])
                let start = DispatchTime.now()
                DispatchQueue.concurrentPerform(iterations: count) { i in
                    let r = Result { try body(i) }
                    results.withLock { $0[i] = r }
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
                do {
                    let all = try results.withLock { $0 }.values.map { try $0.get() }
                    continuation.resume(
                        returning: ClientFigures(
                            seconds: seconds, messages: all.reduce(0) { $0 + $1.messages },
                            bytes: all.reduce(0) { $0 + $1.bytes }))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    static func produce(port: Int, partition: Int32, messages: Int, batch: Int, bytes: Int) throws -> (
        messages: Int, bytes: Int
    ) {
        let client = try BenchClient(port: port)
        let value = [UInt8](repeating: 0x61, count: bytes)
        let records = RecordBatchHeader.build(
            records: Array(repeating: .init(value: value), count: batch), timestamp: 1_700_000_000_000)
        let request = ProduceRequest(
            acks: -1, timeoutMs: 30_000,
            topicData: [.init(name: "bench", partitionData: [.init(index: partition, records: records)])])
        var sent = 0
        while sent < messages {
            let answer = try client.request(request, version: 9).responses[0].partitionResponses[0]
            guard answer.errorCode == 0 else {
                throw ValidationError("produce to bench-\(partition) answered error \(answer.errorCode)")
            }
            sent += batch
        }
        return (sent, sent * bytes)
    }

    /// Reads the partition from its log start to the end it had when the consumer began.
    static func consume(port: Int, partition: Int32) throws -> (messages: Int, bytes: Int) {
        let client = try BenchClient(port: port)
        func listOffset(_ timestamp: Int64) throws -> Int64 {
            let r = ListOffsetsRequest(
                replicaId: -1,
                topics: [.init(name: "bench", partitions: [.init(partitionIndex: partition, timestamp: timestamp)])])
            return try client.request(r, version: 7).topics[0].partitions[0].offset
        }
        var offset = try listOffset(-2)
        let end = try listOffset(-1)
        var count = 0
        var bytes = 0
        while offset < end {
            let request = FetchRequest(
                maxWaitMs: 500, minBytes: 1, maxBytes: 1 << 20,
                topics: [
                    .init(
                        topic: "bench",
                        partitions: [.init(partition: partition, fetchOffset: offset, partitionMaxBytes: 1 << 20)])
                ])
            let answer = try client.request(request, version: 11).responses[0].partitions[0]
            guard answer.errorCode == 0 else {
                throw ValidationError("fetch from bench-\(partition) answered error \(answer.errorCode)")
            }
            let records = answer.records ?? []
            for h in try RecordBatchHeader.parse(records) where h.lastOffset >= offset && h.baseOffset < end {
                count += Int(h.lastOffset - max(offset, h.baseOffset) + 1)
                offset = h.lastOffset + 1
            }
            bytes += records.count
        }
        return (count, bytes)
    }
}

/// A blocking loopback Kafka connection: one request at a time.
final class BenchClient {
    let fd: Int32
    var correlationId: Int32 = 0

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw ValidationError("cannot connect to 127.0.0.1:\(port)")
        }
    }

    deinit { close(fd) }

    func request<R: KafkaRequest>(_ r: R, version: Int16) throws -> R.Response {
        correlationId += 1
        let frame = try KafkaFrame.request(r, version: version, correlationId: correlationId, clientId: "bench")
        var off = 0
        while off < frame.count {
            let n = frame[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ValidationError("the simulator closed the connection") }
            off += n
        }
        let size = try read(4)
        let body = try read(Int(UInt32(size[0]) << 24 | UInt32(size[1]) << 16 | UInt32(size[2]) << 8 | UInt32(size[3])))
        return try KafkaFrame.decodeResponse(R.Response.self, version: version, body: body).response
    }

    func read(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var off = 0
        while off < count {
            let n = out[off...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw ValidationError("the simulator closed the connection") }
            off += n
        }
        return out
    }
}
