public import AgentContract
public import AsyncHTTPClient
import Foundation
public import KafkaModel
import NIOCore
import NIOHTTP1
import NIOSSL

/// The agent HTTP API over AsyncHTTPClient, with the bearer token on every call.
public struct HTTPAgentClient: AgentAPI {
    public let endpoint: String
    let token: String
    let client: HTTPClient
    let timeout: TimeAmount

    /// - Parameters:
    ///   - endpoint: the agent's base URL, e.g. `http://127.0.0.1:44100`.
    public init(endpoint: String, token: String, client: HTTPClient = .shared, timeoutSeconds: Int64 = 10) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.token = token
        self.client = client
        timeout = .seconds(timeoutSeconds)
    }

    public func nodes() async throws -> [AgentNode] {
        try await call(.GET, "/v1/nodes", body: nil, as: AgentNodeList.self).nodes
    }

    public func restart(node: Int32, requestId: String) async throws -> AgentOperation {
        let body = try JSONEncoder().encode(AgentRestartRequest(requestId: requestId))
        return try await call(.POST, "/v1/nodes/\(node)/restart", body: body, as: AgentOperation.self)
    }

    public func operation(_ id: String) async throws -> AgentOperation {
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id
        return try await call(.GET, "/v1/operations/\(escaped)", body: nil, as: AgentOperation.self)
    }

    /// The agent's node pools (`GET /v1/pools`).
    public func pools() async throws -> [AgentPool] {
        try await call(.GET, "/v1/pools", body: nil, as: AgentPoolList.self).pools
    }

    /// Asks the agent to scale a pool (`POST /v1/pools/{pool}/scale`); a repeated `requestId` is the same scale.
    public func scale(pool: String, replicas: Int, requestId: String) async throws -> AgentOperation {
        let body = try JSONEncoder().encode(AgentScaleRequest(replicas: replicas, requestId: requestId))
        let escaped = pool.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? pool
        return try await call(.POST, "/v1/pools/\(escaped)/scale", body: body, as: AgentOperation.self)
    }

    func call<T: Decodable>(_ method: HTTPMethod, _ path: String, body: Data?, as: T.Type) async throws -> T {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await client.execute(request, timeout: timeout)
            bytes = try await response.body.collect(upTo: 4 << 20)
        } catch let error as NIOSSLError {
            throw AgentClientError(.tls, "TLS with the agent at \(endpoint) failed: \(error)")
        } catch let error as BoringSSLError {
            throw AgentClientError(.tls, "TLS with the agent at \(endpoint) failed: \(error)")
        } catch {
            throw AgentClientError(.unreachable, "the agent at \(endpoint) is unreachable: \(error)")
        }
        let data = Data(bytes.readableBytesView)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let message =
                (try? JSONDecoder().decode(AgentErrorBody.self, from: data).error) ?? response.status.reasonPhrase
            throw AgentClientError(
                .answered(status: status),
                "the agent at \(endpoint) answered \(status) to \(method) \(path): \(message)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw AgentClientError(
                .unreadable, "the agent at \(endpoint) sent an unreadable answer to \(method) \(path): \(error)")
        }
    }
}

/// A failed agent call: `code` says whether the agent was unreachable, answered with an error status (401 a wrong
/// token, 404 an unknown node, 409 a node already restarting), answered something unreadable, or TLS failed
/// (the agent's certificate was refused, it refused ours, or the TLS files cannot be loaded).
public struct AgentClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        case unreachable
        case answered(status: Int)
        case unreadable
        case tls
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether asking again later can help (the agent is down or restarting, or answered 5xx or 409).
    public var isRetriable: Bool {
        switch code {
        case .unreachable: true
        case .answered(let status): status >= 500 || status == 409
        case .unreadable, .tls: false
        }
    }

    /// No answer, or a server-side failure: the same request may succeed later (a 409 or a refusal will not).
    public var isTransient: Bool {
        switch code {
        case .unreachable: true
        case .answered(let status): status >= 500
        case .unreadable, .tls: false
        }
    }

    public var description: String { message }
}

/// TLS of the connections to the agents: the CA that signed their certificates (default: the system's store) and
/// a client certificate for agents that require mutual TLS. `ballast roll` takes it from flags; the service
/// configuration reuses it.
public struct AgentClientTLS: Sendable, Hashable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// An HTTP client with these settings. The files are loaded now, so a bad one is reported before any agent is
    /// called, naming it. The caller shuts the client down.
    public func makeHTTPClient() throws(AgentClientError) -> HTTPClient {
        guard (certificateFile == nil) == (keyFile == nil) else {
            throw AgentClientError(.tls, "an agent client certificate needs its key, and a key its certificate")
        }
        var c = TLSConfiguration.makeClientConfiguration()
        do {
            if let caFile {
                _ = try NIOSSLCertificate.fromPEMFile(caFile)
                c.trustRoots = .file(caFile)
            }
        } catch {
            throw AgentClientError(.tls, "the agent CA file \(caFile ?? "") could not be read as PEM: \(error)")
        }
        if let certificateFile, let keyFile {
            do {
                c.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
                c.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw AgentClientError(
                    .tls,
                    "the agent client certificate \(certificateFile) or key \(keyFile) could not be read as PEM: \(error)"
                )
            }
        }
        do { _ = try NIOSSLContext(configuration: c) } catch {
            throw AgentClientError(.tls, "the agent TLS files do not make a TLS context: \(error)")
        }
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(tlsConfiguration: c))
    }
}

extension AgentClientError: CategorizedError {
    public var category: ErrorCategory {
        switch code {
        case .unreachable: .unreachable
        case .answered(let status) where status == 404: .notFound
        case .answered(let status) where status == 409: .busy
        case .answered(let status) where status == 400 || status == 401 || status == 403: .badInput
        case .answered, .unreadable, .tls: .failed
        }
    }
}
