import Foundation
import Synchronization

/// The real client of the simulator tests: Debian's confluent-kafka (librdkafka) running
/// `Scripts/acks-all-producer.py` over TCP, acks=all with retries off, on every partition of the given topics.
public struct AcksAllProducer {
    public struct Summary: Decodable, Sendable {
        public var sent: Int
        public var ok: Int
        public var failed: Int
        public var errors: [String: Int]
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let process: Process
    let outPath: String
    let errPath: String

    public static let python = "/usr/bin/python3"
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../Scripts/acks-all-producer.py"
        ).standardizedFileURL.path
    }

    /// Whether the client can run here (python3-confluent-kafka installed; `Scripts/test.sh` installs it).
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: python)
            && FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/confluent_kafka")
    }

    /// Starts the producer and returns once it has had its first message acknowledged (the script prints `ready`;
    /// its output file is polled, as a child's output cannot be awaited otherwise).
    public static func start(bootstrap: String, topics: [String], rate: Int = 300, valueBytes: Int = 1000)
        async throws -> AcksAllProducer
    {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Failure(description: "\(python) is missing: install python3-confluent-kafka (Scripts/test.sh does)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            script, "--bootstrap", bootstrap, "--topics", topics.joined(separator: ","), "--rate", String(rate),
            "--value-bytes", String(valueBytes),
        ]
        // Files, not pipes: librdkafka logs every disconnect, and a full pipe would stall the client.
        let base = NSTemporaryDirectory() + "ballast-producer-\(UUID().uuidString)"
        let producer = AcksAllProducer(process: process, outPath: base + ".out", errPath: base + ".err")
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
                throw Failure(description: "the producer had no message acknowledged within 30 s: \(producer.errors())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return producer
    }

    func output() -> String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    func errors() -> String { String(((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "").suffix(500)) }

    /// Stops producing, waits for every outstanding delivery, and returns what the client saw.
    public func stop() async throws -> Summary {
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
            throw Failure(description: "the producer printed no summary: \(output()) \(errors())")
        }
        return summary
    }
}
