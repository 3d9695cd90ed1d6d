import Agent
import AgentContract
import AgentProcessDriver
import AgentSimDriver
import BallastStore
import BallastTestSupport
import Foundation
import KafkaAdmin
import KafkaModel
import KafkaSim
import Logging
import Roller
import ServiceLifecycle
import Synchronization
import Testing

@testable import ConfigPlanning
@testable import Operations

/// Rolls against the simulator over real TCP: 9 brokers in 3 racks, RF 3, min ISR 2, replication throttled so
/// that catching up takes longer than a restart, and a real acks=all client (librdkafka, retries off) producing to
/// every partition throughout.
@Suite(.serialized) struct SimRollTests {
    typealias Sim = EmbeddedSimulator

    // The producer writes ~300 KB/s (real) over 18 partitions, so ~100 KB/s into each broker, 10 KB per cluster
    // second at time scale 10. A 3 s (cluster) restart leaves ~30 KB to copy at a net 5 KB/s: ~6 s of catch-up,
    // longer than the restart, so moving on at "broker up" leaves partitions with one in-sync replica.
    static func startSim() async throws -> Sim { try await SimRollHarness.start(replicationBytesPerSecond: 15_000) }

    /// The real client: Debian's confluent-kafka (librdkafka) running `Scripts/acks-all-producer.py` over TCP,
    /// acks=all with retries off, on every partition of every topic.
    struct Producer {
        struct Summary: Decodable {
            var sent: Int
            var ok: Int
            var failed: Int
            var errors: [String: Int]
        }
        let process: Process
        let outPath: String
        let errPath: String

        static let python = "/usr/bin/python3"
        static var script: String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "../../../Scripts/acks-all-producer.py"
            ).standardizedFileURL.path
        }

        /// Starts the producer and returns once it has had its first message acknowledged.
        static func start(bootstrap: String, topics: [String]) async throws -> Producer {
            guard FileManager.default.isExecutableFile(atPath: python) else {
                throw RollFailure("\(python) is missing: install python3-confluent-kafka (Scripts/test.sh does)")
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [
                script, "--bootstrap", bootstrap, "--topics", topics.joined(separator: ","), "--rate", "300",
                "--value-bytes", "1000",
            ]
            // Files, not pipes: librdkafka logs every disconnect, and a full pipe would stall the client.
            let base = NSTemporaryDirectory() + "ballast-producer-\(UUID().uuidString)"
            let producer = Producer(process: process, outPath: base + ".out", errPath: base + ".err")
            for path in [producer.outPath, producer.errPath] {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            process.standardOutput = FileHandle(forWritingAtPath: producer.outPath)
            process.standardError = FileHandle(forWritingAtPath: producer.errPath)
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(30)
            while producer.output().isEmpty {
                guard process.isRunning, clock.now < deadline else {
                    process.terminate()
                    throw RollFailure("the producer had no message acknowledged within 30 s: \(producer.errors())")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            return producer
        }

        func output() -> String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        func errors() -> String { String(((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "").suffix(500)) }

        /// Stops producing, waits for every outstanding delivery (the process's exit), and returns what the client
        /// saw.
        func stop() async throws -> Summary {
            await withCheckedContinuation { (exited: CheckedContinuation<Void, Never>) in
                let once = Mutex(Optional(exited))
                let resume = { @Sendable in once.withLock { $0.take() }?.resume() }
                process.terminationHandler = { _ in resume() }
                // It may have ended before the handler was set.
                if !process.isRunning { resume() }
                process.terminate()
            }
            defer { for path in [outPath, errPath] { try? FileManager.default.removeItem(atPath: path) } }
            guard let line = output().split(separator: "\n").last,
                let summary = try? JSONDecoder().decode(Summary.self, from: Data(line.utf8))
            else {
                throw RollFailure("the producer printed no summary: \(output()) \(errors())")
            }
            return summary
        }
    }

    static func topics(_ sim: Sim) -> [String] { sim.simulator.withCluster { c in c.topics.map(\.name) } }

    @Test func ballastRollsNineBrokersInThreeBatchesWithoutOneNotEnoughReplicas() async throws {
        let sim = try await Self.startSim()
        defer { sim.cancel() }
        let producer = try await Producer.start(bootstrap: sim.bootstrap, topics: Self.topics(sim))

        var options = RollOptions()
        options.timeouts.pollSeconds = 0.1
        let events = RollExecutorTests.Events()
        let restarted = try await SimRollHarness.roll(
            sim, driver: SimDriver(control: sim.controlURL, pollMilliseconds: 20, requestTimeout: .seconds(60)),
            options: options
        ) { events.add($0) }.get()
        // A moment of load after the last batch: deliveries to the restored leaders count too.
        try await Task.sleep(for: .milliseconds(500))
        let counts = try await producer.stop()
        #expect(restarted.sorted() == (1...9).map { Int32($0) })
        #expect(events.batches.count == 3)
        #expect(counts.ok > 0)
        #expect(counts.errors["NOT_ENOUGH_REPLICAS"] == nil)
        #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
        #expect(counts.ok == counts.sent)
        #expect(sim.simulator.withCluster { $0.stats.produceByError[.notEnoughReplicas] } == nil)
        // Catch-up was really waited for: progress events show replicas out of sync at some point.
        #expect(
            events.all.contains { if case .catchingUp(_, let inSync, let total) = $0 { inSync < total } else { false } }
        )
        let preferred = sim.simulator.withCluster { c in c.partitions.allSatisfy { $0.leader == $0.replicas[0] } }
        #expect(preferred)
    }

    @Test func aNaiveRollThatMovesOnWhenABrokerIsUpCausesNotEnoughReplicas() async throws {
        let sim = try await Self.startSim()
        defer { sim.cancel() }
        let producer = try await Producer.start(bootstrap: sim.bootstrap, topics: Self.topics(sim))
        let driver = SimDriver(control: sim.controlURL, pollMilliseconds: 20, requestTimeout: .seconds(60))
        for node in (1...9).map({ Int32($0) }) { try await driver.restart(node: node) }
        try await Task.sleep(for: .milliseconds(500))
        let counts = try await producer.stop()
        #expect((counts.errors["NOT_ENOUGH_REPLICAS"] ?? 0) > 0, "the client saw \(counts.errors)")
    }
}
