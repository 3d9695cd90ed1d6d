import Foundation
public import Hummingbird
import HummingbirdTLS
public import Logging
import NIOCore
public import NIOSSL
import ServiceContract

/// The `ballast serve` HTTP API (openapi.yaml) on Hummingbird. `/healthz` and `/readyz` are open; everything else
/// needs a bearer token: a `read` token for `GET`, an `admin` token for `POST`. `/` and `/dashboard/...` are left
/// to the dashboard.
public enum ServiceServer {
    /// Bodies larger than this are refused with 413.
    public static let maxBody = 10 * 1024 * 1024

    public struct Tokens: Sendable {
        public var admin: String?
        public var read: String?
        public init(admin: String?, read: String?) {
            self.admin = admin
            self.read = read
        }

        /// Each token from its file (trimmed); a missing or empty file is an error naming it.
        public static func load(_ files: [String: String]) throws -> Tokens {
            func read(_ role: String) throws -> String? {
                guard let file = files[role] else { return nil }
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw ServiceError(.badRequest, "tokens.\(role): the token file \(file) could not be read")
                }
                let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !token.isEmpty else {
                    throw ServiceError(.badRequest, "tokens.\(role): the token file \(file) is empty")
                }
                return token
            }
            return Tokens(admin: try read("admin"), read: try read("read"))
        }
    }

    public static func router(engine: ServiceEngine, tokens: Tokens, metrics: ServiceMetrics) -> Router<
        BasicRequestContext
    > {
        // HEAD answers as GET without the body (HTTP's rule for every GET resource).
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.add(middleware: Limits(metrics: metrics))
        router.get("/healthz") { _, _ -> Response in json(Health()) }
        router.get("/readyz") { _, _ -> Response in
            let r = await engine.readiness()
            return json(r, status: r.ready ? .ok : .serviceUnavailable)
        }
        router.group("/metrics").add(middleware: Auth(tokens: tokens)).get { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        let v1 = router.group("/v1").add(middleware: Auth(tokens: tokens))
        v1.get("/clusters") { _, _ -> Response in
            json(
                ClusterList(
                    clusters: engine.configuration.clusters.map { c in
                        ClusterSummary(
                            name: c.name, bootstrap: c.bootstrap.joined(separator: ","),
                            pools: c.pools.keys.sorted().map {
                                PoolLimitsBody(name: $0, min: c.pools[$0]!.min, max: c.pools[$0]!.max)
                            })
                    }))
        }
        v1.get("/clusters/{cluster}") { _, ctx -> Response in
            try await answer { json(try await engine.status(ctx.parameters.get("cluster") ?? "")) }
        }
        v1.post("/clusters/{cluster}/rebalance") { request, ctx -> Response in
            try await answer {
                let body = try await collect(request)
                let r: RebalanceRequest =
                    body.readableBytes == 0
                    ? RebalanceRequest()
                    : try decode(
                        body, "rebalance request",
                        keys: [
                            "": ["dryRun", "mode", "brokers", "goals", "proposalHash", "throttleBytesPerSecond"]
                        ])
                let (response, created) = try await engine.rebalance(ctx.parameters.get("cluster") ?? "", r)
                return json(response, status: created ? .accepted : .ok)
            }
        }
        v1.post("/clusters/{cluster}/reconcile") { request, ctx -> Response in
            try await answer {
                let r: ReconcileRequest = try decode(
                    try await collect(request), "reconcile request",
                    keys: [
                        "": ["configs", "pools", "restart", "kafkaVersion"], "configs": ["cluster", "brokers"],
                        "restart": ["generation", "reason"],
                    ])
                let (response, created) = try await engine.reconcile(ctx.parameters.get("cluster") ?? "", r)
                return json(response, status: created ? .accepted : .ok)
            }
        }
        v1.get("/operations") { request, _ -> Response in
            try await answer {
                let q = request.uri.queryParameters
                var state: ServiceOperationState?
                if let s = q.get("state") {
                    guard let v = ServiceOperationState(rawValue: s) else {
                        throw ServiceError(
                            .badRequest,
                            "state \(s) is unknown; use one of "
                                + ServiceOperationState.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    state = v
                }
                var kind: ServiceOperationKind?
                if let s = q.get("kind") {
                    guard let v = ServiceOperationKind(rawValue: s) else {
                        throw ServiceError(
                            .badRequest,
                            "kind \(s) is unknown; use one of "
                                + ServiceOperationKind.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    kind = v
                }
                let list = try await engine.operations(
                    cluster: q.get("cluster"), state: state, kind: kind, limit: try limit(q.get("limit")))
                return json(OperationList(operations: list))
            }
        }
        v1.get("/operations/{id}") { _, ctx -> Response in
            try await answer { json(try await engine.operation(ctx.parameters.get("id") ?? "")) }
        }
        let actions: [(String, @Sendable (String) async throws -> OperationSummary)] = [
            ("pause", { try await engine.pause($0) }), ("resume", { try await engine.resume($0) }),
            ("cancel", { try await engine.cancel($0) }),
        ]
        for (action, perform) in actions {
            v1.post("/operations/{id}/\(action)") { request, ctx -> Response in
                try await answer {
                    _ = try await collect(request)
                    let id = ctx.parameters.get("id") ?? ""
                    _ = try await perform(id)
                    // The operation as `GET /v1/operations/{id}` shows it (its events included).
                    return json(try await engine.operation(id))
                }
            }
        }
        v1.post("/alerts") { request, _ -> Response in
            try await answer {
                let payload: AlertmanagerWebhook = try decode(try await collect(request), "webhook payload")
                return json(try await engine.receiveAlerts(payload))
            }
        }
        v1.get("/alerts") { request, _ -> Response in
            try await answer {
                let q = request.uri.queryParameters
                return json(
                    AlertList(
                        alerts: try await engine.storedAlerts(
                            cluster: q.get("cluster"), limit: try limit(q.get("limit")))))
            }
        }
        return router
    }

    public static func application(
        engine: ServiceEngine, tokens: Tokens, metrics: ServiceMetrics, host: String, port: Int,
        tls: TLSConfiguration? = nil, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try Application(
            router: DeclaredMethods(router(engine: engine, tokens: tokens, metrics: metrics), metrics: metrics),
            server: tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    // MARK: Helpers

    static func limit(_ text: String?) throws -> Int {
        guard let text else { return 100 }
        guard let n = Int(text), (1...1000).contains(n) else {
            throw ServiceError(.badRequest, "limit must be a whole number from 1 to 1000, not \(text)")
        }
        return n
    }

    static func collect(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: maxBody)
        } catch {
            throw ServiceError(.tooLarge, "the request body is larger than \(maxBody / 1024 / 1024) MB")
        }
    }

    /// `keys`: for a body whose schema has `additionalProperties: false`, the keys each object may have, by its
    /// key in the body ("" the body itself); any other key is refused (400) rather than ignored.
    static func decode<T: Decodable>(_ body: ByteBuffer, _ what: String, keys: [String: Set<String>] = [:]) throws
        -> T
    {
        if !keys.isEmpty,
            let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        {
            for (path, allowed) in keys {
                guard let inner = (path.isEmpty ? object : object[path]) as? [String: Any] else { continue }
                if let unknown = inner.keys.filter({ !allowed.contains($0) }).sorted().first {
                    throw ServiceError(
                        .badRequest,
                        "the \(what) is not valid: \(path.isEmpty ? "" : path + ".")\(unknown) is not a known key (known: "
                            + allowed.sorted().joined(separator: ", ") + ")")
                }
            }
        }
        do {
            return try ServiceJSON.decoder().decode(T.self, from: Data(body.readableBytesView))
        } catch let e as DecodingError {
            throw ServiceError(.badRequest, "the \(what) is not valid: \(describe(e))")
        } catch {
            throw ServiceError(.badRequest, "the \(what) is not valid JSON")
        }
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "the body" : String(p.drop { $0 == "." })
        }
        switch e {
        case .keyNotFound(let key, let c):
            let at = path(c)
            return "\(at == "the body" ? "" : at + ".")\(key.stringValue) is missing"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(path(c)) has the wrong type"
        case .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "it is not JSON" : "\(path(c)): \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    /// Runs a handler, turning `ServiceError` into its status and the error body.
    static func answer(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let e as ServiceError {
            return error(HTTPResponse.Status(code: e.status.rawValue), e.message)
        } catch let e as HTTPError {
            throw e
        } catch {
            return Self.error(.internalServerError, "\(error)")
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? ServiceJSON.encoder().encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(ServiceErrorBody(error: message), status: status)
    }
}

/// The router, answering 405 with `Allow` (not the router's 404) when a path it has routes for is called with a
/// method none of them takes. The table of paths and methods is read from the router itself when the server builds
/// its responder, so routes added after `ServiceServer.router` (the dashboard's) count too.
public struct DeclaredMethods: HTTPResponderBuilder {
    let router: Router<BasicRequestContext>
    let metrics: ServiceMetrics

    public init(_ router: Router<BasicRequestContext>, metrics: ServiceMetrics) {
        self.router = router
        self.metrics = metrics
    }

    public func buildResponder() -> Responder {
        var table: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in router.routes {
            table[route.path.description, default: (route.path, [])].methods.insert(route.method)
        }
        return Responder(
            inner: router.buildResponder(),
            paths: table.values.map { entry in
                // `.autoGenerateHeadEndpoints`: a path with a GET route answers HEAD too.
                (entry.path, entry.methods.contains(.get) ? entry.methods.union([.head]) : entry.methods)
            }, metrics: metrics)
    }

    public struct Responder: HTTPResponder {
        public typealias Context = BasicRequestContext
        let inner: RouterResponder<BasicRequestContext>
        let paths: [(path: RouterPath, methods: Set<HTTPRequest.Method>)]
        let metrics: ServiceMetrics

        public func respond(to request: Request, context: Context) async throws -> Response {
            let allowed = allowedMethods(request.uri.path)
            guard allowed.isEmpty || allowed.contains(request.method) else {
                let list = allowed.map(\.rawValue).sorted().joined(separator: ", ")
                metrics.httpRequest(status: 405)
                var response = ServiceServer.error(
                    .methodNotAllowed, "\(request.uri.path) does not take \(request.method.rawValue); it takes \(list)")
                response.headers[.allow] = list
                return response
            }
            return try await inner.respond(to: request, context: context)
        }

        /// The methods of the routes whose path matches; empty when no route's does.
        func allowedMethods(_ path: String) -> Set<HTTPRequest.Method> {
            let segments = path.split(separator: "/")
            var allowed: Set<HTTPRequest.Method> = []
            for entry in paths where Self.matches(entry.path, segments) { allowed.formUnion(entry.methods) }
            return allowed
        }

        static func matches(_ path: RouterPath, _ segments: [Substring]) -> Bool {
            var i = 0
            for element in path.components {
                if element.description == "**" { return true }
                guard i < segments.count, element ~= segments[i] else { return false }
                i += 1
            }
            return i == segments.count
        }
    }
}

/// Refuses a declared body over the limit before reading it (413), and counts answers by status.
struct Limits<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > ServiceServer.maxBody {
            metrics.httpRequest(status: 413)
            return ServiceServer.error(
                .contentTooLarge, "the request body is larger than \(ServiceServer.maxBody / 1024 / 1024) MB")
        }
        do {
            let response = try await next(request, context)
            metrics.httpRequest(status: Int(response.status.code))
            return response
        } catch let e as HTTPError {
            metrics.httpRequest(status: Int(e.status.code))
            return ServiceServer.error(e.status, e.body ?? e.status.reasonPhrase)
        }
    }
}

/// Bearer tokens: a `read` or `admin` token for `GET`, an `admin` token for anything else. Compared in constant
/// time; the token is never logged or echoed.
struct Auth<Context: RequestContext>: RouterMiddleware {
    let admin: [UInt8]?
    let read: [UInt8]?

    init(tokens: ServiceServer.Tokens) {
        admin = tokens.admin.map { Array($0.utf8) }
        read = tokens.read.map { Array($0.utf8) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            var r = ServiceServer.error(.unauthorized, "this call needs Authorization: Bearer <token>")
            r.headers[.wwwAuthenticate] = "Bearer"
            return r
        }
        let given = Array(header.utf8.dropFirst(7))
        let isAdmin = admin.map { Self.same(given, $0) } ?? false
        let isRead = read.map { Self.same(given, $0) } ?? false
        guard isAdmin || isRead else {
            var r = ServiceServer.error(.unauthorized, "the bearer token is not one of the configured tokens")
            r.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
            return r
        }
        if request.method != .get && request.method != .head && !isAdmin {
            return ServiceServer.error(.forbidden, "this call needs an admin token; the token given is read-only")
        }
        return try await next(request, context)
    }

    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
