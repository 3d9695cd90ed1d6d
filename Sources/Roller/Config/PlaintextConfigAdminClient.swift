import Dispatch
import Foundation
public import KafkaAdmin

#if canImport(Glibc)
    import Glibc
    private let systemConnect = Glibc.connect
    private let streamSocket = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Darwin)
    import Darwin
    private let systemConnect = Darwin.connect
    private let streamSocket = SOCK_STREAM
#endif

/// A stop-gap `ConfigAdminClient` for PLAINTEXT listeners until `KafkaAdmin` offers DescribeConfigs and
/// IncrementalAlterConfigs: Metadata v4, DescribeConfigs v1 and IncrementalAlterConfigs v0 (non-flexible
/// versions every Kafka 3.6–4.1 broker speaks), hand-encoded, one short blocking connection per request, run
/// off the cooperative pool. Broker resources go to their own broker (as Kafka requires), the cluster default
/// to the bootstrap broker. No TLS, no SASL.
public final class PlaintextConfigAdminClient: ConfigAdminClient, @unchecked Sendable {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    let bootstrap: (host: String, port: Int32)
    /// node id → address, from Metadata; set once in `init`.
    private let brokerAddresses: [Int32: (host: String, port: Int32)]
    private let lock = NSLock()
    private var correlation: Int32 = 1
    private static let queue = DispatchQueue(label: "ballast.config.plaintext", attributes: .concurrent)

    /// `bootstrap` is "host:port[,host:port...]"; the first that answers Metadata is used.
    public init(bootstrap: String) throws {
        var lastError: any Error = Failure(description: "bootstrap '\(bootstrap)' names no host:port")
        for part in bootstrap.split(separator: ",") {
            let hostPort = part.trimmingCharacters(in: .whitespaces)
            guard let colon = hostPort.lastIndex(of: ":"),
                let port = Int32(hostPort[hostPort.index(after: colon)...])
            else {
                throw Failure(description: "bootstrap server '\(hostPort)' is not host:port")
            }
            let address = (host: String(hostPort[..<colon]), port: port)
            do {
                brokerAddresses = try Self.metadata(at: address)
                self.bootstrap = address
                return
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// The brokers Metadata reported (controller-only nodes are not among them).
    public var brokerIDs: [Int32] { brokerAddresses.keys.sorted() }

    // MARK: Requests

    static func metadata(at address: (host: String, port: Int32)) throws
        -> [Int32: (host: String, port: Int32)]
    {
        var e = Encoder()
        e.i32(0)  // no topics
        e.bool(false)  // allow_auto_topic_creation
        var d = try roundTrip(to: address, apiKey: 3, version: 4, body: e.bytes, correlation: 1)
        _ = try d.i32()  // throttle
        var out: [Int32: (String, Int32)] = [:]
        for _ in 0..<(try d.i32()) {
            let id = try d.i32()
            let host = try d.string()
            let port = try d.i32()
            _ = try d.nullableString()  // rack
            out[id] = (host, port)
        }
        return out
    }

    public func describeBrokerConfigs(nodes: [Int32]) async throws -> [Int32: [String: ConfigEntry]] {
        try await offPool {
            var out: [Int32: [String: ConfigEntry]] = [:]
            for node in nodes {
                guard let address = self.brokerAddresses[node] else {
                    throw Failure(description: "node \(node) is not a broker in the cluster metadata")
                }
                out[node] = try self.describe(resource: String(node), at: address)
            }
            return out
        }
    }

    public func describeClusterDefaultConfigs() async throws -> [String: ConfigEntry] {
        try await offPool { try self.describe(resource: "", at: self.bootstrap) }
    }

    private func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Self.queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    private func nextCorrelation() -> Int32 {
        lock.withLock {
            correlation += 1
            return correlation
        }
    }

    private func describe(resource: String, at address: (host: String, port: Int32)) throws -> [String: ConfigEntry] {
        var e = Encoder()
        e.i32(1)
        e.i8(4)  // BROKER
        e.string(resource)
        e.i32(-1)  // all keys
        e.bool(true)  // include_synonyms
        var d = try Self.roundTrip(
            to: address, apiKey: 32, version: 1, body: e.bytes, correlation: nextCorrelation())
        _ = try d.i32()
        var configs: [String: ConfigEntry] = [:]
        for _ in 0..<(try d.i32()) {
            let code = try d.i16()
            let message = try d.nullableString()
            _ = try d.i8()
            _ = try d.string()
            if code != 0 { throw Failure(description: "DescribeConfigs \(resource): \(code) \(message ?? "")") }
            for _ in 0..<(try d.i32()) {
                let name = try d.string()
                let value = try d.nullableString()
                let readOnly = try d.bool()
                let source = ConfigSource(code: try d.i8())
                let sensitive = try d.bool()
                var synonyms: [ConfigSynonym] = []
                for _ in 0..<(try d.i32()) {
                    let sName = try d.string()
                    let sValue = try d.nullableString()
                    synonyms.append(
                        ConfigSynonym(name: sName, value: sValue, source: ConfigSource(code: try d.i8())))
                }
                configs[name] = ConfigEntry(
                    value: value, source: source, isSensitive: sensitive, isReadOnly: readOnly, synonyms: synonyms)
            }
        }
        return configs
    }

    public func incrementalAlterConfigs(_ resources: [ConfigResourceTarget: [PlannedAlteration]], validateOnly: Bool)
        async throws -> [ConfigResourceTarget: ConfigAlterError?]
    {
        try await offPool { try self.alter(resources, validateOnly: validateOnly) }
    }

    private func alter(_ resources: [ConfigResourceTarget: [PlannedAlteration]], validateOnly: Bool) throws
        -> [ConfigResourceTarget: ConfigAlterError?]
    {
        var out: [ConfigResourceTarget: ConfigAlterError?] = [:]
        for (target, ops) in resources.sorted(by: { $0.key < $1.key }) {
            let address: (host: String, port: Int32)
            switch target {
            case .clusterDefault: address = bootstrap
            case .broker(let id):
                guard let a = brokerAddresses[id] else {
                    throw Failure(description: "node \(id) is not a broker in the cluster metadata")
                }
                address = a
            }
            var e = Encoder()
            e.i32(1)
            e.i8(4)
            e.string(target.resourceName)
            e.i32(Int32(ops.count))
            for op in ops {
                e.string(op.key)
                switch op.operation {
                case .set(let v):
                    e.i8(0)
                    e.nullableString(v)
                case .delete:
                    e.i8(1)
                    e.nullableString(nil)
                }
            }
            e.bool(validateOnly)
            var d = try Self.roundTrip(
                to: address, apiKey: 44, version: 0, body: e.bytes, correlation: nextCorrelation())
            _ = try d.i32()
            for _ in 0..<(try d.i32()) {
                let code = try d.i16()
                let message = try d.nullableString()
                _ = try d.i8()
                _ = try d.string()
                out[target] = code == 0 ? .some(nil) : .some(ConfigAlterError(code: code, message: message))
            }
        }
        return out
    }

    // MARK: Transport

    /// Sends one request on a fresh connection and returns a decoder positioned after the response header.
    static func roundTrip(
        to address: (host: String, port: Int32), apiKey: Int16, version: Int16, body: [UInt8], correlation id: Int32
    ) throws -> Decoder {
        var h = Encoder()
        h.i16(apiKey)
        h.i16(version)
        h.i32(id)
        h.nullableString("ballast-config-it")
        let payload = h.bytes + body
        var frame = Encoder()
        frame.i32(Int32(payload.count))
        let fd = try connect(address)
        defer { close(fd) }
        try sendAll(fd, frame.bytes + payload)
        let size = try recvExactly(fd, 4).reduce(Int32(0)) { $0 << 8 | Int32($1) }
        var d = Decoder(bytes: try recvExactly(fd, Int(size)))
        guard try d.i32() == id else { throw Failure(description: "correlation id mismatch") }
        return d
    }

    private static func connect(_ address: (host: String, port: Int32)) throws -> Int32 {
        let fd = socket(AF_INET, streamSocket, 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(address.port).bigEndian)
        let host = address.host == "localhost" ? "127.0.0.1" : address.host
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            close(fd)
            throw Failure(description: "\(host) is not an IPv4 address")
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                systemConnect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw Failure(description: "cannot connect to \(host):\(address.port)")
        }
        // A broker that stops answering must not hang the command.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "send failed: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    private static func recvExactly(_ fd: Int32, _ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            if n == 0 { throw Failure(description: "the broker closed the connection") }
            guard n > 0 else {
                let reason =
                    errno == EAGAIN || errno == EWOULDBLOCK ? "no answer within 30 s" : String(cString: strerror(errno))
                throw Failure(description: "receive failed: \(reason)")
            }
            got += n
        }
        return out
    }

    struct Encoder {
        var bytes: [UInt8] = []
        mutating func i8(_ v: Int8) { bytes.append(UInt8(bitPattern: v)) }
        mutating func i16(_ v: Int16) { withUnsafeBytes(of: v.bigEndian) { bytes += $0 } }
        mutating func i32(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { bytes += $0 } }
        mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
        mutating func string(_ s: String) {
            i16(Int16(s.utf8.count))
            bytes += s.utf8
        }
        mutating func nullableString(_ s: String?) {
            guard let s else { return i16(-1) }
            string(s)
        }
    }

    struct Decoder {
        var bytes: [UInt8]
        var pos = 0

        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, pos + n <= bytes.count else { throw Failure(description: "truncated response") }
            defer { pos += n }
            return bytes[pos..<pos + n]
        }
        mutating func i8() throws -> Int8 { Int8(bitPattern: try take(1).first!) }
        mutating func i16() throws -> Int16 {
            Int16(bitPattern: try take(2).reduce(UInt16(0)) { $0 << 8 | UInt16($1) })
        }
        mutating func i32() throws -> Int32 {
            Int32(bitPattern: try take(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        }
        mutating func bool() throws -> Bool { try take(1).first! != 0 }
        mutating func string() throws -> String { try nullableString() ?? "" }
        mutating func nullableString() throws -> String? {
            let n = try i16()
            if n < 0 { return nil }
            return String(decoding: try take(Int(n)), as: UTF8.self)
        }
    }
}
