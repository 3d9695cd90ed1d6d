import Foundation
import KafkaSim
import Testing

/// `ballast config apply` as a process against the simulator over TCP.
@Suite(.enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct ConfigCLITests {
    static func desired(_ text: String) -> String {
        let path = NSTemporaryDirectory() + "ballast-desired-\(UUID().uuidString).properties"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// A desired state with one invalid value is refused whole: before, the valid lines were applied, the invalid
    /// one printed as "not planned" and the command exited 0.
    @Test func aDesiredFileWithOneInvalidValueIsRefusedWholeAndNothingIsApplied() async throws {
        var topology = SimTopology()
        topology.brokers = 3
        topology.topics = 1
        let sim = try await EmbeddedSimulator.start(try topology.build(), timeScale: 10)
        defer { sim.cancel() }
        let before = sim.simulator.withCluster { c in (c.clusterDefaultConfigs, c.nodes.map(\.dynamicConfigs)) }
        let file = Self.desired("num.io.threads=-1\nlog.retention.ms=1234\n")
        defer { try? FileManager.default.removeItem(atPath: file) }

        let r = try await run(ballastBinary!, ["config", "apply", "--bootstrap", sim.bootstrap, "--desired", file])
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("nothing was applied") && r.stderr.contains("line 1"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stdout.contains("not planned: line 1: num.io.threads"), "\(r.stdout)")
        let after = sim.simulator.withCluster { c in (c.clusterDefaultConfigs, c.nodes.map(\.dynamicConfigs)) }
        #expect(after.0 == before.0 && after.1 == before.1)
        #expect(after.0["log.retention.ms"] == nil)

        // The valid line alone is applied.
        let valid = Self.desired("log.retention.ms=1234\n")
        defer { try? FileManager.default.removeItem(atPath: valid) }
        let ok = try await run(ballastBinary!, ["config", "apply", "--bootstrap", sim.bootstrap, "--desired", valid])
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        #expect(sim.simulator.withCluster { $0.clusterDefaultConfigs["log.retention.ms"] } == "1234")
    }
}
