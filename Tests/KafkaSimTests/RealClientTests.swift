import Foundation
import KafkaWire
import Testing

@testable import KafkaSim

/// Unmodified librdkafka clients against the simulator: Debian's kcat and python3-confluent-kafka.
@Suite(.serialized) struct RealClientTests {
    static let kcat = ["/usr/bin/kcat", "/usr/bin/kafkacat"].first { FileManager.default.isExecutableFile(atPath: $0) }
    /// Debian's package installs for the system interpreter, not for pyenv's.
    static let python = "/usr/bin/python3"
    static let hasConfluentKafka: Bool = {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        return (try? run(python, ["-c", "import confluent_kafka"]).status) == 0
    }()

    /// Runs a client to its end; one that outlives `timeout` seconds is killed (so a hung client fails the test
    /// instead of the run), and its stderr says so.
    static func run(_ path: String, _ args: [String], input: String? = nil, timeout: Double = 120) throws -> (
        status: Int32, out: String, err: String
    ) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let stdin = Pipe()
        p.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try p.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        var errText = String(decoding: e, as: UTF8.self)
        if p.terminationReason == .uncaughtSignal { errText += "\n(killed after \(timeout) s)" }
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), errText)
    }

    static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Scripts/\(name)")
            .standardizedFileURL.path
    }

    /// The last stdout line of a script, as JSON.
    static func summary(_ out: String) -> [String: Any] {
        guard let line = out.split(separator: "\n").last,
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { return [:] }
        return object
    }

    @Test(.enabled(if: kcat != nil, "kcat is not installed (apt-get install kcat)"))
    func kcatListsBrokersTopicsAndPartitions() async throws {
        let sim = try await RunningSim.start(try cluster3(minIsr: 2, partitions: 3))
        let bootstrap = sim.server.bootstrap
        let r = try await onThread { try Self.run(Self.kcat!, ["-b", bootstrap, "-L", "-m", "10"]) }
        await sim.stop()
        #expect(r.status == 0, "kcat failed: \(r.err)")
        #expect(r.out.contains("3 brokers:"))
        #expect(r.out.contains("topic \"topic-0\" with 3 partitions:"))
        #expect(r.out.contains("isrs: "))
    }

    @Test(
        .enabled(
            if: hasConfluentKafka, "python3-confluent-kafka is not installed (apt-get install python3-confluent-kafka)")
    )
    func confluentKafkaProducerWithAcksAll() async throws {
        let sim = try await RunningSim.start(try cluster3(minIsr: 2, partitions: 3))
        let script = """
            import sys, confluent_kafka
            p = confluent_kafka.Producer({'bootstrap.servers': sys.argv[1], 'acks': 'all', 'message.timeout.ms': 10000})
            ok, errs = [0], []
            def cb(err, msg):
                if err: errs.append(str(err))
                else: ok[0] += 1
            for i in range(200):
                p.produce('topic-0', value=b'x' * 100, key=str(i).encode(), on_delivery=cb)
                p.poll(0)
            p.flush(20)
            print(ok[0], len(errs), errs[:3])
            sys.exit(0 if ok[0] == 200 else 1)
            """
        let bootstrap = sim.server.bootstrap
        let r = try await onThread { try Self.run(Self.python, ["-c", script, bootstrap]) }
        let stats = sim.simulator.withCluster { c in
            (c.stats.produceByError, c.partitions.reduce(Int64(0)) { $0 + $1.logEndOffset })
        }
        await sim.stop()
        #expect(r.status == 0, "producer: \(r.out) \(r.err)")
        #expect(stats.1 == 200, "records appended: \(stats.1)")
        #expect((stats.0[KafkaErrorCode.none] ?? 0) > 0)
    }

    @Test(
        .enabled(
            if: hasConfluentKafka, "python3-confluent-kafka is not installed (apt-get install python3-confluent-kafka)")
    )
    func aTransactionalProducerFailsAtOnceSayingTransactionsAreNotModelled() async throws {
        let sim = try await RunningSim.start(try cluster3(minIsr: 2, partitions: 3))
        defer { sim.embedded.cancel() }
        let script = """
            import sys, confluent_kafka
            p = confluent_kafka.Producer({'bootstrap.servers': sys.argv[1], 'transactional.id': 'tx-1'})
            try:
                p.init_transactions(30)
                print('initialised')
            except confluent_kafka.KafkaException as e:
                print('fatal' if e.args[0].fatal() else 'retriable', e.args[0].str())
            """
        let bootstrap = sim.server.bootstrap
        let r = try await onThread { try Self.run(Self.python, ["-c", script, bootstrap], timeout: 60) }
        #expect(r.out.hasPrefix("fatal"), "init_transactions: \(r.out) \(r.err.suffix(300))")
        #expect(r.out.contains("The simulator does not model transactions."))
    }

    @Test(.enabled(if: kcat != nil, "kcat is not installed (apt-get install kcat)"))
    func kcatProducesThenConsumesAPartitionAndAsAGroupMember() async throws {
        let sim = try await RunningSim.start(try cluster3(minIsr: 2, partitions: 3), timeScale: 10)
        defer { sim.embedded.cancel() }
        let bootstrap = sim.server.bootstrap
        let lines = (0..<60).map { "line-\($0)" }
        let produced = try await onThread {
            try Self.run(
                Self.kcat!, ["-P", "-b", bootstrap, "-t", "topic-0"], input: lines.joined(separator: "\n") + "\n")
        }
        #expect(produced.status == 0, "kcat -P: \(produced.err)")
        let inPartition0 = sim.simulator.withCluster { $0.partitions[0].logEndOffset }
        let single = try await onThread {
            try Self.run(
                Self.kcat!, ["-C", "-b", bootstrap, "-t", "topic-0", "-p", "0", "-o", "beginning", "-e", "-q"])
        }
        #expect(single.status == 0, "kcat -C: \(single.err)")
        #expect(single.out.split(separator: "\n").count == Int(inPartition0))
        // The balanced consumer: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, Fetch, OffsetCommit, LeaveGroup.
        let group = try await onThread {
            try Self.run(
                Self.kcat!, ["-G", "kcat-group", "-b", bootstrap, "-o", "beginning", "-e", "-q", "topic-0"], timeout: 60
            )
        }
        #expect(group.status == 0, "kcat -G: \(group.err)")
        #expect(Set(group.out.split(separator: "\n").map(String.init)) == Set(lines))
        let committed = sim.simulator.withCluster { $0.groups["kcat-group"]?.offsets.values.map(\.offset).reduce(0, +) }
        #expect(committed == 60, "kcat -G commits what it read")
    }

    @Test(
        .enabled(
            if: hasConfluentKafka, "python3-confluent-kafka is not installed (apt-get install python3-confluent-kafka)")
    )
    func anIdempotentProducerAndAGroupOfThreeConsumersWithDefaultSettingsLoseNothing() async throws {
        let sim = try await RunningSim.start(try cluster3(minIsr: 2, partitions: 6), timeScale: 10)
        defer { sim.embedded.cancel() }
        let bootstrap = sim.server.bootstrap
        // The group first (every consumer assigned), then the producer: the three consume side by side.
        let consumers = try Background.start(
            Self.python,
            [
                Self.script("group-consumer.py"), "--bootstrap", bootstrap, "--topics", "topic-0", "--group", "g3",
                "--consumers", "3", "--expect", "3000", "--run", "r1", "--timeout", "90",
            ])
        defer { consumers.stop() }
        try await consumers.waitForLine("ready", seconds: 60)
        let produced = try await onThread {
            try Self.run(
                Self.python,
                [
                    Self.script("idempotent-producer.py"), "--bootstrap", bootstrap, "--topics", "topic-0", "--count",
                    "3000",
                    "--run", "r1", "--value-bytes", "1000",
                ])
        }
        #expect(produced.status == 0, "producer: \(produced.out) \(produced.err)")
        #expect(Self.summary(produced.out)["ok"] as? Int == 3000)
        let status = try await consumers.wait(seconds: 120)
        let summary = Self.summary(consumers.output())
        #expect(status == 0, "consumers: \(consumers.output()) \(consumers.errors())")
        #expect(summary["missing"] as? Int == 0)
        #expect(summary["unique"] as? Int == 3000)
        #expect(summary["duplicates"] is Int)
        #expect((summary["perConsumer"] as? [Int])?.filter { $0 > 0 }.count == 3, "every consumer got partitions")
        let (appended, producerIds, outOfOrder, group) = sim.simulator.withCluster { c in
            (
                c.partitions.filter { c.topics[Int($0.topic)].name == "topic-0" }.reduce(Int64(0)) {
                    $0 + $1.logEndOffset
                },
                c.clientStats.producerIds, c.stats.produceByError[.outOfOrderSequenceNumber],
                c.groups["g3"].map { ($0.stats.completedRebalances, $0.offsets.count) }
            )
        }
        #expect(appended == 3000, "each message written once")
        #expect(producerIds >= 1)
        #expect(outOfOrder == nil)
        #expect((group?.0 ?? 0) >= 1)
        #expect(group?.1 == 6, "the group committed all six partitions")
    }
}

/// A client process whose output goes to files (a full pipe would stall librdkafka's logging).
final class Background: @unchecked Sendable {
    let process = Process()
    let outPath: String
    let errPath: String

    private init(outPath: String, errPath: String) {
        self.outPath = outPath
        self.errPath = errPath
    }

    static func start(_ path: String, _ args: [String]) throws -> Background {
        let base = NSTemporaryDirectory() + "ballast-client-\(UUID().uuidString)"
        let b = Background(outPath: base + ".out", errPath: base + ".err")
        for p in [b.outPath, b.errPath] { _ = FileManager.default.createFile(atPath: p, contents: nil) }
        b.process.executableURL = URL(fileURLWithPath: path)
        b.process.arguments = args
        b.process.standardOutput = FileHandle(forWritingAtPath: b.outPath)
        b.process.standardError = FileHandle(forWritingAtPath: b.errPath)
        b.process.standardInput = FileHandle.nullDevice
        try b.process.run()
        return b
    }

    func output() -> String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    func errors() -> String { String(((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "").suffix(800)) }

    /// Waits for a line the client prints when it reaches a state (polling its output file: the client is another
    /// process with no other way to say so), at most `seconds`.
    func waitForLine(_ line: String, seconds: Double) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !output().split(separator: "\n").contains(Substring(line)) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw TestError(
                    "no '\(line)' from \(process.executableURL?.lastPathComponent ?? "") within \(seconds) s: \(errors())"
                )
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits for the client to exit by itself (at most `seconds`, then it is stopped); its exit status.
    func wait(seconds: Double) async throws -> Int32 {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { stop() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGTERM (the scripts then print their summary and exit).
    func stop() {
        if process.isRunning { process.terminate() }
    }

    deinit {
        for p in [outPath, errPath] { try? FileManager.default.removeItem(atPath: p) }
    }
}
