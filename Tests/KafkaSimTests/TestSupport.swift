import BallastTestSupport
import Foundation
import KafkaModel
import KafkaSim
import KafkaWire
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A simulator running in-process on port 0, with its control API.
struct RunningSim {
    let embedded: EmbeddedSimulator
    var simulator: KafkaSimulator { embedded.simulator }
    var server: KafkaSimServer { embedded.server }

    /// With a `clock`, cluster time moves only when the test moves it (`ManualClock.advance(by:)`).
    static func start(_ cluster: SimCluster, timeScale: Double = 1, clock: ManualClock? = nil) async throws
        -> RunningSim
    {
        RunningSim(
            embedded: try await EmbeddedSimulator.start(cluster, timeScale: timeScale, clock: clock.map(AnyClock.init)))
    }

    func stop() async { await embedded.stop() }

    func port(_ node: Int32) -> Int {
        simulator.withCluster { $0.node(node)!.port }
    }

    func client(_ node: Int32) throws -> TestClient { try TestClient(port: port(node)) }

    var controlPort: Int { Int(server.controlURL!.split(separator: ":").last!)! }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A blocking loopback TCP client for tests: Kafka frames or raw bytes.
final class TestClient {
    let fd: Int32
    var correlationId: Int32 = 0

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw TestError("connect to port \(port) failed")
        }
    }

    deinit { close(fd) }

    func sendRaw(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Reads exactly `count` bytes; nil when the peer closed (or the read timed out).
    func readExactly(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var off = 0
        while off < count {
            let n = out[off...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            off += n
        }
        return out
    }

    /// Whether the server closed the connection (EOF within the timeout).
    func isClosedByPeer() -> Bool {
        var b: UInt8 = 0
        return recv(fd, &b, 1, 0) == 0
    }

    func readFrame() -> [UInt8]? {
        guard let size = readExactly(4) else { return nil }
        let n = Int(UInt32(size[0]) << 24 | UInt32(size[1]) << 16 | UInt32(size[2]) << 8 | UInt32(size[3]))
        return readExactly(n)
    }

    func request<R: KafkaRequest>(_ r: R, version: Int16) throws -> R.Response {
        correlationId += 1
        sendRaw(try KafkaFrame.request(r, version: version, correlationId: correlationId, clientId: "test"))
        guard let body = readFrame() else { throw TestError("connection closed instead of a \(R.Response.self)") }
        let (cid, resp) = try KafkaFrame.decodeResponse(R.Response.self, version: version, body: body)
        guard cid == correlationId else { throw TestError("correlation id \(cid), expected \(correlationId)") }
        return resp
    }
}

/// One HTTP/1.1 request over a fresh connection; returns status and body. The blocking socket work runs on a
/// Dispatch thread: the control API's handlers run on the cooperative pool (two threads on a 2-core machine), which
/// a test blocking on a socket would starve.
func http(_ method: String, port: Int, _ path: String, body: String? = nil) async throws -> (status: Int, body: String)
{
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try blockingHTTP(method, port: port, path, body: body) })
        }
    }
}

private func blockingHTTP(_ method: String, port: Int, _ path: String, body: String?) throws -> (
    status: Int, body: String
) {
    let c = try TestClient(port: port)
    var req = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if let body {
        req += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
    } else {
        req += "Content-Length: 0\r\n"
    }
    req += "\r\n" + (body ?? "")
    c.sendRaw(Array(req.utf8))
    var data: [UInt8] = []
    while let b = c.readExactly(1) { data += b }
    let text = String(decoding: data, as: UTF8.self)
    let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
    let parts = text.components(separatedBy: "\r\n\r\n")
    var payload = parts.dropFirst().joined(separator: "\r\n\r\n")
    if text.lowercased().contains("transfer-encoding: chunked") {
        // Good enough for small bodies: drop the chunk size lines.
        payload = payload.components(separatedBy: "\r\n").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            .joined()
    }
    return (status, payload)
}

/// A record batch of `count` small records, as a producer sends it.
func batch(records count: Int) -> [UInt8] {
    RecordBatchHeader.build(recordCount: count, timestamp: 1_700_000_000_000)
}

/// Runs blocking work (a client process, a socket read) on its own thread, so it holds no thread of Swift's
/// cooperative pool, which the simulator's control API and other tests need.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
