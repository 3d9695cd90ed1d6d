import ArgumentParser
import AsyncHTTPClient
import BallastStore
import Foundation
import NIOCore
import ServiceContract
import Synchronization

/// `ballast bench serve-alerts`: Alertmanager webhook posts at a fixed rate against a running `ballast serve`, then
/// checks that none was lost.
///
/// The schedule is open-loop with a bounded window: post i is due at `start + i / rate` whatever the answers before
/// it, and at most `--in-flight` posts are outstanding (one worker each, taking the next post of the schedule when
/// its answer came). A post whose worker came free only after its due time is sent at once and counted as
/// **behind**: the window was full, the server did not keep up. Latency always counts from the due time, so the
/// time a post waited for a free worker is in it (no coordinated omission), and the client never queues more than the
/// window (an overloaded server shows as latency and `behind`, not as a stalled client).
struct ServeAlertsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-alerts",
        abstract: "Post Alertmanager webhooks to ballast serve at a fixed rate; report latency and check none is lost.",
        discussion: """
            Each post carries one alert with a fingerprint of its own, labelled kafka_cluster=CLUSTER and without \
            ballast_action (stored and ignored: the store write is what is measured). At most --in-flight posts are \
            outstanding; a post sent after its due time because none could be is counted as behind. Afterwards the \
            service's ballast_alerts_received_total must have grown by exactly the posts answered 200, and with \
            --store every alert of the run must be in the store. Exit 1 when a post failed or an alert is missing.
            """)

    @Option(help: "The service's base URL (http://127.0.0.1:8080).") var server: String
    @Option(help: "A file holding the admin token.") var tokenFile: String
    @Option(help: "A cluster of the service's configuration (the alerts' kafka_cluster).") var cluster: String
    @Option(help: "Posts per second.") var rate = 1000
    @Option(help: "How long to post, in seconds.") var seconds = 30
    @Option(help: "Posts outstanding at most (each on a connection of its own).") var inFlight = 64
    @Option(help: "The service's store URL (sqlite:///PATH): count this run's alerts in it too.") var store: String?

    struct Sample: Sendable {
        var status: Int
        /// From the post's due time to its answer.
        var latency: Duration
        /// How late it was sent (zero when a worker was free at its due time).
        var lateBy: Duration
        var stored: Int
        /// Why there was no answer.
        var error: String?
    }

    func run() async throws {
        guard rate > 0, seconds > 0, inFlight > 0 else {
            throw ValidationError("--rate, --seconds and --in-flight must be positive.")
        }
        guard
            let token = try? String(contentsOfFile: tokenFile, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
        else { throw ValidationError("--token-file \(tokenFile) could not be read or is empty.") }
        let base = server.hasSuffix("/") ? String(server.dropLast()) : server
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = inFlight
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let result: Result<Void, any Error>
        do { result = .success(try await measure(client, base: base, token: token)) } catch { result = .failure(error) }
        try? await client.shutdown()
        try result.get()
    }

    /// The next post of the schedule, shared by the workers.
    final class Schedule: Sendable {
        let next = Atomic<Int>(0)
    }

    func measure(_ client: HTTPClient, base: String, token: String) async throws {
        let before = try await Self.counter(client, base, token, "ballast_alerts_received_total")
        let run = UUID().uuidString.prefix(8).lowercased()
        let total = rate * seconds
        // One payload encoded once; each post puts its number in (the client's own cost stays small).
        let template = String(
            decoding: try JSONEncoder().encode(
                AlertmanagerWebhook(
                    status: "firing",
                    alerts: [
                        AlertmanagerAlert(
                            status: "firing",
                            labels: ["alertname": "BallastBench", "kafka_cluster": cluster, "n": "@N@"],
                            startsAt: ServiceJSON.string(Date()), fingerprint: "bench-\(run)-@N@")
                    ])), as: UTF8.self)
        let rate = Double(self.rate)
        let clock = ContinuousClock()
        let start = clock.now
        let schedule = Schedule()
        let samples = try await withThrowingTaskGroup(of: [Sample].self) { group in
            for _ in 0..<inFlight {
                group.addTask {
                    var mine: [Sample] = []
                    while true {
                        let i = schedule.next.add(1, ordering: .relaxed).oldValue
                        guard i < total else { return mine }
                        let due = start + .seconds(Double(i) / rate)
                        let picked = clock.now
                        if picked < due { try await Task.sleep(until: due, clock: clock) }
                        let lateBy = picked > due ? picked - due : .zero
                        var request = HTTPClientRequest(url: base + "/v1/alerts")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(
                            ByteBuffer(string: template.replacingOccurrences(of: "@N@", with: String(i))))
                        do {
                            let response = try await client.execute(request, timeout: .seconds(60))
                            let bytes = try await response.body.collect(upTo: 1 << 20)
                            let receipt = try? ServiceJSON.decoder().decode(
                                AlertsReceipt.self, from: Data(bytes.readableBytesView))
                            mine.append(
                                Sample(
                                    status: Int(response.status.code), latency: clock.now - due, lateBy: lateBy,
                                    stored: receipt?.stored ?? 0))
                        } catch {
                            mine.append(
                                Sample(
                                    status: 0, latency: clock.now - due, lateBy: lateBy, stored: 0, error: "\(error)"))
                        }
                    }
                }
            }
            var all: [Sample] = []
            all.reserveCapacity(total)
            for try await s in group { all += s }
            return all
        }
        let elapsed = clock.now - start
        let after = try await Self.counter(client, base, token, "ballast_alerts_received_total")

        let ok = samples.filter { $0.status == 200 }
        let failed = Dictionary(grouping: samples.filter { $0.status != 200 }, by: \.status).mapValues(\.count)
        let errors = Dictionary(grouping: samples.compactMap(\.error), by: { $0 }).mapValues(\.count)
        let latencies = samples.map(\.latency).sorted()
        let behind = samples.filter { $0.lateBy > .zero }
        func ms(_ d: Duration) -> String { String(format: "%.1f", Self.seconds(d) * 1000) }
        func pct(_ p: Double) -> Duration { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        let received = after - before
        let storedByReceipts = ok.map(\.stored).reduce(0, +)
        print(
            "posts: \(total) at \(self.rate)/s over \(seconds) s (the last answered after \(ms(elapsed)) ms), "
                + "at most \(inFlight) in flight")
        print("answered 200: \(ok.count); failed: \(failed.isEmpty ? "none" : "\(failed) (status 0: no answer)")")
        for (error, n) in errors.sorted(by: { $0.value > $1.value }).prefix(5) { print("  no answer x\(n): \(error)") }
        print(
            "behind: \(behind.count) post(s) sent after their due time because \(inFlight) were in flight"
                + (behind.isEmpty ? "" : " (up to \(ms(behind.map(\.lateBy).max()!)) ms late)"))
        print(
            "latency from due time: p50 \(ms(pct(0.5))) ms, p90 \(ms(pct(0.9))) ms, p99 \(ms(pct(0.99))) ms, "
                + "p99.9 \(ms(pct(0.999))) ms, max \(ms(latencies.last!)) ms")
        print("achieved rate: \(String(format: "%.0f", Double(ok.count) / Self.seconds(elapsed)))/s answered")
        print("stored per the receipts: \(storedByReceipts); ballast_alerts_received_total grew by \(Int(received))")
        var lost = total - ok.count
        if storedByReceipts != total || Int(received) != total { lost = max(lost, 1) }
        if let store {
            let opened = try await OperationsStores.open(url: store)
            let rows = try await opened.alerts(cluster: cluster, limit: total * 2 + 1000)
            await opened.close()
            let mine = Set(rows.map(\.key.fingerprint).filter { $0.hasPrefix("bench-\(run)-") })
            print("in the store: \(mine.count) of this run's \(total) alerts")
            if mine.count != total { lost = max(lost, total - mine.count) }
        }
        guard lost == 0 else {
            print("LOST: \(lost) alert(s) not answered 200 or not stored")
            throw BallastExit.failed
        }
        print("none lost")
    }
    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// A counter's value in the service's /metrics.
    static func counter(_ client: HTTPClient, _ base: String, _ token: String, _ name: String) async throws -> Double {
        var request = HTTPClientRequest(url: base + "/metrics")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await client.execute(request, timeout: .seconds(60))
        let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
        guard response.status == .ok else {
            throw ValidationError("GET \(base)/metrics answered \(response.status.code): \(text)")
        }
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ")[1]) ?? 0
        }
        return 0
    }
}
