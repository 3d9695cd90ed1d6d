import AgentContract
import Foundation
public import Hummingbird
import HummingbirdTLS
public import Logging
import NIOCore
public import NIOSSL

/// The agent HTTP API of DESIGN.md, bearer token on every call:
/// `GET /v1/nodes`, `POST /v1/nodes/{id}/restart`, `GET /v1/pools`, `POST /v1/pools/{pool}/scale`,
/// `GET /v1/operations/{id}`, `GET /healthz`. Scaling answers 501 when the driver has no pools.
/// Optionally over TLS, and with mutual TLS the client's certificate is required as well as the token.
public enum AgentServer {
    public struct Configuration: Sendable {
        public var host: String = "127.0.0.1"
        public var port: Int = 0
        public var token: String
        /// The Kubernetes cluster name reported with every node.
        public var cluster: String?
        /// HTTPS when set (`AgentServer.tlsConfiguration`); plain HTTP otherwise.
        public var tls: TLSConfiguration?

        public init(
            host: String = "127.0.0.1", port: Int = 0, token: String, cluster: String? = nil,
            tls: TLSConfiguration? = nil
        ) {
            self.host = host
            self.port = port
            self.token = token
            self.cluster = cluster
            self.tls = tls
        }
    }

    /// The listener's TLS from PEM files; with `clientCAFile`, every client must present a certificate that CA
    /// signed (mutual TLS). The files are loaded now, so a bad one is reported before the agent listens; the
    /// error names the file.
    public static func tlsConfiguration(certificateFile: String, keyFile: String, clientCAFile: String? = nil)
        throws(AgentError) -> TLSConfiguration
    {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificateFile) } catch {
            throw AgentError("the TLS certificate file \(certificateFile) could not be read as PEM: \(error)")
        }
        guard !chain.isEmpty else {
            throw AgentError("the TLS certificate file \(certificateFile) holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyFile, format: .pem) } catch {
            throw AgentError("the TLS key file \(keyFile) could not be read as a PEM private key: \(error)")
        }
        var c = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        if let clientCAFile {
            do { _ = try NIOSSLCertificate.fromPEMFile(clientCAFile) } catch {
                throw AgentError("the client CA file \(clientCAFile) could not be read as PEM: \(error)")
            }
            c.certificateVerification = .noHostnameVerification
            c.trustRoots = .file(clientCAFile)
        }
        do { _ = try NIOSSLContext(configuration: c) } catch {
            throw AgentError("the TLS certificate \(certificateFile) and key \(keyFile) do not fit together: \(error)")
        }
        return c
    }

    public static func router(
        driver: any NodeDriver, operations: RestartOperations, configuration: Configuration
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: BearerAuth(token: configuration.token))
        router.get("/healthz") { _, _ -> Response in json(["status": "ok"]) }
        router.get("/v1/nodes") { _, _ -> Response in
            let listed: [AgentNode]
            do {
                listed = try await driver.nodes()
            } catch {
                // The agent is up but what it drives (a Kubernetes API, the simulator) is not: 502 with the reason,
                // which the roll shows while it holds this agent's nodes.
                return Self.error(.badGateway, "the agent could not list its nodes: \(error)")
            }
            let nodes = listed.map { n -> AgentNode in
                var n = n
                if operations.isRestarting(n.id) { n.ready = false }
                if n.cluster == nil { n.cluster = configuration.cluster }
                return n
            }
            return json(AgentNodeList(nodes: nodes))
        }
        router.post("/v1/nodes/{id}/restart") { request, context -> Response in
            guard let id = context.parameters.get("id", as: Int32.self) else {
                return error(.badRequest, "node id must be an integer")
            }
            let body = try await request.body.collect(upTo: 64 * 1024)
            var requestId: String?
            if body.readableBytes > 0 {
                guard
                    let decoded = try? JSONDecoder().decode(
                        AgentRestartRequest.self, from: Data(body.readableBytesView))
                else { return error(.badRequest, "the restart request body is not valid JSON") }
                requestId = decoded.requestId
            }
            // A driver that cannot answer (its simulator or Kubernetes API slow or unreachable) is a 502 with the
            // reason, as for the node list: the roller asks again with the same request id.
            let managed: Bool
            do { managed = try await driver.manages(node: id) } catch {
                return Self.error(.badGateway, "the agent could not tell whether it manages node \(id): \(error)")
            }
            guard managed else {
                return error(.notFound, "node \(id) is not managed by this agent")
            }
            switch await operations.start(node: id, requestId: requestId) {
            case .started(let op): return json(op, status: .accepted)
            case .existing(let op): return json(op, status: .ok)
            case .busy(let running):
                return error(.conflict, "node \(id) is already restarting (operation \(running))")
            case .unrecorded(let reason): return error(.internalServerError, reason)
            }
        }
        router.get("/v1/operations/{id}") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            guard let op = operations.operation(id) else { return error(.notFound, "no operation \(id)") }
            return json(op)
        }
        router.get("/v1/pools") { _, _ -> Response in
            do {
                return json(AgentPoolList(pools: try await driver.pools()))
            } catch {
                return AgentServer.error(.serviceUnavailable, "the pools could not be read: \(error)")
            }
        }
        router.post("/v1/pools/{pool}/scale") { request, context -> Response in
            let pool = context.parameters.get("pool") ?? ""
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard
                let scale = try? JSONDecoder().decode(AgentScaleRequest.self, from: Data(body.readableBytesView))
            else { return error(.badRequest, "the scale request body must be JSON {\"replicas\": N}") }
            guard scale.replicas >= 0 else {
                return error(.badRequest, "replicas must be 0 or more, not \(scale.replicas)")
            }
            let pools: [AgentPool]
            do {
                pools = try await driver.pools()
            } catch {
                return AgentServer.error(.serviceUnavailable, "the pools could not be read: \(error)")
            }
            guard !pools.isEmpty else {
                return error(.notImplemented, "this agent's driver has no node pools to scale")
            }
            guard pools.contains(where: { $0.name == pool }) else {
                return error(
                    .notFound,
                    "pool \(pool) is not managed by this agent (its pools: "
                        + "\(pools.map(\.name).sorted().joined(separator: ", ")))")
            }
            switch await operations.startScale(pool: pool, replicas: scale.replicas, requestId: scale.requestId) {
            case .started(let op): return json(op, status: .accepted)
            case .existing(let op): return json(op, status: .ok)
            case .busy(let running): return error(.conflict, "pool \(pool) is already scaling (operation \(running))")
            case .unrecorded(let reason): return error(.internalServerError, reason)
            }
        }
        return router
    }

    /// `operations` defaults to in-memory operations; `ballast agent` passes ones backed by its state directory.
    public static func application(
        driver: any NodeDriver, configuration: Configuration, logger: Logger,
        operations: RestartOperations = RestartOperations(), metrics: AgentMetrics = AgentMetrics(),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try Application(
            router: router(driver: driver, operations: operations, configuration: configuration),
            server: configuration.tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            services: [RestartWorker(operations: operations, driver: driver, logger: logger, metrics: metrics)],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(AgentErrorBody(error: message), status: status)
    }
}

/// Refuses any request without `Authorization: Bearer <token>`; compares in constant time.
struct BearerAuth<Context: RequestContext>: RouterMiddleware {
    let expected: [UInt8]

    init(token: String) { expected = Array(token.utf8) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            Self.same(Array(header.utf8.dropFirst(7)), expected)
        else {
            return AgentServer.error(.unauthorized, "missing or wrong bearer token")
        }
        return try await next(request, context)
    }

    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard !b.isEmpty else { return false }
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0 && a.count == b.count
    }
}
