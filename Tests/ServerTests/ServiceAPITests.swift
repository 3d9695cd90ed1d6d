import Foundation
import NIOHTTP1
import Server
import ServiceContract
import Testing

/// A configuration whose cluster cannot be reached: what the API answers without a Kafka cluster.
let unreachable = """
    clusters:
      - name: prod
        bootstrap: 127.0.0.1:1
        pools: {brokers: {min: 3, max: 9}}
    """

@Suite("Service API: auth, limits, probes, errors")
struct ServiceAPITests {
    @Test("the probes answer without a token; every other endpoint refuses a missing or unknown token with 401")
    func probesOpenEverythingElseNeedsAToken() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            #expect(try await s.call(.GET, "/healthz", token: nil).status == 200)
            let ready = try await s.call(.GET, "/readyz", token: nil)
            #expect(ready.status == 200)
            let r = try ready.decode(Readiness.self)
            #expect(r.ready && r.leader && r.engine == "test-engine")
            for path in ["/v1/operations", "/v1/clusters", "/v1/alerts", "/metrics", "/v1/operations/x"] {
                let none = try await s.call(.GET, path, token: nil)
                #expect(none.status == 401, "\(path)")
                #expect(none.headers.first(name: "WWW-Authenticate") == "Bearer")
                let wrong = try await s.call(.GET, path, token: "not-a-token")
                #expect(wrong.status == 401, "\(path)")
                #expect(!wrong.text.contains("not-a-token"), "the answer does not echo the token")
            }
        }
    }

    @Test("a read token reads but may not post (403); an admin token may")
    func readTokenIsReadOnly() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            #expect(try await s.call(.GET, "/v1/operations", token: ServiceHarness.read).status == 200)
            #expect(try await s.call(.GET, "/v1/clusters", token: ServiceHarness.read).status == 200)
            let payload = Alerts.payload([Alerts.alert("Noise", labels: [:])])
            let refused = try await s.post("/v1/alerts", json: payload, token: ServiceHarness.read)
            #expect(refused.status == 403)
            #expect(refused.error.contains("admin token"))
            #expect(try await s.call(.POST, "/v1/operations/x/cancel", token: ServiceHarness.read).status == 403)
            #expect(try await s.post("/v1/alerts", json: payload).status == 200)
        }
    }

    @Test("a body over 10 MB is refused with 413 and nothing is stored")
    func tenMegabyteBodyRefused() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            let big = Data(repeating: UInt8(ascii: " "), count: 10 * 1024 * 1024 + 1)
            let answer = try await s.call(.POST, "/v1/alerts", body: big)
            #expect(answer.status == 413)
            #expect(answer.error.contains("10 MB"))
            let alerts = try await s.call(.GET, "/v1/alerts").decode(AlertList.self)
            #expect(alerts.alerts.isEmpty)
        }
    }

    @Test("unknown operations and clusters are 404 naming them; bad query values are 400")
    func notFoundAndBadQueries() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            let op = try await s.call(.GET, "/v1/operations/nope")
            #expect(op.status == 404)
            #expect(op.error.contains("nope"))
            let cluster = try await s.call(.GET, "/v1/clusters/staging")
            #expect(cluster.status == 404)
            #expect(cluster.error.contains("staging") && cluster.error.contains("prod"))
            #expect(try await s.call(.GET, "/v1/operations?state=sleeping").status == 400)
            #expect(try await s.call(.GET, "/v1/operations?limit=0").status == 400)
            let bad = try await s.post("/v1/clusters/prod/rebalance", raw: "{\"dryRun\": \"yes\"}")
            #expect(bad.status == 400)
            #expect(bad.error.contains("dryRun"))
        }
    }

    @Test(
        "every method openapi.yaml declares is routed; any other method on a declared path answers 405 with Allow naming exactly the declared ones (not 404); a path nobody declares stays 404"
    )
    func undeclaredMethodsAre405WithAllow() async throws {
        let declared = try OpenAPIDocument.pathsAndMethods()
        #expect(declared.count == 13 && declared.values.map(\.count).reduce(0, +) == 14, "\(declared)")
        try await ServiceHarness.with(clusters: unreachable) { s in
            for (path, methods) in declared.sorted(by: { $0.key < $1.key }) {
                let concrete = path.replacingOccurrences(of: "{cluster}", with: "prod")
                    .replacingOccurrences(of: "{id}", with: "op-1")
                let allowed = methods.union(methods.contains("GET") ? ["HEAD"] : [])
                for method in ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"] {
                    let answer = try await s.call(HTTPMethod(rawValue: method), concrete)
                    if allowed.contains(method) {
                        #expect(answer.status != 405, "\(method) \(path)")
                        // Routed: a 404 can only be the engine's (no operation op-1).
                        if !concrete.contains("op-1") { #expect(answer.status != 404, "\(method) \(path)") }
                    } else {
                        #expect(answer.status == 405, "\(method) \(path): \(answer.status)")
                        #expect(
                            answer.headers.first(name: "Allow") == allowed.sorted().joined(separator: ", "),
                            "\(method) \(path)")
                        if method != "HEAD" { #expect(answer.error.contains(method), "\(answer.text)") }
                    }
                }
            }
            #expect(try await s.call(.PUT, "/v1/nothing").status == 404)
            #expect(try await s.call(.POST, "/v1/operations/op-1/explode").status == 404)
            let metrics = try await s.call(.GET, "/metrics").text
            #expect(metrics.contains("ballast_http_requests_total{code=\"405\"}"))
        }
    }

    @Test(
        "what openapi.yaml forbids is refused with 400 naming it: unknown keys in reconcile and rebalance bodies, a negative restart generation, a throttle below 1, brokers without add-brokers / remove-brokers and those modes without brokers, a per-broker config key that is not a broker id as Kafka writes it, an alert endsAt that is not a time; nothing is stored"
    )
    func schemaRulesTheSchemaCannotLeaveToChance() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            let cases: [(String, String, String)] = [
                ("/v1/clusters/prod/reconcile", #"{"configs": {}, "¦": null}"#, "¦ is not a known key"),
                ("/v1/clusters/prod/reconcile", #"{"restart": {"generation": 1, "why": "x"}}"#, "restart.why"),
                ("/v1/clusters/prod/reconcile", #"{"configs": {"brokerz": {}}}"#, "configs.brokerz"),
                ("/v1/clusters/prod/reconcile", #"{"restart": {"generation": -1}}"#, "restart.generation"),
                ("/v1/clusters/prod/rebalance", #"{"dryRun": true, "extra": 1}"#, "extra is not a known key"),
                ("/v1/clusters/prod/rebalance", #"{"throttleBytesPerSecond": 0}"#, "throttleBytesPerSecond"),
                ("/v1/clusters/prod/rebalance", #"{"brokers": [1], "mode": null}"#, "brokers applies only to"),
                ("/v1/clusters/prod/rebalance", #"{"brokers": [1], "mode": "fix-offline"}"#, "not fix-offline"),
                ("/v1/clusters/prod/rebalance", #"{"mode": "remove-brokers"}"#, "remove-brokers needs brokers"),
                (
                    "/v1/clusters/prod/rebalance", #"{"mode": "add-brokers", "brokers": []}"#,
                    "add-brokers needs brokers"
                ),
                ("/v1/clusters/prod/reconcile", #"{"configs": {"brokers": {"007": {}}}}"#, "'007' is not a broker id"),
                ("/v1/clusters/prod/reconcile", #"{"configs": {"brokers": {"+1": {}}}}"#, "'+1' is not a broker id"),
                (
                    "/v1/clusters/prod/reconcile", #"{"configs": {"cluster": {"a": "b"}}, "kafkaVersion": "4.1\n"}"#,
                    "kafkaVersion"
                ),
                (
                    "/v1/clusters/prod/reconcile", #"{"kafkaVersion": ""}"#,
                    "kafkaVersion"
                ),
                (
                    "/v1/alerts",
                    #"{"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {}, "startsAt": "2026-12-01T08:00:00Z", "endsAt": "AAA", "fingerprint": "f"}]}"#,
                    "alerts[0].endsAt 'AAA'"
                ),
            ]
            for (path, body, why) in cases {
                let answer = try await s.post(path, raw: body)
                #expect(answer.status == 400, "\(path) \(body): \(answer.text)")
                #expect(answer.error.contains(why), "\(answer.error)")
            }
            #expect(try await s.call(.GET, "/v1/alerts").decode(AlertList.self).alerts.isEmpty)
            #expect(try await s.call(.GET, "/v1/operations").decode(OperationList.self).operations.isEmpty)
        }
    }

    @Test("an unreachable cluster's status still answers 200, with the reason and Ballast's own state")
    func clusterStatusWithoutTheCluster() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            let answer = try await s.call(.GET, "/v1/clusters/prod", token: ServiceHarness.read)
            #expect(answer.status == 200)
            let status = try answer.decode(ClusterStatus.self)
            #expect(status.health == nil)
            #expect(status.healthError != nil)
            #expect(status.leader.engine == "test-engine")
            #expect(!status.rollsPaused)
        }
    }

    @Test("/metrics renders the Prometheus text format with the service's metrics")
    func metricsRender() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            _ = try await s.post("/v1/alerts", json: Alerts.payload([Alerts.alert("Noise", labels: [:])]))
            let answer = try await s.call(.GET, "/metrics", token: ServiceHarness.read)
            #expect(answer.status == 200)
            #expect(answer.headers.first(name: "Content-Type")?.hasPrefix("text/plain") == true)
            #expect(answer.text.contains("# TYPE ballast_alerts_received_total counter"))
            #expect(answer.text.contains("ballast_alerts_received_total 1"))
            #expect(answer.text.contains("ballast_alerts_acted_total{action=\"downscale\"} 0"))
        }
    }
}

@Suite("Service alerts: webhook version 4")
struct ServiceAlertTests {
    @Test("a malformed payload is 400 with the reason; an unknown cluster is 422; neither stores anything")
    func malformedAndUnknownCluster() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            let notJSON = try await s.post("/v1/alerts", raw: "{not json")
            #expect(notJSON.status == 400)
            let missing = try await s.post("/v1/alerts", raw: #"{"version": "4", "status": "firing"}"#)
            #expect(missing.status == 400)
            #expect(missing.error.contains("alerts is missing"))
            var v3 = Alerts.payload([Alerts.alert("A", labels: [:])])
            v3.version = "3"
            #expect(try await s.post("/v1/alerts", json: v3).error.contains("version 4"))
            let badAction = try await s.post(
                "/v1/alerts",
                json: Alerts.payload([
                    Alerts.alert("A", labels: ["ballast_action": "explode", "kafka_cluster": "prod"])
                ]))
            #expect(badAction.status == 400)
            #expect(badAction.error.contains("explode"))
            let unknown = try await s.post(
                "/v1/alerts",
                json: Alerts.payload([
                    Alerts.alert("Ok", labels: [:]),
                    Alerts.alert("Far", labels: ["ballast_action": "upscale", "kafka_cluster": "staging"]),
                ]))
            #expect(unknown.status == 422)
            #expect(unknown.error.contains("staging"))
            #expect(try await s.call(.GET, "/v1/alerts").decode(AlertList.self).alerts.isEmpty)
        }
    }

    @Test("alerts without ballast_action are stored and ignored")
    func unlabelledAlertsStoredAndIgnored() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            let receipt = try await s.post(
                "/v1/alerts", json: Alerts.payload([Alerts.alert("DiskFull", labels: ["x": "y"])])
            )
            .decode(AlertsReceipt.self)
            #expect(receipt.stored == 1 && receipt.ignored == 1 && receipt.actions.isEmpty)
            let stored = try await s.call(.GET, "/v1/alerts", token: ServiceHarness.read).decode(AlertList.self).alerts
            #expect(stored.count == 1)
            #expect(stored.first?.outcome == "ignored")
            #expect(try await s.call(.GET, "/v1/operations").decode(OperationList.self).operations.isEmpty)
        }
    }

    @Test(
        "a firing pause-rollouts alert pauses rolls on its cluster; a resend changes nothing; resolving it ends the pause"
    )
    func pauseAndResolve() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            let labels = ["ballast_action": "pause-rollouts", "kafka_cluster": "prod"]
            let firing = Alerts.payload([Alerts.alert("ConsumerLag", labels: labels, fingerprint: "f1")])
            let first = try await s.post("/v1/alerts", json: firing).decode(AlertsReceipt.self)
            #expect(first.actions.map(\.outcome) == [.paused])
            var status = try await s.call(.GET, "/v1/clusters/prod").decode(ClusterStatus.self)
            #expect(status.rollsPaused)
            #expect(status.pauses.map(\.fingerprint) == ["f1"])
            let again = try await s.post("/v1/alerts", json: firing).decode(AlertsReceipt.self)
            #expect(again.duplicates == 1 && again.stored == 0)
            let resolved = Alerts.payload([
                Alerts.alert("ConsumerLag", status: "resolved", labels: labels, fingerprint: "f1")
            ])
            let end = try await s.post("/v1/alerts", json: resolved).decode(AlertsReceipt.self)
            #expect(end.actions.map(\.outcome) == [.unpaused])
            status = try await s.call(.GET, "/v1/clusters/prod").decode(ClusterStatus.self)
            #expect(!status.rollsPaused)
            #expect(s.metrics.render().contains("ballast_rolls_paused{cluster=\"prod\"} 0"))
        }
    }

    @Test(
        "several firing scale alerts for one cluster make one operation; resends and repeats within the cooldown add none"
    )
    func scaleAlertsBatchAndCoolDown() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            let labels = ["ballast_action": "downscale", "kafka_cluster": "prod"]
            let batch = Alerts.payload([
                Alerts.alert("LowCPU", labels: labels, fingerprint: "a"),
                Alerts.alert("LowDisk", labels: labels.merging(["count": "2"]) { $1 }, fingerprint: "b"),
                Alerts.alert("LowNet", labels: labels, fingerprint: "c"),
            ])
            let receipt = try await s.post("/v1/alerts", json: batch).decode(AlertsReceipt.self)
            #expect(receipt.stored == 3)
            #expect(receipt.actions.count == 1)
            #expect(receipt.actions.first?.outcome == .operationCreated)
            #expect(receipt.actions.first?.count == 2)
            let resend = try await s.post("/v1/alerts", json: batch).decode(AlertsReceipt.self)
            #expect(resend.duplicates == 3)
            let later = Alerts.payload([
                Alerts.alert("LowCPU", labels: labels, startsAt: "2026-12-01T09:00:00Z", fingerprint: "a")
            ])
            let repeatAnswer = try await s.post("/v1/alerts", json: later).decode(AlertsReceipt.self)
            #expect(repeatAnswer.actions.count == 1)
            #expect([.cooldown, .batched].contains(repeatAnswer.actions[0].outcome))
            let ops = try await s.call(.GET, "/v1/operations?kind=downscale").decode(OperationList.self).operations
            #expect(ops.count == 1)
            #expect(ops.first?.trigger.source == .alert)
        }
    }

    @Test("an upscale alert without a pool, for a cluster of several pools, is 422 naming the pools")
    func poolRequiredWhenSeveral() async throws {
        let yaml = """
            clusters:
              - name: prod
                bootstrap: 127.0.0.1:1
                pools: {east: {min: 1, max: 5}, west: {min: 1, max: 5}}
            """
        try await ServiceHarness.with(clusters: yaml) { s in
            let answer = try await s.post(
                "/v1/alerts",
                json: Alerts.payload([
                    Alerts.alert("Hot", labels: ["ballast_action": "upscale", "kafka_cluster": "prod"])
                ]))
            #expect(answer.status == 422)
            #expect(answer.error.contains("east, west"))
        }
    }
}

@Suite("Service operations: queue, pause, resume, cancel")
struct ServiceOperationTests {
    @Test(
        "a rebalance by an unknown proposal hash is 409; proposalHash with a dry run (given or by default) is 400, as openapi.yaml says"
    )
    func unknownHash() async throws {
        try await ServiceHarness.with(clusters: unreachable) { s in
            let answer = try await s.post(
                "/v1/clusters/prod/rebalance", json: RebalanceRequest(dryRun: false, proposalHash: "abc"))
            #expect(answer.status == 409)
            #expect(answer.error.contains("abc"))
            for request in [RebalanceRequest(proposalHash: "abc"), RebalanceRequest(dryRun: true, proposalHash: "abc")]
            {
                let dry = try await s.post("/v1/clusters/prod/rebalance", json: request)
                #expect(dry.status == 400)
                #expect(dry.error.contains("\"dryRun\": false"), "\(dry.text)")
            }
            // openapi.yaml says so: a proposalHash goes with dryRun false (schemathesis generates no such request).
            let schema = try OpenAPIDocument.text()
            #expect(
                schema.contains("- required: [dryRun, proposalHash]\n          properties: {dryRun: {enum: [false]}}"))
        }
    }
}

/// openapi.yaml at the root of the repository.
enum OpenAPIDocument {
    static func text() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
    }

    /// Each path of `paths:` and its methods (upper case), read from the document's indentation.
    static func pathsAndMethods() throws -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        var path: String?
        var inPaths = false
        for line in try text().split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty { inPaths = line == "paths:" }
            guard inPaths else { continue }
            if line.hasPrefix("  /") && !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
                out[path!] = []
            } else if let p = path, line.hasPrefix("    "), !line.hasPrefix("     "),
                let key = line.dropFirst(4).split(separator: ":").first,
                ["get", "post", "put", "delete", "patch", "head", "options", "trace"].contains(String(key))
            {
                out[p]?.insert(key.uppercased())
            }
        }
        return out
    }
}
