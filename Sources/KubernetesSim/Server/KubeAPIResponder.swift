import Foundation
import Hummingbird
import KubernetesAPI
import NIOCore
import NIOSSL

/// The request context of the simulated API: Hummingbird's, plus the connection (for its client certificate).
struct KubeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Answers one simulated Kubernetes cluster's API: authentication (bearer token or a client certificate signed by
/// the simulator's CA), authorization (the Role given, if any: 403 outside it), discovery, and the resources of
/// `KubeCluster`, in Kubernetes' JSON (objects, lists, Tables for kubectl, watch streams, Status errors).
struct KubeAPIResponder: HTTPResponder {
    typealias Context = KubeRequestContext

    let sim: KubernetesSimulator
    let cluster: String

    func respond(to request: Request, context: Context) async throws -> Response {
        if sim.isCutOff(cluster) {
            return Self.status(
                Status(
                    failure: 503, reason: "ServiceUnavailable",
                    message: "the Kubernetes API of \(cluster) is unreachable (a simulated outage)"))
        }
        guard try await authenticated(request, context) else {
            return Self.status(Status(failure: 401, reason: "Unauthorized", message: "Unauthorized"))
        }
        let path = request.uri.path
        if let document = discovery(path) {
            guard request.method == .get else { return Self.methodNotAllowed(request) }
            return document
        }
        guard let target = ResourcePath(path) else {
            return Self.status(
                Status(failure: 404, reason: "NotFound", message: "the server could not find the requested resource"))
        }
        var query: [String: String] = [:]
        for (k, v) in request.uri.queryParameters { query[String(k)] = String(v) }
        let watch = query["watch"].map { $0 == "true" || $0 == "1" } ?? false
        guard let verb = target.verb(request.method, watch: watch) else { return Self.methodNotAllowed(request) }
        let ask = ResourceRequest(
            verb: verb, group: target.group, resource: target.resource, subresource: target.subresource,
            name: target.name, namespace: target.namespace)
        if let denial = sim.authorize(ask, cluster: cluster) { return Self.status(denial) }
        let body = try await request.body.collect(upTo: 4 << 20)
        let handler = KubeResourceHandler(
            sim: sim, cluster: cluster, target: target, query: query, body: Data(body.readableBytesView),
            contentType: request.headers[.contentType] ?? "",
            asTable: (request.headers[.accept] ?? "").contains("as=Table"), channel: context.channel)
        return await handler.handle(verb: verb)
    }

    func authenticated(_ request: Request, _ context: Context) async throws -> Bool {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            return sim.acceptsToken(String(header.dropFirst(7)), cluster: cluster)
        }
        // With `.optionalVerification` a certificate is only there when it verified against the simulator's CA.
        let certificate = try? await context.channel.nioSSL_peerCertificate().get()
        return certificate != nil
    }

    func discovery(_ path: String) -> Response? {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        switch trimmed {
        case "/version": return Self.json(KubeDiscovery.version)
        case "/healthz", "/livez", "/readyz":
            return Response(
                status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        case "/api": return Self.json(KubeDiscovery.apiVersions)
        case "/apis": return Self.json(KubeDiscovery.groups)
        case "/api/v1": return Self.json(KubeDiscovery.coreResources)
        default:
            if let group = KubeDiscovery.groupsByName[String(trimmed.dropFirst("/apis/".count))],
                trimmed.hasPrefix("/apis/")
            {
                return Self.json(group)
            }
            if trimmed.hasPrefix("/apis/"),
                let list = KubeDiscovery.resourcesByGroupVersion[String(trimmed.dropFirst(6))]
            {
                return Self.json(list)
            }
            return nil
        }
    }

    static func methodNotAllowed(_ request: Request) -> Response {
        status(
            Status(
                failure: 405, reason: "MethodNotAllowed",
                message: "the server does not allow this method on the requested resource"))
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func status(_ s: Status) -> Response {
        json(s, status: HTTPResponse.Status(code: s.code ?? 500))
    }
}

/// Where a resource request goes: `/api/v1/namespaces/kafka/pods/kafka-0/eviction` is group "", version v1,
/// namespace kafka, resource pods, name kafka-0, subresource eviction.
struct ResourcePath: Sendable, Hashable {
    var group: String
    var version: String
    var namespace: String?
    var resource: String
    var name: String?
    var subresource: String?

    static let served: [String: (group: String, version: String, namespaced: Bool)] = [
        "pods": ("", "v1", true),
        "nodes": ("", "v1", false),
        "namespaces": ("", "v1", false),
        "statefulsets": ("apps", "v1", true),
        "poddisruptionbudgets": ("policy", "v1", true),
        "kafkanodepools": ("kafka.strimzi.io", "v1beta2", true),
    ]

    init?(_ path: String) {
        var parts = path.split(separator: "/").map(String.init)
        if parts.first == "api", parts.count >= 2 {
            group = ""
            version = parts[1]
            parts.removeFirst(2)
        } else if parts.first == "apis", parts.count >= 3 {
            group = parts[1]
            version = parts[2]
            parts.removeFirst(3)
        } else {
            return nil
        }
        if parts.first == "namespaces", parts.count >= 3 {
            namespace = parts[1]
            parts.removeFirst(2)
        } else if parts.first == "namespaces" {
            // The namespaces resource itself.
            resource = "namespaces"
            name = parts.count > 1 ? parts[1] : nil
            guard group.isEmpty, version == "v1" else { return nil }
            return
        }
        guard let first = parts.first, let served = Self.served[first], served.group == group,
            served.version == version, parts.count <= 3, served.namespaced || namespace == nil
        else { return nil }
        resource = first
        name = parts.count > 1 ? parts[1] : nil
        subresource = parts.count > 2 ? parts[2] : nil
    }

    /// RBAC's verb for the method.
    func verb(_ method: HTTPRequest.Method, watch: Bool) -> String? {
        switch method {
        case .get: name == nil ? (watch ? "watch" : "list") : (watch ? "watch" : "get")
        case .post: "create"
        case .put: "update"
        case .patch: "patch"
        case .delete: name == nil ? "deletecollection" : "delete"
        default: nil
        }
    }
}
