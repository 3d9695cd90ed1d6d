import KubernetesAPI

/// Server-side printing: what kubectl asks for with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` and
/// prints as it is (`kubectl get`, `-o wide` adds the priority-1 columns). The columns are those of Kubernetes'
/// own printers for these kinds.
struct KubeTable: Encodable, Sendable {
    var kind = "Table"
    var apiVersion = "meta.k8s.io/v1"
    var metadata: ListMeta
    var columnDefinitions: [Column]
    var rows: [Row]

    struct Column: Encodable, Sendable {
        var name: String
        var type: String
        var format: String
        var description: String
        var priority: Int

        init(_ name: String, _ type: String = "string", format: String = "", priority: Int = 0) {
            self.name = name
            self.type = type
            self.format = format
            description = name
            self.priority = priority
        }
    }

    enum Cell: Encodable, Sendable {
        case string(String)
        case int(Int)

        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .string(let s): try c.encode(s)
            case .int(let i): try c.encode(i)
            }
        }
    }

    struct PartialObjectMetadata: Encodable, Sendable {
        var kind = "PartialObjectMetadata"
        var apiVersion = "meta.k8s.io/v1"
        var metadata: ObjectMeta
    }

    struct Row: Encodable, Sendable {
        var cells: [Cell]
        var object: PartialObjectMetadata
    }

    /// The table of `items` (all of one kind), or nil for a kind printed client-side.
    static func table(_ items: [KubeObjectView], now: Double, resourceVersion: Int64) -> KubeTable? {
        guard let first = items.first else {
            return nil
        }
        let columns: [Column]
        switch first.object {
        case .pod:
            columns = [
                Column("Name", format: "name"), Column("Ready"), Column("Status"), Column("Restarts", "integer"),
                Column("Age"), Column("IP", priority: 1), Column("Node", priority: 1),
                Column("Nominated Node", priority: 1), Column("Readiness Gates", priority: 1),
            ]
        case .statefulSet:
            columns = [
                Column("Name", format: "name"), Column("Ready"), Column("Age"), Column("Containers", priority: 1),
                Column("Images", priority: 1),
            ]
        case .podDisruptionBudget:
            columns = [
                Column("Name", format: "name"), Column("Min Available"), Column("Max Unavailable"),
                Column("Allowed Disruptions", "integer"), Column("Age"),
            ]
        case .node:
            columns = [
                Column("Name", format: "name"), Column("Status"), Column("Roles"), Column("Age"), Column("Version"),
            ]
        case .namespace:
            return nil
        }
        let rows = items.map { Row(cells: cells($0, now: now), object: .init(metadata: $0.metadata)) }
        return KubeTable(
            metadata: ListMeta(resourceVersion: String(resourceVersion)), columnDefinitions: columns, rows: rows)
    }

    static func cells(_ view: KubeObjectView, now: Double) -> [Cell] {
        let age = Self.age(view.metadata.creationTimestamp, now: now)
        switch view.object {
        case .pod(let p):
            let containers = p.status?.containerStatuses ?? []
            let ready = containers.filter(\.ready).count
            let total = p.spec?.containers.count ?? containers.count
            return [
                .string(p.metadata.name ?? ""), .string("\(ready)/\(total)"), .string(podStatus(p)),
                .int(containers.reduce(0) { $0 + $1.restartCount }), .string(age),
                .string(p.status?.podIP ?? "<none>"), .string(p.spec?.nodeName ?? "<none>"), .string("<none>"),
                .string("<none>"),
            ]
        case .statefulSet(let s):
            return [
                .string(s.metadata.name ?? ""), .string("\(s.status?.readyReplicas ?? 0)/\(s.spec.replicas ?? 1)"),
                .string(age), .string(s.spec.template.spec?.containers.map(\.name).joined(separator: ",") ?? ""),
                .string(s.spec.template.spec?.containers.compactMap(\.image).joined(separator: ",") ?? ""),
            ]
        case .podDisruptionBudget(let b):
            func show(_ v: IntOrString?) -> String {
                switch v {
                case .int(let i): String(i)
                case .string(let s): s
                case nil: "N/A"
                }
            }
            return [
                .string(b.metadata.name ?? ""), .string(show(b.spec.minAvailable)),
                .string(show(b.spec.maxUnavailable)),
                .int(b.status?.disruptionsAllowed ?? 0), .string(age),
            ]
        case .node(let n):
            let ready = n.status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } ?? false
            return [
                .string(n.metadata.name ?? ""), .string(ready ? "Ready" : "NotReady"), .string("<none>"), .string(age),
                .string("v1.32.0"),
            ]
        case .namespace(let n):
            return [.string(n.metadata.name ?? "")]
        }
    }

    /// What kubectl's STATUS column says: the waiting container's reason, `Terminating`, or the phase.
    static func podStatus(_ p: Pod) -> String {
        if p.metadata.deletionTimestamp != nil { return "Terminating" }
        if let waiting = p.status?.containerStatuses?.compactMap({ $0.state?.waiting?.reason }).first,
            waiting != "ContainerCreating" || p.status?.phase == "Pending"
        {
            return waiting
        }
        if let terminated = p.status?.containerStatuses?.compactMap({ $0.state?.terminated?.reason }).first {
            return terminated
        }
        return p.status?.phase ?? "Unknown"
    }

    /// Kubernetes' short human durations (`45s`, `3m12s`, `25m`, `5h3m`, `2d`).
    static func age(_ created: String?, now: Double) -> String {
        guard let created, let start = RFC3339.parse(created) else { return "<unknown>" }
        return humanDuration(max(0, Int(now - start)))
    }

    static func humanDuration(_ s: Int) -> String {
        if s < 120 { return "\(s)s" }
        let m = s / 60
        if m < 10 { return s % 60 == 0 ? "\(m)m" : "\(m)m\(s % 60)s" }
        if m < 180 { return "\(m)m" }
        let h = m / 60
        if h < 8 { return m % 60 == 0 ? "\(h)h" : "\(h)h\(m % 60)m" }
        if h < 48 { return "\(h)h" }
        let d = h / 24
        if d < 8 { return h % 24 == 0 ? "\(d)d" : "\(d)d\(h % 24)h" }
        return "\(d)d"
    }
}
