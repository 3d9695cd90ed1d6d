import Agent
import AsyncHTTPClient
public import Foundation
public import KubernetesAPI
import NIOCore
public import NIOHTTP1
import NIOSSL

/// A failed Kubernetes API call. `code` tells apart an API server that could not be reached, one that answered an
/// error (with its Status: 403 Forbidden, 404 NotFound, 409 Conflict, 429 TooManyRequests, ...), and one whose
/// answer could not be read.
public struct KubernetesError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        case unreachable
        case answered(status: Int)
        case unreadable
    }

    public var code: Code
    public var message: String
    /// The Status the API server sent with an error.
    public var status: Status?

    public init(_ code: Code, _ message: String, status: Status? = nil) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var statusCode: Int? {
        if case .answered(let s) = code { return s }
        return nil
    }

    /// Whether asking again later can help: the API server unreachable, overloaded or failing (5xx, 429).
    public var isRetriable: Bool {
        switch code {
        case .unreachable: true
        case .answered(let s): s >= 500 || s == 429
        case .unreadable: false
        }
    }

    public var description: String { message }
}

/// The Kubernetes REST API over AsyncHTTPClient: JSON in and out, the bearer token (re-read from its file for every
/// call) or the client certificate on every call, the server verified against the connection's CA.
public final class KubernetesClient: Sendable {
    public let connection: KubernetesConnection
    let http: HTTPClient
    let requestTimeout: TimeAmount

    public init(connection: KubernetesConnection, requestTimeoutSeconds: Int64 = 30) throws {
        self.connection = connection
        requestTimeout = .seconds(requestTimeoutSeconds)
        var configuration = HTTPClient.Configuration()
        // Watches stay open for minutes without a byte: no read timeout; each call has its own deadline.
        configuration.timeout = .init(connect: .seconds(10), read: nil)
        if connection.server.hasPrefix("https") {
            var tls = TLSConfiguration.makeClientConfiguration()
            do {
                if let ca = connection.certificateAuthorityPEM {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
                }
                if let certificate = connection.clientCertificatePEM, let key = connection.clientKeyPEM {
                    tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
                }
            } catch {
                throw AgentError("the certificates of \(connection.source) could not be read: \(error)")
            }
            configuration.tlsConfiguration = tls
        }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async throws { try await http.shutdown() }

    /// `/api/v1/...` for the core group, `/apis/GROUP/VERSION/...` otherwise; namespaced when `namespace` is given.
    public static func path(
        group: String, version: String, namespace: String?, resource: String, name: String? = nil,
        subresource: String? = nil
    ) -> String {
        var p = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if let namespace { p += "/namespaces/\(namespace)" }
        p += "/\(resource)"
        if let name { p += "/\(name)" }
        if let subresource { p += "/\(subresource)" }
        return p
    }

    static let unreserved = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    func url(_ path: String, _ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return connection.server + path }
        let q = query.map { k, v in
            "\(k)=\(v.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? v)"
        }.joined(separator: "&")
        return connection.server + path + "?" + q
    }

    func request(
        _ method: HTTPMethod, _ path: String, query: [(String, String)], body: Data?, contentType: String?
    ) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url(path, query))
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "ballast-agent")
        if let token = try connection.token() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// One call; returns the body of a 2xx answer, throws `KubernetesError` otherwise.
    public func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Data? = nil,
        contentType: String? = nil
    ) async throws -> Data {
        let request = try request(method, path, query: query, body: body, contentType: contentType)
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: requestTimeout)
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw unreachable(error)
        }
        let data = Data(bytes.readableBytesView)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw answered(method, path, response.status, data)
        }
        return data
    }

    public func get<T: Decodable>(_ type: T.Type, _ path: String, query: [(String, String)] = []) async throws -> T {
        try decode(T.self, try await send(.GET, path, query: query), .GET, path)
    }

    /// A watch from `resourceVersion`: calls `onEvent` for every event until it returns true (then returns true),
    /// or the server ends the watch after `timeoutSeconds` (then returns false).
    public func watch<T: Decodable & Sendable & Hashable & Encodable>(
        _ type: T.Type, _ path: String, query: [(String, String)], resourceVersion: String?, timeoutSeconds: Int,
        onEvent: (WatchEvent<T>) async throws -> Bool
    ) async throws -> Bool {
        var q = query + [("watch", "true"), ("timeoutSeconds", String(timeoutSeconds))]
        if let resourceVersion { q.append(("resourceVersion", resourceVersion)) }
        let request = try request(.GET, path, query: q, body: nil, contentType: nil)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(Int64(timeoutSeconds) + 30))
        } catch {
            throw unreachable(error)
        }
        guard response.status == .ok else {
            let bytes = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            throw answered(.GET, path, response.status, Data(bytes.readableBytesView))
        }
        // The body is read in a task of its own, cancelled when the caller has what it waited for: that cancels the
        // request and closes its connection (an abandoned watch would otherwise hold it until the server ends it).
        let (events, continuation) = AsyncThrowingStream<WatchEvent<T>, any Error>.makeStream()
        let reader = Task { [self] in
            var pending: [UInt8] = []
            do {
                for try await chunk in response.body {
                    pending.append(contentsOf: chunk.readableBytesView)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = Data(pending[..<newline])
                        pending.removeSubrange(...newline)
                        if !line.isEmpty { continuation.yield(try decode(WatchEvent<T>.self, line, .GET, path)) }
                    }
                }
                continuation.finish()
            } catch let error as KubernetesError {
                continuation.finish(throwing: error)
            } catch {
                continuation.finish(throwing: Task.isCancelled ? CancellationError() : unreachable(error))
            }
        }
        defer { reader.cancel() }
        for try await event in events {
            if try await onEvent(event) { return true }
        }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data, _ method: HTTPMethod, _ path: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw KubernetesError(
                .unreadable,
                "the Kubernetes API at \(connection.server) sent an unreadable answer to \(method) \(path): \(error)")
        }
    }

    func unreachable(_ error: any Error) -> KubernetesError {
        KubernetesError(
            .unreachable, "the Kubernetes API at \(connection.server) (\(connection.source)) is unreachable: \(error)")
    }

    func answered(_ method: HTTPMethod, _ path: String, _ http: HTTPResponseStatus, _ data: Data) -> KubernetesError {
        let status = try? JSONDecoder().decode(Status.self, from: data)
        let detail =
            status?.message ?? String(decoding: data.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespaces)
        let reason = status?.reason.map { " \($0)" } ?? " \(http.reasonPhrase)"
        return KubernetesError(
            .answered(status: Int(http.code)),
            "the Kubernetes API at \(connection.server) answered \(http.code)\(reason) to \(method) \(path): \(detail)",
            status: status)
    }
}
