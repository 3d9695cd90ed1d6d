import AsyncHTTPClient
import BallastTestSupport
import Foundation
import ServiceContract
import Testing

/// Debian's `prometheus` scraping `ballast serve`'s /metrics with the read token (`authorization.credentials_file`),
/// and an alert rule on a Ballast metric firing. Prometheus is another process and announces nothing the test can
/// await, so the test polls its HTTP API (every 100 ms, up to minutes: a loaded 2-core machine is slow).
@Suite(
    .serialized, .enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"),
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"),
        "prometheus is not installed (Scripts/test.sh installs Debian's prometheus)"))
struct ServePrometheusTests {
    /// Runs promtool with `arguments` (stdin from `input` when given); returns its status and what it said.
    static func promtool(_ arguments: [String], input: String? = nil, in dir: String) async throws -> (Int32, String) {
        var stdin: String?
        if let input {
            stdin = dir + "/promtool-in-\(UUID().uuidString)"
            try input.write(toFile: stdin!, atomically: true, encoding: .utf8)
        }
        // Through a shell so that stdin can be a file.
        let command =
            "/usr/bin/promtool " + arguments.map { "'\($0)'" }.joined(separator: " ")
            + (stdin.map { " < '\($0)'" } ?? "")
        let r = try await run("/bin/sh", ["-c", command])
        return (r.status, r.stdout + r.stderr)
    }

    static func getJSON(_ url: String) async throws -> [String: Any] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return (try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]) ?? [:]
    }

    @Test(
        "Prometheus scrapes /metrics with the read token, promtool finds it clean, and a rule on ballast_rolls_paused fires once an alert pauses rolls"
    )
    func prometheusScrapesAndARuleFires() async throws {
        let dir = NSTemporaryDirectory() + "serve-prom-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let serve = try await ServeProcess.start(
            """
            listen: 127.0.0.1:0
            store: sqlite://\(dir)/serve.sqlite
            clusters:
              - name: prod
                bootstrap: 127.0.0.1:1

            """, in: dir)
        defer { serve.child.kill9() }

        // What Prometheus will scrape, checked by promtool (the text format's rules: names, HELP/TYPE, units).
        let metrics = try await serve.call(.GET, "/metrics", token: ServeProcess.read)
        #expect(metrics.status == 200)
        let lint = try await Self.promtool(["check", "metrics"], input: metrics.text, in: dir)
        #expect(lint.0 == 0 && lint.1.isEmpty, "promtool check metrics: \(lint.1)")

        let host = String(serve.base.dropFirst("http://".count))
        let port = try freeLoopbackPort()
        try """
        global: {scrape_interval: 1s, evaluation_interval: 1s}
        rule_files: [\(dir)/rules.yml]
        scrape_configs:
          - job_name: ballast
            metrics_path: /metrics
            authorization: {type: Bearer, credentials_file: \(dir)/read.token}
            static_configs: [{targets: ['\(host)']}]
        """.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
        try """
        groups:
          - name: ballast
            rules:
              - alert: BallastRollsPaused
                expr: max by (cluster) (ballast_rolls_paused) > 0
                labels: {severity: warning}
                annotations: {summary: "Ballast paused rolls on {{ $labels.cluster }}"}
        """.write(toFile: dir + "/rules.yml", atomically: true, encoding: .utf8)
        let config = try await Self.promtool(["check", "config", dir + "/prometheus.yml"], in: dir)
        #expect(config.0 == 0, "promtool check config: \(config.1)")

        let prometheus = try ChildProcess(
            "/usr/bin/prometheus",
            [
                "--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/tsdb",
                "--web.listen-address=127.0.0.1:\(port)",
            ])
        defer { prometheus.kill9() }
        let api = "http://127.0.0.1:\(port)/api/v1"

        // The target is scraped and up: the bearer token was accepted.
        #expect(
            try await eventually {
                let targets = (try? await Self.getJSON(api + "/targets"))?["data"] as? [String: Any]
                let active = targets?["activeTargets"] as? [[String: Any]] ?? []
                return active.contains { $0["health"] as? String == "up" }
            }, "Prometheus scraped ballast serve: \(prometheus.stderr.suffix(2000))")
        let up = try await Self.getJSON(api + "/query?query=ballast_http_requests_total")
        #expect(((up["data"] as? [String: Any])?["result"] as? [Any])?.isEmpty == false, "\(up)")
        // Nothing paused yet: the rule is inactive.
        let before = try await Self.getJSON(api + "/alerts")
        #expect(((before["data"] as? [String: Any])?["alerts"] as? [Any])?.isEmpty == true, "\(before)")

        // An Alertmanager webhook pauses rolls on prod; the gauge turns 1 and the rule fires.
        let pause = AlertmanagerWebhook(
            status: "firing",
            alerts: [
                AlertmanagerAlert(
                    status: "firing",
                    labels: ["alertname": "ConsumerLag", "ballast_action": "pause-rollouts", "kafka_cluster": "prod"],
                    startsAt: ServiceJSON.string(Date()), fingerprint: "lag-1")
            ])
        #expect(try await serve.post("/v1/alerts", json: pause).status == 200)
        #expect(
            try await eventually {
                let data = (try? await Self.getJSON(api + "/alerts"))?["data"] as? [String: Any]
                let alerts = data?["alerts"] as? [[String: Any]] ?? []
                return alerts.contains {
                    $0["state"] as? String == "firing"
                        && ($0["labels"] as? [String: String])?["alertname"] == "BallastRollsPaused"
                        && ($0["labels"] as? [String: String])?["cluster"] == "prod"
                }
            }, "BallastRollsPaused fired")
    }
}
