import Agent
import AgentSimDriver
import BallastTestSupport
import Foundation
import KafkaSim
import Roller
import Testing

/// A consumer group keeps consuming while the simulated 9-broker cluster is rolled, by Ballast and naively:
/// Debian's confluent-kafka (librdkafka, default settings) as an idempotent producer and a group of three consumers
/// over TCP. Time scale 1, so the clients' own timers (heartbeats, session, retries) and the cluster agree.
/// Each test prints one `roll-consumers` line with the figures docs/simulator.md reports.
@Suite(.serialized) struct SimRollConsumerTests {
    static let topics = ["topic-0", "topic-1", "topic-2"]

    /// A client script run in the background, its output in files.
    final class Client: @unchecked Sendable {
        let process = Process()
        let outPath: String
        let errPath: String

        init(_ script: String, _ args: [String]) throws {
            let base = NSTemporaryDirectory() + "ballast-client-\(UUID().uuidString)"
            outPath = base + ".out"
            errPath = base + ".err"
            for p in [outPath, errPath] { _ = FileManager.default.createFile(atPath: p, contents: nil) }
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments =
                [
                    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                        .appendingPathComponent("../../../Scripts/\(script)").standardizedFileURL.path
                ] + args
            process.standardOutput = FileHandle(forWritingAtPath: outPath)
            process.standardError = FileHandle(forWritingAtPath: errPath)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        deinit {
            if process.isRunning { process.terminate() }
            for p in [outPath, errPath] { try? FileManager.default.removeItem(atPath: p) }
        }

        func output() -> String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        func errors() -> String { String(((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "").suffix(600)) }

        /// Waits for the line the script prints once it works (polling its output file: another process has no
        /// other way to say so).
        func waitForReady(seconds: Double = 60) async throws {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while !output().split(separator: "\n").contains("ready") {
                guard process.isRunning, ContinuousClock.now < deadline else {
                    throw RollFailure(
                        "\(process.arguments?.first ?? "") was not ready within \(seconds) s: \(errors())")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        /// SIGTERM, then the JSON summary the script prints at its end.
        func stop(seconds: Double = 120) async throws -> [String: Any] {
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(seconds)
            while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            guard let line = output().split(separator: "\n").last,
                let summary = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else { throw RollFailure("no summary from \(process.arguments?.first ?? ""): \(output()) \(errors())") }
            return summary
        }
    }

    struct Outcome {
        var producer: [String: Any]
        var consumers: [String: Any]
        var group: SimGroupStats
        var longestGapMs: Int64
        var fetchErrors: [String: Int]
        var rollSeconds: Double
    }

    /// Starts the group (every consumer assigned) and a steady idempotent producer (100 messages/s of 1 KB), runs
    /// `roll`, stops the producer, waits until the group has read everything, and collects the figures.
    static func measure(_ roll: (EmbeddedSimulator) async throws -> Void) async throws -> Outcome {
        let sim = try await SimRollHarness.start(timeScale: 1)
        defer { sim.cancel() }
        let run = "roll\(UInt32.random(in: 0...UInt32.max))"
        let consumers = try Client(
            "group-consumer.py",
            [
                "--bootstrap", sim.bootstrap, "--topics", topics.joined(separator: ","), "--group", "roll-group",
                "--consumers", "3", "--run", run,
            ])
        try await consumers.waitForReady()
        let producer = try Client(
            "idempotent-producer.py",
            [
                "--bootstrap", sim.bootstrap, "--topics", topics.joined(separator: ","), "--rate", "100",
                "--value-bytes", "1000", "--run", run,
            ])
        try await producer.waitForReady()
        let before = sim.simulator.withCluster { $0.groupStats()["roll-group"] ?? SimGroupStats() }
        let started = ContinuousClock.now
        try await roll(sim)
        let rollTime = ContinuousClock.now - started
        let produced = try await producer.stop()
        // The group has read everything once every partition's delivered offset reaches its high watermark
        // (polled: the consumers are another process).
        let deadline = ContinuousClock.now + .seconds(90)
        while !sim.simulator.withCluster({ c in
            c.partitions.indices.allSatisfy { i in
                let p = Int32(i)
                guard topics.contains(c.topics[Int(c.partitions[i].topic)].name) else { return true }
                let hw = c.highWatermark(p)
                return hw == 0 || (c.clientStats.consumption[p]?.deliveredEnd ?? 0) >= hw
            }
        }) {
            guard ContinuousClock.now < deadline else { throw RollFailure("the group did not catch up within 90 s") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let (after, gap, fetch) = sim.simulator.withCluster { c in
            var fetch: [String: Int] = [:]
            for (e, n) in c.clientStats.fetchByError where e != .none { fetch[e.name] = n }
            return (c.groupStats()["roll-group"] ?? SimGroupStats(), c.clientStats.longestGap?.ms ?? 0, fetch)
        }
        let consumed = try await consumers.stop()
        // What the roll did to the group (its forming before and its leaving after are not counted).
        var group = after
        group.rebalances -= before.rebalances
        group.completedRebalances -= before.completedRebalances
        group.sessionTimeouts -= before.sessionTimeouts
        group.rebalancingMs -= before.rebalancingMs
        let seconds = Double(rollTime.components.seconds) + Double(rollTime.components.attoseconds) / 1e18
        return Outcome(
            producer: produced, consumers: consumed, group: group, longestGapMs: gap, fetchErrors: fetch,
            rollSeconds: seconds)
    }

    static func report(_ name: String, _ o: Outcome) {
        print(
            "roll-consumers \(name): roll \(String(format: "%.1f", o.rollSeconds)) s; producer ok \(o.producer["ok"] ?? "?")/"
                + "\(o.producer["sent"] ?? "?"); consumers received \(o.consumers["received"] ?? "?"), "
                + "run values \(o.consumers["runValues"] ?? "?"), duplicates \(o.consumers["duplicates"] ?? "?"), "
                + "assignments \(o.consumers["rebalances"] ?? "?"), longest gap (client) \(o.consumers["longestGapMs"] ?? "?") ms, "
                + "per partition \(o.consumers["longestPartitionGapMs"] ?? "?") ms; group rebalances during the roll "
                + "\(o.group.rebalances) (\(o.group.rebalancingMs) ms, session timeouts \(o.group.sessionTimeouts)); "
                + "longest consumer gap (simulator) \(o.longestGapMs) ms; fetch errors \(o.fetchErrors)")
    }

    /// Nothing the producer had acknowledged is missing from what the group received.
    static func expectNothingLost(_ o: Outcome) {
        let ok = o.producer["ok"] as? Int ?? -1
        let received = o.consumers["runValues"] as? Int ?? -2
        #expect(ok > 0)
        #expect(received >= ok, "acknowledged \(ok), the group received \(received) distinct messages")
        #expect(o.producer["failed"] as? Int == 0, "producer errors: \(o.producer["errors"] ?? "")")
    }

    @Test func aConsumerGroupKeepsConsumingThroughABallastRoll() async throws {
        let outcome = try await Self.measure { sim in
            var options = RollOptions()
            options.timeouts.pollSeconds = 0.1
            let restarted = try await SimRollHarness.roll(
                sim, driver: SimDriver(control: sim.controlURL, pollMilliseconds: 20, requestTimeout: .seconds(60)),
                options: options
            ) { _ in }.get()
            #expect(restarted.sorted() == (1...9).map { Int32($0) })
        }
        Self.report("ballast", outcome)
        Self.expectNothingLost(outcome)
        // The coordinator moves with its broker, but the members keep their generation: no rebalance.
        #expect(outcome.group.sessionTimeouts == 0)
        #expect(outcome.group.rebalances == 0)
    }

    @Test func aConsumerGroupThroughANaiveRoll() async throws {
        let outcome = try await Self.measure { sim in
            let driver = SimDriver(control: sim.controlURL, pollMilliseconds: 20, requestTimeout: .seconds(60))
            for node in (1...9).map({ Int32($0) }) { try await driver.restart(node: node) }
        }
        Self.report("naive", outcome)
        Self.expectNothingLost(outcome)
    }
}
