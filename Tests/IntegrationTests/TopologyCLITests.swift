import Foundation
import Testing

/// `ballast topology check` and `ballast roll` against `ballast sim --kubernetes-port` (9 brokers, rack i in
/// Kubernetes cluster i) and one `ballast agent --driver kubernetes` per Kubernetes cluster, each with its own token.
@Suite(.serialized, .enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct TopologyCLITests {
    @Test func aRackAwareStretchClusterPassesRollsWithOneTokenPerAgentAndAWrongTokenFailsNamingTheAgent() async throws {
        let sim = try await SimProcess.start(["--brokers", "9", "--racks", "3", "--clusters", "3", "--topics", "4"])
        let dir = NSTemporaryDirectory() + "ballast-topology-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var agents: [ObservedProcess] = []
        do {
            var lines: [String] = []
            var urls: [String] = []
            for (i, kubeconfig) in sim.kubeconfigs.sorted().enumerated() {
                let name = "k8s-\(i + 1)"
                let agent = try ObservedProcess(
                    ballastBinary!,
                    [
                        "agent", "--driver", "kubernetes", "--kubeconfig", kubeconfig, "--cluster", name, "--listen",
                        "127.0.0.1:0", "--state-dir", "\(dir)/state-\(name)",
                    ], environment: ["BALLAST_AGENT_TOKEN": "token-of-\(name)"])
                agents.append(agent)
                let url = try await agent.line(startingWith: "listening=")
                try "token-of-\(name)\n".write(toFile: "\(dir)/\(name).token", atomically: true, encoding: .utf8)
                lines.append("      - {name: \(name), url: \"\(url)\", tokenFile: \(name).token}")
                urls.append(url)
            }
            let bootstrap = sim.process.lines(startingWith: "bootstrap=")[0]
            let config = """
                clusters:
                  - name: sim
                    bootstrap: \(bootstrap)
                    agents:
                \(lines.joined(separator: "\n"))
                    racks: {rack-a: k8s-1, rack-b: k8s-2, rack-c: k8s-3}
                """
            try config.write(toFile: "\(dir)/ballast.yaml", atomically: true, encoding: .utf8)
            let ok = try await run(ballastBinary!, ["topology", "check", "--config", "\(dir)/ballast.yaml"])
            #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
            #expect(ok.stdout.hasPrefix("cluster sim: ok"), "\(ok.stdout)")
            for check in ["agents", "nodes", "racks", "controllers", "placement"] {
                #expect(ok.stdout.contains("ok   \(check):"), "\(check): \(ok.stdout)")
            }
            let json = try await run(
                ballastBinary!, ["topology", "check", "--config", "\(dir)/ballast.yaml", "--json"])
            struct Report: Decodable {
                var ok: Bool
                var checks: [Check]
                struct Check: Decodable { var name: String; var ok: Bool }
            }
            let report = try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8))
            #expect(report.checks.map(\.name) == ["agents", "nodes", "racks", "controllers", "placement"])

            // `ballast roll` through the three agents, each with its own token: every pod replaced once.
            var roll = ["roll", "--bootstrap", bootstrap, "--poll", "0.1", "--state-dir", "\(dir)/roll", "--json"]
            for (i, url) in urls.enumerated() {
                roll += ["--agent", url, "--agent-token-file", "\(url)=\(dir)/k8s-\(i + 1).token"]
            }
            let rolled = try await run(ballastBinary!, roll, environment: ["BALLAST_AGENT_TOKEN": ""])
            #expect(rolled.status == 0, "\(rolled.stderr)")
            #expect(rolled.stdout.split(separator: "\n").filter { $0.contains("\"batchStarted\"") }.count == 3)
            for cluster in ["k8s-1", "k8s-2", "k8s-3"] {
                let pods = try await sim.pods(cluster)
                #expect(
                    pods.count == 3 && pods.allSatisfy { $0.deleted == 1 && $0.created == 2 }, "\(cluster): \(pods)")
            }
            #expect(try await sim.brokers().allSatisfy { $0.starts == 1 && $0.state == "running" })

            // A wrong token for one agent: exit 1, naming that agent.
            try "not-the-token\n".write(toFile: "\(dir)/k8s-2.token", atomically: true, encoding: .utf8)
            let bad = try await run(ballastBinary!, ["topology", "check", "--config", "\(dir)/ballast.yaml"])
            #expect(bad.status == 1)
            #expect(bad.stdout.contains("FAIL agents") && bad.stdout.contains("agent k8s-2 at"), "\(bad.stdout)")
            #expect(bad.stdout.contains("refused its token"), "\(bad.stdout)")

            // A bad configuration: exit 2, naming the key.
            try (config + "\n    pools: {kafka: {min: 4, max: 1}}").write(
                toFile: "\(dir)/bad.yaml", atomically: true, encoding: .utf8)
            let refused = try await run(ballastBinary!, ["topology", "check", "--config", "\(dir)/bad.yaml"])
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("clusters[0].pools.kafka needs 0 ≤ min ≤ max"), "\(refused.stderr)")
        } catch {
            for a in agents { await a.stop() }
            await sim.process.stop()
            throw error
        }
        for a in agents { await a.stop() }
        await sim.process.stop()
    }
}
