// The few Kubernetes API objects Ballast uses, as Codable types with Kubernetes' JSON field names. The agent's
// `kubernetes` driver decodes them and the simulated Kubernetes API encodes them, so the JSON has one definition.
// Fields Ballast does not need are left out: decoding ignores them, and encoding leaves out nil fields, as
// Kubernetes does with `omitempty`.

/// `metadata` of every object.
public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    /// RFC 3339, e.g. `2026-01-01T00:00:00Z`.
    public var creationTimestamp: String?
    /// Set once the object is being deleted (a pod terminating).
    public var deletionTimestamp: String?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?

    public init(
        name: String? = nil, namespace: String? = nil, uid: String? = nil, resourceVersion: String? = nil,
        labels: [String: String]? = nil, annotations: [String: String]? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.labels = labels
        self.annotations = annotations
    }
}

public struct OwnerReference: Codable, Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = true) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
    }
}

/// `metadata` of a list (and of a Status).
public struct ListMeta: Codable, Sendable, Hashable {
    public var resourceVersion: String?
    public var `continue`: String?

    public init(resourceVersion: String? = nil) { self.resourceVersion = resourceVersion }
}

/// A list of objects (`PodList`, `StatefulSetList`, ...).
public struct ObjectList<Item: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ListMeta
    public var items: [Item]

    public init(apiVersion: String, kind: String, resourceVersion: String, items: [Item]) {
        self.apiVersion = apiVersion
        self.kind = kind
        metadata = ListMeta(resourceVersion: resourceVersion)
        self.items = items
    }
}

// MARK: Pods

public struct Pod: Codable, Sendable, Hashable {
    public var apiVersion: String? = "v1"
    public var kind: String? = "Pod"
    public var metadata: ObjectMeta
    public var spec: PodSpec?
    public var status: PodStatus?

    public init(metadata: ObjectMeta, spec: PodSpec? = nil, status: PodStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The pod's `Ready` condition is `True`.
    public var isReady: Bool {
        status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } ?? false
    }

    public var isTerminating: Bool { metadata.deletionTimestamp != nil }
}

public struct PodSpec: Codable, Sendable, Hashable {
    public var nodeName: String?
    public var hostname: String?
    public var subdomain: String?
    public var containers: [Container]
    public var restartPolicy: String?
    public var terminationGracePeriodSeconds: Int64?

    public init(nodeName: String? = nil, containers: [Container]) {
        self.nodeName = nodeName
        self.containers = containers
    }
}

public struct Container: Codable, Sendable, Hashable {
    public var name: String
    public var image: String?

    public init(name: String, image: String?) {
        self.name = name
        self.image = image
    }
}

public struct PodStatus: Codable, Sendable, Hashable {
    /// `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    public var phase: String?
    public var conditions: [PodCondition]?
    public var containerStatuses: [ContainerStatus]?
    public var hostIP: String?
    public var podIP: String?
    public var startTime: String?
    public var reason: String?
    public var message: String?

    public init(phase: String? = nil, conditions: [PodCondition]? = nil, containerStatuses: [ContainerStatus]? = nil) {
        self.phase = phase
        self.conditions = conditions
        self.containerStatuses = containerStatuses
    }
}

public struct PodCondition: Codable, Sendable, Hashable {
    /// `PodScheduled`, `Initialized`, `ContainersReady`, `Ready`.
    public var type: String
    /// `True`, `False`, `Unknown`.
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: String?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil, at: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        lastTransitionTime = at
    }
}

public struct ContainerStatus: Codable, Sendable, Hashable {
    public var name: String
    public var ready: Bool
    public var restartCount: Int
    public var image: String
    public var imageID: String
    public var containerID: String?
    public var started: Bool?
    public var state: ContainerState?
    public var lastState: ContainerState?

    public init(
        name: String, ready: Bool, restartCount: Int, image: String, started: Bool?, state: ContainerState?,
        lastState: ContainerState? = nil
    ) {
        self.name = name
        self.ready = ready
        self.restartCount = restartCount
        self.image = image
        imageID = ""
        self.started = started
        self.state = state
        self.lastState = lastState
    }
}

/// Exactly one of the three is set.
public struct ContainerState: Codable, Sendable, Hashable {
    public struct Waiting: Codable, Sendable, Hashable {
        public var reason: String?
        public var message: String?
        public init(reason: String?, message: String? = nil) {
            self.reason = reason
            self.message = message
        }
    }
    public struct Running: Codable, Sendable, Hashable {
        public var startedAt: String?
        public init(startedAt: String?) { self.startedAt = startedAt }
    }
    public struct Terminated: Codable, Sendable, Hashable {
        public var exitCode: Int32
        public var reason: String?
        public var message: String?
        public var startedAt: String?
        public var finishedAt: String?
        public init(exitCode: Int32, reason: String?, finishedAt: String? = nil) {
            self.exitCode = exitCode
            self.reason = reason
            self.finishedAt = finishedAt
        }
    }
    public var waiting: Waiting?
    public var running: Running?
    public var terminated: Terminated?

    public init(waiting: Waiting? = nil, running: Running? = nil, terminated: Terminated? = nil) {
        self.waiting = waiting
        self.running = running
        self.terminated = terminated
    }
}

// MARK: Workloads

/// `matchLabels` only (Ballast never writes `matchExpressions`; it reads the selector as a string from Scale).
public struct LabelSelectorSpec: Codable, Sendable, Hashable {
    public var matchLabels: [String: String]?
    public init(matchLabels: [String: String]?) { self.matchLabels = matchLabels }
}

public struct PodTemplateSpec: Codable, Sendable, Hashable {
    public var metadata: ObjectMeta?
    public var spec: PodSpec?
    public init(metadata: ObjectMeta?, spec: PodSpec?) {
        self.metadata = metadata
        self.spec = spec
    }
}

public struct StatefulSet: Codable, Sendable, Hashable {
    public var apiVersion: String? = "apps/v1"
    public var kind: String? = "StatefulSet"
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var replicas: Int?
        public var selector: LabelSelectorSpec
        public var serviceName: String?
        public var podManagementPolicy: String?
        public var template: PodTemplateSpec
        public init(replicas: Int?, selector: LabelSelectorSpec, serviceName: String?, template: PodTemplateSpec) {
            self.replicas = replicas
            self.selector = selector
            self.serviceName = serviceName
            self.template = template
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var observedGeneration: Int64?
        public var replicas: Int
        public var readyReplicas: Int?
        public var currentReplicas: Int?
        public var updatedReplicas: Int?
        public var availableReplicas: Int?
        public var currentRevision: String?
        public var updateRevision: String?
        public init(replicas: Int) { self.replicas = replicas }
    }

    public init(metadata: ObjectMeta, spec: Spec, status: Status?) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// The scale subresource (`autoscaling/v1`), of a StatefulSet or of a custom resource such as Strimzi's
/// KafkaNodePool.
public struct Scale: Codable, Sendable, Hashable {
    public var apiVersion: String? = "autoscaling/v1"
    public var kind: String? = "Scale"
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var replicas: Int?
        public init(replicas: Int?) { self.replicas = replicas }
    }
    public struct Status: Codable, Sendable, Hashable {
        public var replicas: Int
        /// The pods of the scaled resource, as a label selector string.
        public var selector: String?
        public init(replicas: Int, selector: String?) {
            self.replicas = replicas
            self.selector = selector
        }
    }

    public init(metadata: ObjectMeta, spec: Spec, status: Status?) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// An integer or a percentage string (`maxUnavailable: 1`, `minAvailable: "50%"`).
public enum IntOrString: Codable, Sendable, Hashable {
    case int(Int)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        }
    }

    /// The value for `total` pods: percentages round up, as Kubernetes does for PodDisruptionBudgets.
    public func value(of total: Int) -> Int? {
        switch self {
        case .int(let i): return i
        case .string(let s):
            guard s.hasSuffix("%"), let p = Int(s.dropLast()) else { return nil }
            return (p * total + 99) / 100
        }
    }
}

public struct PodDisruptionBudget: Codable, Sendable, Hashable {
    public var apiVersion: String? = "policy/v1"
    public var kind: String? = "PodDisruptionBudget"
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var minAvailable: IntOrString?
        public var maxUnavailable: IntOrString?
        public var selector: LabelSelectorSpec?
        public init(minAvailable: IntOrString? = nil, maxUnavailable: IntOrString? = nil, selector: LabelSelectorSpec?)
        {
            self.minAvailable = minAvailable
            self.maxUnavailable = maxUnavailable
            self.selector = selector
        }
    }
    public struct Status: Codable, Sendable, Hashable {
        public var observedGeneration: Int64?
        public var disruptionsAllowed: Int
        public var currentHealthy: Int
        public var desiredHealthy: Int
        public var expectedPods: Int
        public init(disruptionsAllowed: Int, currentHealthy: Int, desiredHealthy: Int, expectedPods: Int) {
            self.disruptionsAllowed = disruptionsAllowed
            self.currentHealthy = currentHealthy
            self.desiredHealthy = desiredHealthy
            self.expectedPods = expectedPods
        }
    }

    public init(metadata: ObjectMeta, spec: Spec, status: Status?) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// The body of `POST .../pods/{name}/eviction`.
public struct Eviction: Codable, Sendable, Hashable {
    public var apiVersion: String? = "policy/v1"
    public var kind: String? = "Eviction"
    public var metadata: ObjectMeta
    public var deleteOptions: DeleteOptions?

    public init(metadata: ObjectMeta, deleteOptions: DeleteOptions?) {
        self.metadata = metadata
        self.deleteOptions = deleteOptions
    }
}

/// The body of a DELETE (and of an eviction's `deleteOptions`).
public struct DeleteOptions: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var gracePeriodSeconds: Int64?
    public var preconditions: Preconditions?
    public var propagationPolicy: String?

    public struct Preconditions: Codable, Sendable, Hashable {
        public var uid: String?
        public var resourceVersion: String?
        public init(uid: String?, resourceVersion: String? = nil) {
            self.uid = uid
            self.resourceVersion = resourceVersion
        }
    }

    public init(preconditions: Preconditions? = nil, gracePeriodSeconds: Int64? = nil) {
        self.preconditions = preconditions
        self.gracePeriodSeconds = gracePeriodSeconds
    }
}

// MARK: Cluster objects

public struct Node: Codable, Sendable, Hashable {
    public var apiVersion: String? = "v1"
    public var kind: String? = "Node"
    public var metadata: ObjectMeta
    public var status: Status?

    public struct Status: Codable, Sendable, Hashable {
        public var conditions: [PodCondition]?
        public init(conditions: [PodCondition]?) { self.conditions = conditions }
    }

    public init(metadata: ObjectMeta, status: Status?) {
        self.metadata = metadata
        self.status = status
    }
}

public struct Namespace: Codable, Sendable, Hashable {
    public var apiVersion: String? = "v1"
    public var kind: String? = "Namespace"
    public var metadata: ObjectMeta
    public var status: Status?

    public struct Status: Codable, Sendable, Hashable {
        public var phase: String
        public init(phase: String) { self.phase = phase }
    }

    public init(metadata: ObjectMeta, status: Status?) {
        self.metadata = metadata
        self.status = status
    }
}

// MARK: Errors and watches

/// The answer of a failed call (and of a few successful ones, such as an eviction): `reason` is a machine-readable
/// word (`NotFound`, `Conflict`, `Forbidden`, `TooManyRequests`, ...), `code` the HTTP status.
public struct Status: Codable, Sendable, Hashable, Error {
    public var apiVersion: String? = "v1"
    public var kind: String? = "Status"
    public var metadata: ListMeta? = ListMeta()
    /// `Success` or `Failure`.
    public var status: String?
    public var message: String?
    public var reason: String?
    public var details: Details?
    public var code: Int?

    public struct Details: Codable, Sendable, Hashable {
        public var name: String?
        public var group: String?
        public var kind: String?
        public var uid: String?
        public var causes: [Cause]?
        public var retryAfterSeconds: Int?
        public init(name: String?, group: String? = nil, kind: String?, causes: [Cause]? = nil) {
            self.name = name
            self.group = group
            self.kind = kind
            self.causes = causes
        }
    }
    public struct Cause: Codable, Sendable, Hashable {
        public var reason: String?
        public var message: String?
        public var field: String?
        public init(reason: String?, message: String?, field: String? = nil) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    public init(failure code: Int, reason: String, message: String, details: Details? = nil) {
        status = "Failure"
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public init(success code: Int) {
        status = "Success"
        self.code = code
    }
}

/// One line of a watch stream: `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, or `ERROR` with a Status (e.g. 410
/// Gone when the resource version is too old).
public enum WatchEvent<Object: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    case bookmark(resourceVersion: String?)
    case error(Status)

    enum CodingKeys: String, CodingKey { case type, object }

    struct Bookmark: Codable {
        var metadata: ListMeta?
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "ADDED": self = .added(try c.decode(Object.self, forKey: .object))
        case "MODIFIED": self = .modified(try c.decode(Object.self, forKey: .object))
        case "DELETED": self = .deleted(try c.decode(Object.self, forKey: .object))
        case "BOOKMARK":
            self = .bookmark(
                resourceVersion: try c.decodeIfPresent(Bookmark.self, forKey: .object)?.metadata?.resourceVersion)
        case "ERROR": self = .error(try c.decode(Status.self, forKey: .object))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c, debugDescription: "unknown watch event type \(type)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .added(let o):
            try c.encode("ADDED", forKey: .type)
            try c.encode(o, forKey: .object)
        case .modified(let o):
            try c.encode("MODIFIED", forKey: .type)
            try c.encode(o, forKey: .object)
        case .deleted(let o):
            try c.encode("DELETED", forKey: .type)
            try c.encode(o, forKey: .object)
        case .bookmark(let rv):
            try c.encode("BOOKMARK", forKey: .type)
            try c.encode(Bookmark(metadata: ListMeta(resourceVersion: rv)), forKey: .object)
        case .error(let s):
            try c.encode("ERROR", forKey: .type)
            try c.encode(s, forKey: .object)
        }
    }

    /// The object of an ADDED, MODIFIED or DELETED event.
    public var object: Object? {
        switch self {
        case .added(let o), .modified(let o), .deleted(let o): o
        case .bookmark, .error: nil
        }
    }
}
