import ArgumentParser
import Foundation
import KafkaSim
import KafkaWire
import Logging

/// `ballast bench sim`: starts a large simulated cluster and times start-up and a full Metadata request; with
/// `--produce-consume`, the simulator's produce and consume throughput (`Bench+SimClients.swift`).
struct BenchSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Start a large simulated cluster; time start-up and a full Metadata request (or, with "
            + "--produce-consume, produce and consume throughput).")

    @Option(help: "Brokers.") var brokers = 300
    @Option(help: "Replicas in total (topics x partitions x replication factor).") var replicas = 1_000_000
    @Option(help: "Topics.") var topics = 1000
    @Option(help: "Replication factor.") var replicationFactor = 3
    @Flag(help: "Measure produce and consume throughput on a 3-broker cluster instead.") var produceConsume = false
    @Option(help: "With --produce-consume: messages in all.") var messages = 200_000
    @Option(help: "With --produce-consume: bytes per message.") var messageBytes = 1024
    @Option(help: "With --produce-consume: partitions (one producer and one consumer each).") var partitions = 6
    @Option(help: "With --produce-consume: messages per Produce request.") var batch = 100
    @Option(help: "With --produce-consume: the simulator's memory bound per partition (default: keep everything).")
    var logBytesPerPartition: Int64?

    func validate() throws {
        guard messages >= 1, messageBytes >= 1, partitions >= 1, batch >= 1 else {
            throw ValidationError("--messages, --message-bytes, --partitions and --batch must be at least 1")
        }
        if let logBytesPerPartition, logBytesPerPartition <= 0 {
            throw ValidationError("--log-bytes-per-partition must be positive, not \(logBytesPerPartition)")
        }
        guard batch * (messageBytes + 64) <= 1_000_000 else {
            throw ValidationError("--batch x --message-bytes must stay under max.message.bytes (1 MB)")
        }
    }

    func run() async throws {
        if produceConsume { return try await runProduceConsume() }
        let clock = ContinuousClock()
        let t0 = clock.now
        var topo = SimTopology()
        topo.brokers = brokers
        topo.racks = 3
        topo.topics = topics
        topo.replicationFactor = replicationFactor
        topo.minInsyncReplicas = min(2, replicationFactor)
        topo.partitions = max(1, (replicas + topics * replicationFactor - 1) / (topics * replicationFactor))
        let cluster = try topo.build()
        let built = clock.now - t0
        let sim = KafkaSimulator(cluster: cluster)
        var config = KafkaSimServer.Configuration()
        config.basePort = 0
        config.controlPort = nil
        var logger = Logger(label: "ballast.bench.sim")
        logger.logLevel = .warning
        let server = KafkaSimServer(
            simulator: sim, configuration: config, responder: KafkaProtocolResponder.make(sim), logger: logger)
        let embedded = try await EmbeddedSimulator.start(server)
        let started = clock.now - t0

        let frame = try KafkaFrame.request(
            MetadataRequest(topics: nil), version: 12, correlationId: 1, clientId: "bench")
        let m0 = clock.now
        let reply = KafkaProtocolResponder.respond(sim, node: 1, frame: Array(frame.dropFirst(4)))
        let metadataTime = clock.now - m0
        guard case .respond(let bytes) = reply else { throw ValidationError("the Metadata request failed") }
        let (_, decoded) = try KafkaFrame.decodeResponse(
            MetadataResponse.self, version: 12, body: Array(bytes.dropFirst(4)))
        let replicaCount = decoded.topics.reduce(0) { $0 + $1.partitions.reduce(0) { $0 + $1.replicaNodes.count } }
        await embedded.stop()
        print("brokers=\(brokers) partitions=\(cluster.partitions.count) replicas=\(replicaCount)")
        print("build=\(built) start=\(started) (target < 10 s)")
        print("metadata=\(metadataTime) bytes=\(bytes.count) (target < 1 s)")
        print("peakRSS=\(Self.status("VmHWM")) (target < 2 GiB)")
    }

    static func status(_ key: String) -> String {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "unknown" }
        for line in s.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return "unknown"
    }
}
