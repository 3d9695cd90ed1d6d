import Agent
import AgentSimDriver
import AsyncHTTPClient
import BallastTestSupport
import Foundation
import KafkaSim
import NIOCore
import Server
import ServiceContract
import Testing

/// Debian's `prometheus-alertmanager` delivering to `ballast serve`'s webhook (bearer token from a file through
/// http_config), and Debian's `promtool` checking `/metrics`. Alertmanager is another process and announces
/// nothing Ballast could await, so these tests poll Ballast's own state (every 100 ms, up to 120 s) for what the
/// webhook must have caused.
@Suite("Service with the real Alertmanager and promtool")
struct ServiceAlertmanagerTests {
    static let alertmanager = ["/usr/bin/prometheus-alertmanager", "/usr/bin/alertmanager"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Polls `condition` until it holds or 120 s pass; returns whether it held.
    static func eventually(_ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    /// Posts alerts to Alertmanager's API v2.
    static func fire(_ am: String, _ alerts: [[String: Any]]) async throws {
        var request = HTTPClientRequest(url: am + "/api/v2/alerts")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: alerts)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        #expect(response.status.code == 200)
    }

    @Test(
        "Alertmanager's webhook drives an upscale and a downscale on the simulator; its resends add nothing; a resolved pause-rollouts alert ends the pause",
        .enabled(if: alertmanager != nil, "prometheus-alertmanager is not installed (Scripts/test.sh installs it)"))
    func alertmanagerEndToEnd() async throws {
        // The simulator is not stopped at the end: when a scale failed (a loaded machine), the agent's own scale
        // operation may still poll the simulator's control API, and a Hummingbird server shut down while a
        // connection arrives traps (NIOAsyncWriter deinited without finish). It ends with the test process.
        let sim = try await SimRebalanceHarness.start(
            SimRebalanceHarness.model(brokers: 6, on: [1, 2, 3, 4, 5, 6]), timeScale: 10)
        let (dir, _) = try ServiceHarness.tokenFiles()
        try "agent-token".write(toFile: dir + "/agent.token", atomically: true, encoding: .utf8)
        try ServiceHarness.admin.write(toFile: dir + "/webhook.token", atomically: true, encoding: .utf8)
        try await withAgent(
            driver: SimDriver(control: sim.controlURL, requestTimeout: .seconds(120)), token: "agent-token"
        ) { agentURL in
            let yaml = ServiceSimTests.yaml(sim, agent: agentURL, tokenFile: dir + "/agent.token")
            var policy = ServiceSimTests.policy()
            policy.scaleCooldown = .seconds(3600)
            try await ServiceHarness.with(clusters: yaml, policy: policy) { s in
                let amPort = try freeLoopbackPort()
                let config = """
                    route:
                      receiver: ballast
                      group_by: [kafka_cluster, ballast_action]
                      group_wait: 0s
                      group_interval: 1s
                      repeat_interval: 1s
                    receivers:
                      - name: ballast
                        webhook_configs:
                          - url: \(s.base)/v1/alerts
                            send_resolved: true
                            http_config:
                              authorization: {type: Bearer, credentials_file: \(dir)/webhook.token}
                    """
                try config.write(toFile: dir + "/am.yml", atomically: true, encoding: .utf8)
                let am = Process()
                am.executableURL = URL(fileURLWithPath: Self.alertmanager!)
                am.arguments = [
                    "--config.file=\(dir)/am.yml", "--storage.path=\(dir)/am-data",
                    "--web.listen-address=127.0.0.1:\(amPort)", "--cluster.listen-address=",
                ]
                am.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
                am.standardError = FileHandle(forWritingAtPath: "/dev/null")
                try am.run()
                defer {
                    am.terminate()
                    am.waitUntilExit()
                }
                let amURL = "http://127.0.0.1:\(amPort)"
                #expect(
                    try await Self.eventually {
                        let r = try? await HTTPClient.shared.execute(
                            HTTPClientRequest(url: amURL + "/-/ready"), timeout: .seconds(5))
                        return r?.status.code == 200
                    }, "Alertmanager became ready")

                // Upscale: one operation, however often Alertmanager resends.
                try await Self.fire(
                    amURL, [["labels": ["alertname": "KafkaHot", "ballast_action": "upscale", "kafka_cluster": "sim"]]])
                #expect(
                    try await Self.eventually {
                        try await s.call(.GET, "/v1/operations?kind=upscale").decode(OperationList.self).operations
                            .count == 1
                    })
                let up = try #require(
                    try await s.call(.GET, "/v1/operations?kind=upscale").decode(OperationList.self).operations.first)
                let upEnd = try await s.engine.finished(up.id)
                #expect(upEnd.state == .succeeded, "\(upEnd.error ?? "")")
                #expect(
                    try await Self.eventually {
                        s.metrics.render().contains("ballast_alerts_deduplicated_total 0") == false
                    })
                #expect(
                    try await s.call(.GET, "/v1/operations?kind=upscale").decode(OperationList.self).operations.count
                        == 1)
                #expect(sim.simulator.withCluster { c in c.nodes.filter { !$0.removed }.count } == 7)

                // Downscale of the broker just added.
                try await Self.fire(
                    amURL,
                    [["labels": ["alertname": "KafkaCold", "ballast_action": "downscale", "kafka_cluster": "sim"]]])
                #expect(
                    try await Self.eventually {
                        try await s.call(.GET, "/v1/operations?kind=downscale").decode(OperationList.self).operations
                            .count == 1
                    })
                let down = try #require(
                    try await s.call(.GET, "/v1/operations?kind=downscale").decode(OperationList.self).operations.first)
                let downEnd = try await s.engine.finished(down.id)
                #expect(downEnd.state == .succeeded, "\(downEnd.error ?? "")")
                #expect(sim.simulator.withCluster { c in c.nodes.filter { !$0.removed }.count } == 6)

                // Pause, then resolve.
                let pause: [String: Any] = [
                    "labels": ["alertname": "ConsumerLag", "ballast_action": "pause-rollouts", "kafka_cluster": "sim"]
                ]
                try await Self.fire(amURL, [pause])
                #expect(
                    try await Self.eventually {
                        try await s.call(.GET, "/v1/clusters/sim").decode(ClusterStatus.self).rollsPaused
                    })
                var resolved = pause
                resolved["endsAt"] = ServiceJSON.string(Date().addingTimeInterval(-1))
                try await Self.fire(amURL, [resolved])
                #expect(
                    try await Self.eventually {
                        !(try await s.call(.GET, "/v1/clusters/sim").decode(ClusterStatus.self).rollsPaused)
                    })
                let stored = try await s.call(.GET, "/v1/alerts?cluster=sim").decode(AlertList.self).alerts
                #expect(stored.contains { $0.status == "resolved" && $0.outcome == "unpaused" })
                #expect(
                    try await s.call(.GET, "/v1/operations?kind=upscale").decode(OperationList.self).operations.count
                        == 1)
            }
        }
    }

    @Test(
        "promtool check metrics finds /metrics clean",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"), "promtool is not installed"))
    func promtoolClean() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            _ = try await s.post(
                "/v1/alerts",
                json: Alerts.payload([
                    Alerts.alert("Lag", labels: ["ballast_action": "pause-rollouts", "kafka_cluster": "prod"])
                ]))
            let text = try await s.call(.GET, "/metrics", token: ServiceHarness.read).text
            // Files, not pipes: a read of a pipe interrupted by a signal (EINTR) traps in Foundation.
            let dir = NSTemporaryDirectory() + "promtool-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try text.write(toFile: dir + "/metrics.txt", atomically: true, encoding: .utf8)
            _ = FileManager.default.createFile(atPath: dir + "/out.txt", contents: nil)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
            p.arguments = ["check", "metrics"]
            p.standardInput = FileHandle(forReadingAtPath: dir + "/metrics.txt")
            p.standardOutput = FileHandle(forWritingAtPath: dir + "/out.txt")
            p.standardError = FileHandle(forWritingAtPath: dir + "/out.txt")
            try p.run()
            p.waitUntilExit()
            let said = (try? String(contentsOfFile: dir + "/out.txt", encoding: .utf8)) ?? ""
            #expect(p.terminationStatus == 0, "\(said)")
            #expect(said.isEmpty, "promtool's findings: \(said)")
        }
    }
}
