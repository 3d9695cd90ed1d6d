import ArgumentParser
import KafkaAdmin
import KafkaModel

/// `ballast bench admin`: how long `KafkaAdmin.snapshot()` takes against a live cluster.
struct AdminBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Time KafkaAdmin.snapshot() (first call includes connecting).")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Snapshots after the first.")
    var iterations = 20

    func run() async throws {
        guard iterations > 0 else { throw ValidationError("--iterations must be positive.") }
        try connection.check()
        let admin = try connection.makeAdmin(try connection.adminConfiguration())
        let clock = ContinuousClock()
        var coldSnapshot: ClusterSnapshot?
        let cold = try await clock.measure { coldSnapshot = try await admin.snapshot() }
        var warm: [Duration] = []
        for _ in 0..<iterations {
            warm.append(try await clock.measure { _ = try await admin.snapshot() })
        }
        let logDirs = try await clock.measure { _ = try await admin.describeLogDirs() }
        await admin.shutdown()
        warm.sort()
        let s = coldSnapshot!
        func ms(_ d: Duration) -> String {
            let v = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
            return String(Int((v * 10).rounded())).withDecimal
        }
        print("cluster: \(s.brokers.count) brokers, \(s.topics.count) topics, \(s.allPartitions.count) partitions")
        print("snapshot cold (connect + first read): \(ms(cold)) ms")
        print(
            "snapshot warm x\(iterations): min \(ms(warm.first!)) ms, median \(ms(warm[warm.count / 2])) ms, "
                + "p90 \(ms(warm[min(warm.count - 1, warm.count * 9 / 10)])) ms, max \(ms(warm.last!)) ms")
        print("describeLogDirs (all brokers): \(ms(logDirs)) ms")
    }
}

extension String {
    /// "1234" (tenths) → "123.4".
    fileprivate var withDecimal: String {
        let padded = count < 2 ? String(repeating: "0", count: 2 - count) + self : self
        return "\(padded.dropLast()).\(padded.suffix(1))"
    }
}
