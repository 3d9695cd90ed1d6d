import AsyncHTTPClient
import BallastStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Server
import ServiceConfig
import ServiceContract
import ServiceLifecycle

/// A `ballast serve` engine and its HTTP API on a loopback port the OS picks, with an admin and a read token.
struct ServiceHarness {
    static let admin = "admin-token-\(UUID().uuidString)"
    static let read = "read-token-\(UUID().uuidString)"

    let base: String
    let engine: ServiceEngine
    let metrics: ServiceMetrics

    /// A temporary directory with the two token files; returns the `tokens:` YAML line.
    static func tokenFiles() throws -> (dir: String, yaml: String) {
        let dir = NSTemporaryDirectory() + "serve-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try admin.write(toFile: dir + "/admin.token", atomically: true, encoding: .utf8)
        try read.write(toFile: dir + "/read.token", atomically: true, encoding: .utf8)
        return (dir, "tokens: {admin: \(dir)/admin.token, read: \(dir)/read.token}")
    }

    /// Runs `body` against a service for the configuration `yaml` (its `tokens:` line added here).
    static func with<T: Sendable>(
        clusters yaml: String, policy: EnginePolicy = EnginePolicy(),
        _ body: @Sendable (ServiceHarness) async throws -> T
    ) async throws -> T {
        let (dir, tokensLine) = try tokenFiles()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configuration = try ServiceConfiguration.parse(yaml: tokensLine + "\n" + yaml)
        let store = try SQLiteOperationsStore(file: dir + "/serve.sqlite")
        let metrics = ServiceMetrics()
        var logger = Logger(label: "test.serve")
        logger.logLevel = .warning
        let engine = ServiceEngine(
            configuration: configuration, store: store, engineId: "test-engine", policy: policy, metrics: metrics,
            logger: logger)
        try await engine.start()
        let tokens = try ServiceServer.Tokens.load(configuration.tokens)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = try ServiceServer.application(
            engine: engine, tokens: tokens, metrics: metrics, host: "127.0.0.1", port: 0, logger: logger,
            onServerRunning: { port in
                portContinuation.yield(port)
                portContinuation.finish()
            })
        let group = ServiceGroup(services: [app], logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var port = 0
            for await p in ports { port = p }
            let harness = ServiceHarness(base: "http://127.0.0.1:\(port)", engine: engine, metrics: metrics)
            let result: Result<T, any Error>
            do { result = .success(try await body(harness)) } catch { result = .failure(error) }
            await engine.stop()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }

    struct Answer: Sendable {
        var status: Int
        var body: Data
        var headers: HTTPHeaders
        var text: String { String(decoding: body, as: UTF8.self) }
        func decode<T: Decodable>(_: T.Type = T.self) throws -> T {
            try ServiceJSON.decoder().decode(T.self, from: body)
        }
        var error: String { (try? decode(ServiceErrorBody.self))?.error ?? "" }
    }

    func call(_ method: HTTPMethod, _ path: String, token: String? = ServiceHarness.admin, body: Data? = nil)
        async throws
        -> Answer
    {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Answer(status: Int(response.status.code), body: Data(bytes.readableBytesView), headers: response.headers)
    }

    func post(_ path: String, json: some Encodable, token: String? = ServiceHarness.admin) async throws -> Answer {
        try await call(.POST, path, token: token, body: try ServiceJSON.encoder().encode(json))
    }

    func post(_ path: String, raw: String, token: String? = ServiceHarness.admin) async throws -> Answer {
        try await call(.POST, path, token: token, body: Data(raw.utf8))
    }
}

/// Alertmanager's alerts as the tests send them.
enum Alerts {
    static func alert(
        _ name: String, status: String = "firing", labels: [String: String],
        startsAt: String = "2026-12-01T08:00:00.123456789Z",
        fingerprint: String? = nil
    ) -> AlertmanagerAlert {
        var all = labels
        all["alertname"] = name
        return AlertmanagerAlert(
            status: status, labels: all, startsAt: startsAt,
            endsAt: status == "resolved" ? "2026-12-01T08:10:00Z" : "0001-01-01T00:00:00Z",
            fingerprint: fingerprint ?? String(name.hashValue.magnitude, radix: 16))
    }

    static func payload(_ alerts: [AlertmanagerAlert]) -> AlertmanagerWebhook {
        AlertmanagerWebhook(
            status: alerts.contains { $0.status == "firing" } ? "firing" : "resolved", alerts: alerts)
    }
}
