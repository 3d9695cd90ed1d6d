import Foundation
import KafkaModel
import Operations
import Planner
import Testing

/// Debian's `prometheus`, where installed (Scripts/test.sh installs it).
private let prometheusBinary = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// A fixture exporter: Kafka's per-topic BytesIn/BytesOut meters as the JMX exporter names them, counters that
/// grow at fixed rates (split over two brokers), plus the all-topics series without a topic label that the
/// queries must leave out. Writes its port and a free port for Prometheus to the file named by its argument.
private let exporterScript = #"""
    import http.server, os, signal, socket, sys, time
    # Children inherit the launching thread's blocked signals (SIGTERM among them under the test runner):
    # unblock it so terminate() ends this server, which would otherwise outlive the test.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    start = time.time()
    rates = {"hot": (600 * 1024, 1500 * 1024), "cold": (6 * 1024, 0)}
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            t = time.time() - start
            lines = []
            for name, index in (("bytesin", 0), ("bytesout", 1)):
                metric = "kafka_server_brokertopicmetrics_" + name + "_total"
                lines.append("# TYPE " + metric + " counter")
                for broker in ("1", "2"):
                    total = sum(r[index] for r in rates.values()) / 2 * t
                    lines.append('%s{broker="%s"} %f' % (metric, broker, total))
                    for topic, r in rates.items():
                        lines.append('%s{broker="%s",topic="%s"} %f' % (metric, broker, topic, r[index] / 2 * t))
            body = ("\n".join(lines) + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    free = s.getsockname()[1]
    s.close()
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d %d\n" % (server.server_address[1], free))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()
    """#

/// Calls `attempt` every `interval` until it returns a value. The deadline is a safety net, not a race: the last
/// attempt starts after it has passed, so a task the scheduler starved past the deadline still looks once more
/// before giving up (nil).
private func poll<T>(
    until deadline: ContinuousClock.Instant, every interval: Duration = .milliseconds(250),
    _ attempt: () async -> T?
) async -> T? {
    while true {
        let late = ContinuousClock.now >= deadline
        if let value = await attempt() { return value }
        if late || Task.isCancelled { return nil }
        try? await Task.sleep(for: interval)
    }
}

@Suite(
    "Live load from Prometheus",
    .enabled(if: prometheusBinary != nil, "needs Debian's prometheus (apt-get install prometheus)"))
struct PrometheusTopicRatesTests {
    @Test func aRealPrometheusScrapingTheBrokersFeedsTopicRatesIntoTheNetworkGoals() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-prom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        // Nothing here blocks a thread of the cooperative pool (2 threads on a 2-core CI, shared with every
        // other test): the exporter's ports arrive in a file, polled; the processes are terminated, not awaited.
        let portsFile = dir.appendingPathComponent("ports").path
        let exporter = Process()
        exporter.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        exporter.arguments = ["-c", exporterScript, portsFile]
        try exporter.run()
        defer { exporter.terminate() }
        let ports =
            await poll(until: ContinuousClock.now + .seconds(120), every: .milliseconds(50)) { () -> [Int]? in
                let text = try? String(contentsOfFile: portsFile, encoding: .utf8)
                let ports = text?.split(whereSeparator: \.isWhitespace).compactMap { Int($0) } ?? []
                // An exporter that exited without writing the file will never write it: give up at once.
                return ports.count == 2 ? ports : exporter.isRunning ? nil : []
            } ?? []
        try #require(ports.count == 2)

        let config = """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: kafka
                static_configs: [{targets: ["127.0.0.1:\(ports[0])"]}]
            """
        try config.write(to: dir.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: prometheusBinary!)
        prometheus.arguments = [
            "--config.file=\(dir.path)/prometheus.yml", "--storage.tsdb.path=\(dir.path)/data",
            "--web.listen-address=127.0.0.1:\(ports[1])", "--log.level=warn",
        ]
        prometheus.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try prometheus.run()
        defer { prometheus.terminate() }

        // The default queries (5-minute windows): the topics by name, the label-less all-topics series left out.
        // Prometheus announces no event when a rate becomes computable (two scrapes of each series): poll the
        // query itself, with a deadline generous for a loaded 2-core CI.
        let defaults = try PrometheusTopicRates(url: "http://127.0.0.1:\(ports[1])/")
        let deadline = ContinuousClock.now + .seconds(120)
        let seen =
            await poll(until: deadline) { () -> [String: TopicRates]? in
                guard let r = try? await defaults.read(), (r["hot"]?.bytesInPerSecond ?? 0) > 0,
                    (r["cold"]?.bytesInPerSecond ?? 0) > 0
                else { return nil }
                return r
            } ?? [:]
        #expect(Set(seen.keys) == ["hot", "cold"])
        // rate() divides by the window, so a 5-minute window reads low until it holds 5 minutes of samples; the
        // same queries over 10 s (the override path) give the exporter's rates once 10 s are scraped. Poll until
        // they settle, then check.
        let reader = try PrometheusTopicRates(
            url: "http://127.0.0.1:\(ports[1])",
            queries: .init(
                bytesIn: PrometheusTopicRates.Queries.default.bytesIn.replacingOccurrences(of: "[5m]", with: "[10s]"),
                bytesOut: PrometheusTopicRates.Queries.default.bytesOut.replacingOccurrences(of: "[5m]", with: "[10s]"))
        )
        let rates =
            await poll(until: deadline) { () -> [String: TopicRates]? in
                guard let r = try? await reader.read(), let h = r["hot"],
                    abs(h.bytesInPerSecond / (600 * 1024) - 1) < 0.1
                else { return nil }
                return r
            } ?? [:]
        let hot = try #require(rates["hot"])
        let cold = try #require(rates["cold"])
        // Linear counters: the rates summed over both brokers.
        #expect(Set(rates.keys) == ["hot", "cold"])
        #expect(abs(hot.bytesInPerSecond / (600 * 1024) - 1) < 0.1)
        #expect(abs(hot.bytesOutPerSecond / (1500 * 1024) - 1) < 0.1)
        #expect(abs(cold.bytesInPerSecond / (6 * 1024) - 1) < 0.1)
        #expect(cold.bytesOutPerSecond == 0)

        // A cluster whose disk is balanced: without rates the network goals see nothing to do.
        var model = ClusterModel()
        for b in 1...6 {
            model.addBroker(
                id: b, rack: "r\((b - 1) / 2)", cluster: "k\((b - 1) / 2)", state: .alive, capacity: [1000, 1, 1, 1])
        }
        model.hasCapacity = [true, false, false, false]
        for (name, replicas) in [("hot", [0, 2, 4]), ("cold", [1, 3, 5])] {
            let t = model.addTopic(name: name, minIsr: 2)
            for p in 0..<6 {
                model.addPartition(topic: t, id: p, replicas: replicas, leader: replicas[0], load: [10, 0, 0, 0])
            }
        }
        let goals = PlannerPolicy(goals: [.networkInDistribution, .networkOutDistribution])
        let blind = try await Planner.plan(model, PlanRequest(policy: goals)).proposal
        #expect(blind.moves.isEmpty)
        #expect(model.applyTopicRates(rates).isEmpty)
        let hotPartition = model.load[Resource.networkIn.rawValue][0]
        #expect(abs(hotPartition - hot.bytesInPerSecond / 1024 / 6) < 1e-9)
        let informed = try await Planner.plan(model, PlanRequest(policy: goals)).proposal
        let netIn = try #require(informed.goals.first { $0.name == "NetworkInDistribution" })
        #expect(netIn.satisfiedBefore == false)
        #expect(netIn.satisfiedAfter)
        #expect(informed.moves.contains { $0.topic == "hot" })

        // A query Prometheus refuses is named in the error.
        let bad = try PrometheusTopicRates(
            url: "http://127.0.0.1:\(ports[1])", queries: .init(bytesIn: "sum by (", bytesOut: "up"))
        await #expect {
            try await bad.read()
        } throws: { error in
            let e = error as! PrometheusError
            return e.code == .queryFailed && e.message.contains("sum by (")
        }
    }
}

@Suite("Prometheus reader input")
struct PrometheusInputTests {
    @Test func aURLThatIsNotHTTPIsBadInput() {
        #expect {
            try PrometheusTopicRates(url: "prometheus:9090")
        } throws: { error in
            (error as! PrometheusError).code == .badURL
        }
    }
}
