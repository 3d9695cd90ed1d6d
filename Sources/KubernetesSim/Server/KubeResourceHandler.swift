import Foundation
import Hummingbird
import KubernetesAPI
import NIOCore

/// One resource request of the simulated API, after authentication and authorization.
struct KubeResourceHandler: Sendable {
    let sim: KubernetesSimulator
    let cluster: String
    let target: ResourcePath
    let query: [String: String]
    let body: Data
    let contentType: String
    let asTable: Bool
    /// The connection: a watch ends when the client closes it.
    let channel: any Channel

    func handle(verb: String) async -> Response {
        do {
            return try await route(verb: verb)
        } catch let status as Status {
            return KubeAPIResponder.status(status)
        } catch {
            return KubeAPIResponder.status(Status(failure: 500, reason: "InternalError", message: "\(error)"))
        }
    }

    func route(verb: String) async throws -> Response {
        switch (target.resource, target.subresource, verb) {
        case ("pods", nil, "list"), ("statefulsets", nil, "list"), ("poddisruptionbudgets", nil, "list"),
            ("nodes", nil, "list"), ("namespaces", nil, "list"):
            return try list()
        case ("pods", nil, "watch"), ("statefulsets", nil, "watch"), ("poddisruptionbudgets", nil, "watch"):
            return try watch()
        case ("pods", nil, "get"), ("statefulsets", nil, "get"), ("poddisruptionbudgets", nil, "get"),
            ("nodes", nil, "get"), ("namespaces", nil, "get"):
            return try get()
        case ("pods", nil, "delete"):
            var options = try decodeIfAny(DeleteOptions.self) ?? DeleteOptions()
            if let grace = query["gracePeriodSeconds"].flatMap({ Int64($0) }) { options.gracePeriodSeconds = grace }
            let pod = try await sim.deletePod(cluster: cluster, namespace: namespace, name: name, options: options)
            return KubeAPIResponder.json(pod)
        case ("pods", "eviction", "create"):
            let eviction =
                try decodeIfAny(Eviction.self) ?? Eviction(metadata: ObjectMeta(name: name), deleteOptions: nil)
            try await sim.evictPod(cluster: cluster, namespace: namespace, name: name, eviction: eviction)
            return KubeAPIResponder.json(Status(success: 201), status: .created)
        case ("kafkanodepools", "scale", _) where !sim.configuration.strimziNodePools:
            throw KubeCluster.notFound("kafkanodepools", name, group: "kafka.strimzi.io")
        case ("statefulsets", "scale", "get"), ("kafkanodepools", "scale", "get"):
            return KubeAPIResponder.json(try sim.scale(cluster: cluster, namespace: namespace, name: name))
        case ("statefulsets", "scale", "patch"), ("kafkanodepools", "scale", "patch"):
            let replicas = try patchedReplicas()
            return KubeAPIResponder.json(
                try await sim.setScale(
                    cluster: cluster, namespace: namespace, name: name, replicas: replicas, resourceVersion: nil))
        case ("statefulsets", "scale", "update"), ("kafkanodepools", "scale", "update"):
            let scale = try decode(Scale.self)
            guard let replicas = scale.spec.replicas else { throw Self.invalid("spec.replicas is required") }
            return KubeAPIResponder.json(
                try await sim.setScale(
                    cluster: cluster, namespace: namespace, name: name, replicas: replicas,
                    resourceVersion: scale.metadata.resourceVersion))
        default:
            return KubeAPIResponder.status(
                Status(
                    failure: 405, reason: "MethodNotAllowed",
                    message: "the simulated API does not serve \(verb) on \(target.resource)"
                        + (target.subresource.map { "/\($0)" } ?? "")))
        }
    }

    var namespace: String { target.namespace ?? "" }
    var name: String { target.name ?? "" }

    // MARK: Reads

    func selectors() throws -> (LabelSelector, FieldSelector) {
        do {
            let labels = try LabelSelector(
                parsing: (query["labelSelector"] ?? "").replacingOccurrences(of: "+", with: " "))
            let fields = try FieldSelector(
                parsing: (query["fieldSelector"] ?? "").replacingOccurrences(of: "+", with: " "))
            return (labels, fields)
        } catch {
            throw Status(failure: 400, reason: "BadRequest", message: error.message)
        }
    }

    func matching(_ objects: [KubeObjectView], fields: FieldSelector, labels: LabelSelector) throws -> [KubeObjectView]
    {
        var out: [KubeObjectView] = []
        for o in objects where labels.matches(o.metadata.labels) {
            do {
                if try fields.matches(o.fields, supported: o.supportedFields) { out.append(o) }
            } catch {
                throw Status(failure: 400, reason: "BadRequest", message: "\(error)")
            }
        }
        return out
    }

    func list() throws -> Response {
        let (labels, fields) = try selectors()
        let (objects, rv, now) = sim.objects(cluster: cluster, resource: target.resource, namespace: target.namespace)
        let items = try matching(objects, fields: fields, labels: labels)
        if asTable, let table = KubeTable.table(items, now: now, resourceVersion: rv) {
            return KubeAPIResponder.json(table)
        }
        return KubeAPIResponder.json(KubeObjectView.list(items, resource: target.resource, resourceVersion: rv))
    }

    func get() throws -> Response {
        let (objects, rv, now) = sim.objects(cluster: cluster, resource: target.resource, namespace: target.namespace)
        guard let object = objects.first(where: { $0.metadata.name == target.name }) else {
            let group = ResourcePath.served[target.resource]?.group
            throw KubeCluster.notFound(target.resource, name, group: group?.isEmpty == false ? group : nil)
        }
        if asTable, let table = KubeTable.table([object], now: now, resourceVersion: rv) {
            return KubeAPIResponder.json(table)
        }
        return KubeAPIResponder.json(object)
    }

    /// A chunked stream of JSON lines, one per event, until `timeoutSeconds` (default 30 min) or the client leaves.
    /// From resource version "" or "0" the current objects come first as ADDED; from an older version than the
    /// history holds, one ERROR event (410 Expired).
    func watch() throws -> Response {
        let (labels, fields) = try selectors()
        let since: Int64? = query["resourceVersion"].flatMap { Int64($0) }.flatMap { $0 == 0 ? nil : $0 }
        let timeout = query["timeoutSeconds"].flatMap { Int($0) }.map { max(1, $0) } ?? 1800
        let subscription = sim.subscribe(cluster: cluster, since: since)
        channel.closeFuture.whenComplete { _ in subscription.finish() }
        let resource = target.resource
        let namespace = target.namespace
        let asTable = self.asTable
        let handler = self
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                defer { subscription.cancel() }
                let timer = Task {
                    try? await Task.sleep(for: .seconds(timeout))
                    subscription.finish()
                }
                defer { timer.cancel() }
                if let tooOld = subscription.tooOld {
                    try await writer.write(ByteBuffer(bytes: Self.line(type: "ERROR", tooOld)))
                    try await writer.finish(nil)
                    return
                }
                func send(_ type: String, _ view: KubeObjectView, now: Double, rv: Int64) async throws {
                    guard view.resource == resource, namespace == nil || view.metadata.namespace == namespace else {
                        return
                    }
                    guard (try? handler.matching([view], fields: fields, labels: labels).isEmpty == false) ?? false
                    else {
                        return
                    }
                    // Every event's Table carries the columns (kubectl 1.20 and 1.32 print one header either way).
                    if asTable, let table = KubeTable.table([view], now: now, resourceVersion: rv) {
                        try await writer.write(ByteBuffer(bytes: Self.line(type: type, table)))
                    } else {
                        try await writer.write(ByteBuffer(bytes: Self.line(type: type, view)))
                    }
                }
                for view in subscription.initial {
                    try await send("ADDED", view, now: subscription.clock(), rv: subscription.resourceVersion)
                }
                for await event in subscription.events {
                    try await send(
                        event.kind.rawValue, KubeObjectView(stored: event.object), now: subscription.clock(),
                        rv: event.resourceVersion)
                }
                try await writer.finish(nil)
            })
    }

    struct EventLine<T: Encodable>: Encodable {
        var type: String
        var object: T
    }

    static func line(type: String, _ object: some Encodable) -> [UInt8] {
        let data = (try? KubeAPIResponder.encoder.encode(EventLine(type: type, object: object))) ?? Data()
        return Array(data) + [UInt8(ascii: "\n")]
    }

    // MARK: Bodies

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: body)
        } catch {
            throw Self.invalid("the request body is not a valid \(T.self): \(error)")
        }
    }

    func decodeIfAny<T: Decodable>(_ type: T.Type) throws -> T? {
        body.isEmpty ? nil : try decode(T.self)
    }

    /// `spec.replicas` from a merge patch, a strategic merge patch or a JSON patch (`replace /spec/replicas`).
    func patchedReplicas() throws -> Int {
        let json = try? JSONSerialization.jsonObject(with: body)
        if contentType.hasPrefix("application/json-patch+json") {
            guard let ops = json as? [[String: Any]],
                let op = ops.first(where: { ($0["path"] as? String) == "/spec/replicas" }),
                ["replace", "add"].contains(op["op"] as? String), let n = op["value"] as? Int
            else { throw Self.invalid("the JSON patch must replace /spec/replicas with an integer") }
            return n
        }
        guard
            contentType.hasPrefix("application/merge-patch+json")
                || contentType.hasPrefix("application/strategic-merge-patch+json")
        else {
            throw Status(
                failure: 415, reason: "UnsupportedMediaType",
                message: "the body of the request was in an unknown format - accepted media types include: "
                    + "application/json-patch+json, application/merge-patch+json, "
                    + "application/strategic-merge-patch+json")
        }
        guard let object = json as? [String: Any], let spec = object["spec"] as? [String: Any],
            let n = spec["replicas"] as? Int
        else { throw Self.invalid("the patch must set spec.replicas to an integer") }
        return n
    }

    static func invalid(_ message: String) -> Status {
        Status(failure: 400, reason: "BadRequest", message: message)
    }
}

/// Any object the simulated API returns, with what selectors and tables need.
struct KubeObjectView: Encodable, Sendable {
    enum Object: Sendable {
        case pod(Pod)
        case statefulSet(StatefulSet)
        case podDisruptionBudget(PodDisruptionBudget)
        case node(Node)
        case namespace(Namespace)
    }
    var object: Object

    init(stored object: KubeObject) {
        switch object {
        case .pod(let p): self.object = .pod(p)
        case .statefulSet(let s): self.object = .statefulSet(s)
        case .podDisruptionBudget(let b): self.object = .podDisruptionBudget(b)
        }
    }

    init(_ object: Object) { self.object = object }

    var resource: String {
        switch object {
        case .pod: "pods"
        case .statefulSet: "statefulsets"
        case .podDisruptionBudget: "poddisruptionbudgets"
        case .node: "nodes"
        case .namespace: "namespaces"
        }
    }

    var metadata: ObjectMeta {
        switch object {
        case .pod(let o): o.metadata
        case .statefulSet(let o): o.metadata
        case .podDisruptionBudget(let o): o.metadata
        case .node(let o): o.metadata
        case .namespace(let o): o.metadata
        }
    }

    /// The fields a field selector may name, with their values.
    var fields: [String: String] {
        var f = ["metadata.name": metadata.name ?? "", "metadata.namespace": metadata.namespace ?? ""]
        if case .pod(let p) = object {
            f["spec.nodeName"] = p.spec?.nodeName ?? ""
            f["status.phase"] = p.status?.phase ?? ""
        }
        return f
    }

    var supportedFields: Set<String> { Set(fields.keys) }

    func encode(to encoder: any Encoder) throws {
        switch object {
        case .pod(let o): try o.encode(to: encoder)
        case .statefulSet(let o): try o.encode(to: encoder)
        case .podDisruptionBudget(let o): try o.encode(to: encoder)
        case .node(let o): try o.encode(to: encoder)
        case .namespace(let o): try o.encode(to: encoder)
        }
    }

    struct List: Encodable {
        var apiVersion: String
        var kind: String
        var metadata: ListMeta
        var items: [KubeObjectView]
    }

    static func list(_ items: [KubeObjectView], resource: String, resourceVersion: Int64) -> List {
        let (apiVersion, kind): (String, String) =
            switch resource {
            case "pods": ("v1", "PodList")
            case "statefulsets": ("apps/v1", "StatefulSetList")
            case "poddisruptionbudgets": ("policy/v1", "PodDisruptionBudgetList")
            case "nodes": ("v1", "NodeList")
            default: ("v1", "NamespaceList")
            }
        return List(
            apiVersion: apiVersion, kind: kind, metadata: ListMeta(resourceVersion: String(resourceVersion)),
            items: items)
    }
}
