import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ServiceContract

/// A `ballast serve` child process for the tests that need the real binary (several engines, SIGKILL, TLS, a real
/// Prometheus): its configuration written to a temp directory with an admin and a read token, `listening=URL`
/// read from its standard output.
final class ServeProcess: Sendable {
    static let admin = "admin-\(UUID().uuidString)"
    static let read = "read-\(UUID().uuidString)"

    let child: ChildProcess
    let base: String

    /// Writes the token files and `ballast.yaml` (the tokens line first, then `yaml`) into `dir`, starts
    /// `ballast serve` and waits for it to listen. Throws with its output when it exits first.
    static func start(_ yaml: String, in dir: String, name: String = "serve") async throws -> ServeProcess {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try admin.write(toFile: dir + "/admin.token", atomically: true, encoding: .utf8)
        try read.write(toFile: dir + "/read.token", atomically: true, encoding: .utf8)
        let config = dir + "/\(name).yaml"
        try ("tokens: {admin: \(dir)/admin.token, read: \(dir)/read.token}\n" + yaml).write(
            toFile: config, atomically: true, encoding: .utf8)
        let child = try ChildProcess(ballastBinary!, ["serve", "--config", config])
        guard let line = await child.firstLine(where: { $0.hasPrefix("listening=") }) else {
            throw ServeFailure(description: "ballast serve ended (\(await child.exit())): \(child.stderr)")
        }
        return ServeProcess(child: child, base: String(line.dropFirst("listening=".count)))
    }

    init(child: ChildProcess, base: String) {
        self.child = child
        self.base = base
    }

    /// Stops it as at a shutdown (SIGTERM) and waits for it to exit.
    func stop() async {
        child.process.terminate()
        await child.exit()
    }

    struct Answer: Sendable {
        var status: Int
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func decode<T: Decodable>(_: T.Type = T.self) throws -> T {
            try ServiceJSON.decoder().decode(T.self, from: body)
        }
    }

    func call(
        _ method: HTTPMethod, _ path: String, token: String? = ServeProcess.admin, body: Data? = nil,
        client: HTTPClient = .shared
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Answer(status: Int(response.status.code), body: Data(bytes.readableBytesView))
    }

    func post(_ path: String, json: some Encodable) async throws -> Answer {
        try await call(.POST, path, body: try ServiceJSON.encoder().encode(json))
    }
}

struct ServeFailure: Error, CustomStringConvertible {
    var description: String
}

/// Polls `condition` every `every` until it holds or `seconds` pass; returns whether it held. Only for what a child
/// process or another program does and announces nothing the test could await (its HTTP API's state).
func eventually(
    seconds: Double = 300, every: Duration = .milliseconds(100), _ condition: @Sendable () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: every)
    }
    return try await condition()
}

/// Waits until operation `id`, read from `server`, ends. A loaded machine slows a rebalance or a roll down without
/// stopping it, so there is no overall deadline: this fails only once the operation's progress and events have not
/// changed for `stall` seconds.
func finishes(_ id: String, on server: ServeProcess, stall: Double = 300) async throws -> Bool {
    var last: (done: Int, events: Int)?
    var changedAt = ContinuousClock.now
    while true {
        let detail = try await server.call(.GET, "/v1/operations/\(id)").decode(OperationDetail.self)
        if detail.summary.state.isFinal { return true }
        let now = (detail.summary.progress.done, detail.events.count)
        if last.map({ $0 != now }) ?? true {
            last = now
            changedAt = ContinuousClock.now
        } else if ContinuousClock.now - changedAt > .seconds(stall) {
            return false
        }
        try await Task.sleep(for: .milliseconds(200))
    }
}
