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

    static func run(_ path: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test(.enabled(if: kcat != nil, "kcat is not installed (apt-get install kcat)"))
    func kcatListsBrokersTopicsAndPartitions() async throws {
        let sim = try await RunningSim.start(try cluster3(minIsr: 2, partitions: 3))
        let r = try await Task.detached { try Self.run(Self.kcat!, ["-b", sim.server.bootstrap, "-L", "-m", "10"]) }
            .value
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
        let r = try await Task.detached { try Self.run(Self.python, ["-c", script, sim.server.bootstrap]) }.value
        let stats = sim.simulator.withCluster { c in
            (c.stats.produceByError, c.partitions.reduce(Int64(0)) { $0 + $1.logEndOffset })
        }
        await sim.stop()
        #expect(r.status == 0, "producer: \(r.out) \(r.err)")
        #expect(stats.1 == 200, "records appended: \(stats.1)")
        #expect((stats.0[KafkaErrorCode.none] ?? 0) > 0)
    }
}
