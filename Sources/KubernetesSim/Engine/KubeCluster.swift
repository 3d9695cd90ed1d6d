public import KafkaModel
public import KafkaSim
public import KubernetesAPI

/// How a simulated pod can be made to hang (injected through the simulator control API): the pod's container
/// keeps failing (`CrashLoopBackOff`), its image cannot be pulled (`ImagePullBackOff`), or no node can take it
/// (`Unschedulable`). The broker behind it does not start while the fault holds.
public enum PodFault: String, Sendable, Hashable, Codable, CaseIterable {
    case crashLoopBackOff = "CrashLoopBackOff"
    case imagePullBackOff = "ImagePullBackOff"
    case unschedulable = "Unschedulable"
}

/// What the simulated Kubernetes cluster asks the simulated Kafka cluster to do.
public enum KubeEffect: Sendable, Hashable {
    /// The broker's container starts: the broker process starts.
    case start(Int32)
    /// SIGTERM: a controlled shutdown.
    case stop(Int32)
    /// SIGKILL (grace period 0 or over).
    case kill(Int32)
    /// A StatefulSet grew: a new broker for this ordinal (the simulator's own add logic), then `attach`.
    case addBroker(set: String, ordinal: Int, rack: String?, roles: Set<NodeRole>)
    /// A StatefulSet shrank and the pod is gone: remove the broker when it holds no replicas.
    case removeBroker(Int32)
}

/// A Kafka node as the Kubernetes side sees it.
public struct BrokerView: Sendable, Hashable {
    public var id: Int32
    public var state: NodeState
    public var removed: Bool
    public var rack: String?
    public var roles: Set<NodeRole>

    public init(id: Int32, state: NodeState, removed: Bool, rack: String?, roles: Set<NodeRole>) {
        self.id = id
        self.state = state
        self.removed = removed
        self.rack = rack
        self.roles = roles
    }

    public init(_ node: SimNode) {
        self.init(id: node.id, state: node.state, removed: node.removed, rack: node.rack, roles: node.roles)
    }
}

/// An object of the simulated API as a watch event carries it.
public enum KubeObject: Sendable, Hashable {
    case pod(Pod)
    case statefulSet(StatefulSet)
    case podDisruptionBudget(PodDisruptionBudget)

    public var resource: String {
        switch self {
        case .pod: "pods"
        case .statefulSet: "statefulsets"
        case .podDisruptionBudget: "poddisruptionbudgets"
        }
    }

    public var metadata: ObjectMeta {
        switch self {
        case .pod(let o): o.metadata
        case .statefulSet(let o): o.metadata
        case .podDisruptionBudget(let o): o.metadata
        }
    }
}

public struct KubeEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
    }
    public var resourceVersion: Int64
    public var kind: Kind
    public var object: KubeObject
}

/// One simulated Kubernetes cluster: its pods (each backed by a simulated broker), StatefulSets with their scale,
/// PodDisruptionBudgets, nodes and namespace, and the event history that watches replay. Pure and deterministic:
/// it changes only through the calls below, each given the cluster time `now` (milliseconds) and what the brokers
/// are doing; it answers with the effects on the brokers. `KubernetesSimulator` holds it behind a lock and applies
/// the effects to the Kafka simulator.
///
/// Pod lifecycle, as the kubelet and the StatefulSet controller would drive it:
/// - a deleted pod gets a deletion timestamp and its broker a controlled shutdown (SIGTERM; SIGKILL after the
///   grace period, or at once with grace period 0); once the broker has stopped the pod is gone, and the StatefulSet
///   makes a new one with the same name and a new uid, which is scheduled, starts its broker and is Ready once the
///   broker has registered;
/// - a broker whose process exits while its pod lives is restarted by the "kubelet": at once the first time, then
///   after a back-off (10 s doubling to 5 min, shown as `CrashLoopBackOff`) while it keeps failing;
/// - a fault holds a pod that is (re)starting: `Unschedulable` (Pending, PodScheduled False), `ImagePullBackOff`
///   (Pending, container waiting) or `CrashLoopBackOff` (container waiting); clearing it lets the pod go on.
public struct KubeCluster: Sendable {
    public let name: String
    public let namespace: String
    /// The cluster's position (0-based) among the simulated Kubernetes clusters: pod IPs are 10.<index+1>.x.y.
    public let index: Int
    /// Wall-clock seconds since 1970 at cluster time 0, for timestamps.
    public let epochSeconds: Double
    public let image: String
    public private(set) var resourceVersion: Int64 = 1
    public private(set) var pods: [String: SimPod] = [:]
    public private(set) var statefulSets: [String: SimStatefulSet] = [:]
    public private(set) var budgets: [String: PodDisruptionBudget] = [:]
    public private(set) var nodes: [String: Node] = [:]
    public private(set) var faults: [Int32: PodFault] = [:]
    /// Recent changes, oldest first; watches from an older resource version get 410 Gone.
    public private(set) var events: [KubeEvent] = []
    public static let maxEvents = 20_000
    /// The newest resource version no longer in `events` (0: nothing forgotten).
    public private(set) var forgottenThrough: Int64 = 0
    /// Pods deleted (by the API or by a scale-down) and pods created, per broker: what tests count.
    public private(set) var deletions: [Int32: Int] = [:]
    public private(set) var creations: [Int32: Int] = [:]
    var rng: SplitMix64
    let zoneLabelsOnPods: Bool
    let strimziPoolLabels: Bool

    /// - Parameters:
    ///   - brokers: the Kafka nodes of this Kubernetes cluster; brokers (combined nodes included) go into the
    ///     StatefulSet `kafka`, controller-only nodes into `kafka-controller`, ordinals in node id order.
    ///   - zoneLabelsOnPods: put `topology.kubernetes.io/zone` on pods too (it is always on the nodes).
    public init(
        name: String, index: Int, namespace: String = "kafka", brokers: [BrokerView], epochSeconds: Double,
        image: String = "apache/kafka:4.1.0", seed: UInt64 = 1, zoneLabelsOnPods: Bool = true,
        strimziPoolLabels: Bool = false
    ) {
        self.name = name
        self.index = index
        self.namespace = namespace
        self.epochSeconds = epochSeconds
        self.image = image
        self.zoneLabelsOnPods = zoneLabelsOnPods
        self.strimziPoolLabels = strimziPoolLabels
        rng = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
        let live = brokers.filter { !$0.removed }.sorted { $0.id < $1.id }
        for rack in Set(live.compactMap(\.rack)).sorted() {
            let nodeName = Self.nodeName(cluster: name, rack: rack)
            var meta = ObjectMeta(
                name: nodeName, uid: nextUid(), resourceVersion: "1",
                labels: [KafkaPodLabels.zone: rack, "kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux"])
            meta.creationTimestamp = timestamp(0)
            nodes[nodeName] = Node(
                metadata: meta,
                status: .init(conditions: [PodCondition(type: "Ready", status: "True", reason: "KubeletReady")]))
        }
        let groups: [(String, [BrokerView], Set<NodeRole>)] = [
            ("kafka", live.filter { $0.roles.contains(.broker) }, [.broker]),
            ("kafka-controller", live.filter { $0.roles.isControllerOnly }, [.controller]),
        ]
        for (setName, members, roles) in groups where !members.isEmpty {
            var set = SimStatefulSet(
                object: makeStatefulSet(setName, replicas: members.count, now: 0), roles: roles,
                racks: Set(members.compactMap(\.rack)).sorted())
            for (ordinal, b) in members.enumerated() { set.brokers[ordinal] = b.id }
            statefulSets[setName] = set
            budgets[setName] = makeBudget(setName)
            for (ordinal, b) in members.enumerated() {
                var pod = makePod(set: setName, ordinal: ordinal, broker: b, now: 0)
                // Pods of brokers that already run start out running.
                pod.stage = .started(at: 0)
                pods[pod.name] = pod
                creations[b.id, default: 0] += 1
            }
        }
        let view = Dictionary(live.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for name in pods.keys {
            pods[name]!.object.status = status(of: pods[name]!, broker: view[pods[name]!.broker], now: 0)
        }
        for name in statefulSets.keys { statefulSets[name]!.object.status = setStatus(name) }
        for name in budgets.keys { budgets[name]!.status = budgetStatus(budgets[name]!) }
    }

    static func nodeName(cluster: String, rack: String) -> String { "\(cluster)-\(rack)" }

    // MARK: Faults

    /// Holds the broker's pod whenever it (re)starts, until cleared with nil.
    public mutating func setFault(_ fault: PodFault?, broker: Int32) { faults[broker] = fault }

    // MARK: API writes

    /// DELETE of a pod: checks the preconditions, marks the pod terminating and stops its broker.
    public mutating func deletePod(
        _ podName: String, options: DeleteOptions?, brokers: [Int32: BrokerView], now: Int64
    ) -> Result<(Pod, [KubeEffect]), Status> {
        guard var pod = pods[podName] else { return .failure(Self.notFound("pods", podName)) }
        if let failure = Self.preconditionFailure(options?.preconditions, pod.object.metadata, kind: "Pod") {
            return .failure(failure)
        }
        let grace = max(0, options?.gracePeriodSeconds ?? 30)
        var effects: [KubeEffect] = []
        if pod.deleting == nil {
            pod.deleting = SimPod.Deleting(since: now, graceMs: grace * 1000)
            pod.object.metadata.deletionTimestamp = timestamp(now + grace * 1000)
            pod.object.metadata.deletionGracePeriodSeconds = grace
            deletions[pod.broker, default: 0] += 1
            if case .started = pod.stage, let b = brokers[pod.broker], b.state != .stopped, !b.removed {
                effects.append(grace == 0 ? .kill(pod.broker) : .stop(pod.broker))
                if grace == 0 { pod.deleting!.killed = true }
            }
        } else if grace == 0, !(pod.deleting!.killed) {
            pod.deleting!.killed = true
            if let b = brokers[pod.broker], b.state != .stopped { effects.append(.kill(pod.broker)) }
        }
        pod.object.status = status(of: pod, broker: brokers[pod.broker], now: now)
        pods[podName] = pod
        publishPod(podName, .modified)
        return .success((pods[podName]!.object, effects))
    }

    /// POST of an eviction: a DELETE that the PodDisruptionBudgets covering the pod may refuse (429) while the
    /// pod is healthy and they allow no disruption.
    public mutating func evictPod(
        _ podName: String, eviction: Eviction, brokers: [Int32: BrokerView], now: Int64
    ) -> Result<[KubeEffect], Status> {
        guard let pod = pods[podName] else { return .failure(Self.notFound("pods", podName)) }
        if let failure = Self.preconditionFailure(
            eviction.deleteOptions?.preconditions, pod.object.metadata, kind: "Pod")
        {
            return .failure(failure)
        }
        if pod.deleting == nil && pod.object.isReady {
            for budget in budgets.values.sorted(by: { $0.metadata.name! < $1.metadata.name! })
            where LabelSelector(matchLabels: budget.spec.selector?.matchLabels ?? [:]).matches(
                pod.object.metadata.labels)
            {
                let s = budgetStatus(budget)
                if s.disruptionsAllowed <= 0 {
                    var status = Status(
                        failure: 429, reason: "TooManyRequests",
                        message: "Cannot evict pod as it would violate the pod's disruption budget.",
                        details: .init(
                            name: podName, group: "policy", kind: "poddisruptionbudgets",
                            causes: [
                                .init(
                                    reason: "DisruptionBudget",
                                    message: "The disruption budget \(budget.metadata.name!) needs "
                                        + "\(s.desiredHealthy) healthy pods and has \(s.currentHealthy) currently")
                            ]))
                    status.details?.name = podName
                    return .failure(status)
                }
            }
        }
        return deletePod(podName, options: eviction.deleteOptions, brokers: brokers, now: now).map { $0.1 }
    }

    /// Sets a StatefulSet's desired replicas (the scale subresource); `resourceVersion` (PUT) must match when given.
    public mutating func scale(
        _ setName: String, replicas: Int, resourceVersion expected: String?, now: Int64
    ) -> Result<Scale, Status> {
        guard var set = statefulSets[setName] else {
            return .failure(Self.notFound("statefulsets", setName, group: "apps"))
        }
        guard replicas >= 0 else {
            return .failure(
                Status(
                    failure: 422, reason: "Invalid",
                    message: "StatefulSet.apps \"\(setName)\" is invalid: spec.replicas: Invalid value: \(replicas): "
                        + "must be greater than or equal to 0",
                    details: .init(
                        name: setName, group: "apps", kind: "StatefulSet",
                        causes: [
                            .init(
                                reason: "FieldValueInvalid", message: "must be greater than or equal to 0",
                                field: "spec.replicas")
                        ])))
        }
        if let expected, !expected.isEmpty, expected != set.object.metadata.resourceVersion {
            return .failure(
                Status(
                    failure: 409, reason: "Conflict",
                    message: "Operation cannot be fulfilled on statefulsets.apps \"\(setName)\": the object has been "
                        + "modified; please apply your changes to the latest version and try again",
                    details: .init(name: setName, group: "apps", kind: "statefulsets")))
        }
        if set.object.spec.replicas != replicas {
            set.object.spec.replicas = replicas
            set.object.metadata.generation = (set.object.metadata.generation ?? 1) + 1
            statefulSets[setName] = set
            statefulSets[setName]!.object.status = setStatus(setName)
            publishSet(setName)
        }
        return .success(scaleObject(setName)!)
    }

    /// A broker the simulator added for a StatefulSet's new ordinal: its pod is created now.
    public mutating func attach(
        broker id: Int32, set setName: String, ordinal: Int, brokers: [Int32: BrokerView], now: Int64
    ) {
        guard var set = statefulSets[setName] else { return }
        set.brokers[ordinal] = id
        set.pending.remove(ordinal)
        statefulSets[setName] = set
        createPodIfWanted(set: setName, ordinal: ordinal, brokers: brokers, now: now)
    }

    /// The simulator could not add a broker for this ordinal: try again at the next reconcile.
    public mutating func addFailed(set setName: String, ordinal: Int) {
        statefulSets[setName]?.pending.remove(ordinal)
    }

    // MARK: Reconcile (kubelet and controllers)

    /// Moves every pod, StatefulSet and budget on as the brokers' states allow; returns what the brokers must do.
    public mutating func reconcile(brokers: [Int32: BrokerView], now: Int64) -> [KubeEffect] {
        var effects: [KubeEffect] = []
        for setName in statefulSets.keys.sorted() {
            guard var set = statefulSets[setName] else { continue }
            let wanted = set.object.spec.replicas ?? 1
            // Brokers removed from the Kafka cluster are forgotten: a later scale-up makes a new one.
            for (ordinal, id) in set.brokers where brokers[id]?.removed ?? true {
                if pods.values.contains(where: { $0.set == setName && $0.ordinal == ordinal }) { continue }
                set.brokers[ordinal] = nil
            }
            statefulSets[setName] = set
            for ordinal in 0..<wanted where set.brokers[ordinal] == nil && !set.pending.contains(ordinal) {
                statefulSets[setName]!.pending.insert(ordinal)
                effects.append(
                    .addBroker(set: setName, ordinal: ordinal, rack: rackForNewBroker(setName), roles: set.roles))
            }
            for ordinal in 0..<wanted where set.brokers[ordinal] != nil {
                createPodIfWanted(set: setName, ordinal: ordinal, brokers: brokers, now: now)
            }
            // Scale-down: every pod at or above the wanted size is deleted (podManagementPolicy Parallel).
            for name in pods.keys.sorted()
            where pods[name]!.set == setName && pods[name]!.ordinal >= wanted
                && pods[name]!.deleting == nil
            {
                if case .success(let (_, e)) = deletePod(name, options: nil, brokers: brokers, now: now) {
                    effects += e
                }
            }
        }
        for name in pods.keys.sorted() {
            effects += reconcilePod(name, brokers: brokers, now: now)
        }
        for setName in statefulSets.keys.sorted() {
            let s = setStatus(setName)
            if s != statefulSets[setName]!.object.status {
                statefulSets[setName]!.object.status = s
                publishSet(setName)
            }
        }
        for name in budgets.keys.sorted() {
            let s = budgetStatus(budgets[name]!)
            if s != budgets[name]!.status {
                budgets[name]!.status = s
                resourceVersion += 1
                budgets[name]!.metadata.resourceVersion = String(resourceVersion)
                record(.modified, .podDisruptionBudget(budgets[name]!))
            }
        }
        return effects
    }

    mutating func reconcilePod(_ name: String, brokers: [Int32: BrokerView], now: Int64) -> [KubeEffect] {
        guard var pod = pods[name] else { return [] }
        var effects: [KubeEffect] = []
        let b = brokers[pod.broker]
        if let deleting = pod.deleting {
            let down = b == nil || b!.removed || b!.state == .stopped
            let started: Bool
            if case .started = pod.stage { started = true } else { started = false }
            if down || !started {
                pods[name] = nil
                var gone = pod.object
                resourceVersion += 1
                gone.metadata.resourceVersion = String(resourceVersion)
                record(.deleted, .pod(gone))
                if let set = statefulSets[pod.set] {
                    if pod.ordinal < (set.object.spec.replicas ?? 1) {
                        createPodIfWanted(set: pod.set, ordinal: pod.ordinal, brokers: brokers, now: now)
                    } else if let b, !b.removed {
                        effects.append(.removeBroker(b.id))
                    }
                }
                return effects
            }
            if !deleting.killed && now - deleting.since >= deleting.graceMs {
                pod.deleting!.killed = true
                effects.append(.kill(pod.broker))
            }
        } else {
            let fault = faults[pod.broker]
            switch pod.stage {
            case .scheduling:
                if let fault {
                    if fault != .unschedulable { pod.stage = .stuck(fault) }
                } else {
                    if let b, b.state == .stopped, !b.removed { effects.append(.start(pod.broker)) }
                    pod.stage = .started(at: now)
                }
            case .stuck(let held):
                if fault != held {
                    pod.stage = .scheduling
                    pods[name] = pod
                    return reconcilePod(name, brokers: brokers, now: now)
                }
            case .backoff(let until):
                if let fault, fault == .crashLoopBackOff {
                    break
                } else if now >= until {
                    if let b, b.state == .stopped, !b.removed { effects.append(.start(pod.broker)) }
                    pod.stage = .started(at: now)
                }
            case .started:
                if let b, !b.removed {
                    if b.state == .running {
                        pod.crashes = 0
                    } else if b.state == .stopped {
                        // The container exited: the kubelet restarts it, backing off while it keeps failing.
                        pod.restarts += 1
                        pod.crashes += 1
                        pod.lastExitMs = now
                        if fault == .crashLoopBackOff {
                            pod.stage = .stuck(.crashLoopBackOff)
                        } else if pod.crashes == 1 {
                            effects.append(.start(pod.broker))
                            pod.stage = .started(at: now)
                        } else {
                            pod.stage = .backoff(until: now + min(10_000 << Int64(min(pod.crashes - 2, 5)), 300_000))
                        }
                    }
                }
            }
        }
        let s = status(of: pod, broker: b, now: now)
        if s != pod.object.status {
            pod.object.status = s
            pods[name] = pod
            publishPod(name, .modified)
        } else {
            pods[name] = pod
        }
        return effects
    }

    mutating func createPodIfWanted(set setName: String, ordinal: Int, brokers: [Int32: BrokerView], now: Int64) {
        guard let set = statefulSets[setName], ordinal < (set.object.spec.replicas ?? 1), let id = set.brokers[ordinal]
        else { return }
        let podName = "\(setName)-\(ordinal)"
        guard pods[podName] == nil else { return }
        let b =
            brokers[id] ?? BrokerView(id: id, state: .stopped, removed: false, rack: set.racks.first, roles: set.roles)
        var pod = makePod(set: setName, ordinal: ordinal, broker: b, now: now)
        pod.object.status = status(of: pod, broker: b, now: now)
        pods[podName] = pod
        creations[id, default: 0] += 1
        publishPod(podName, .added)
    }

    func rackForNewBroker(_ setName: String) -> String? {
        guard let set = statefulSets[setName], !set.racks.isEmpty else { return nil }
        var count: [String: Int] = [:]
        for pod in pods.values where pod.set == setName { if let r = pod.rack { count[r, default: 0] += 1 } }
        return set.racks.min { (count[$0] ?? 0, $0) < (count[$1] ?? 0, $1) }
    }

    // MARK: Objects

    mutating func nextUid() -> String {
        let b = rng.uuid()
        let hex = b.map { String($0, radix: 16).leftPadded(2) }.joined()
        let h = Array(hex)
        return String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-"
            + String(h[20..<32])
    }

    /// Gives the pod the next resource version and records the change for watches.
    mutating func publishPod(_ name: String, _ kind: KubeEvent.Kind) {
        resourceVersion += 1
        pods[name]!.object.metadata.resourceVersion = String(resourceVersion)
        record(kind, .pod(pods[name]!.object))
    }

    mutating func publishSet(_ name: String) {
        resourceVersion += 1
        statefulSets[name]!.object.metadata.resourceVersion = String(resourceVersion)
        record(.modified, .statefulSet(statefulSets[name]!.object))
    }

    mutating func record(_ kind: KubeEvent.Kind, _ object: KubeObject) {
        events.append(KubeEvent(resourceVersion: resourceVersion, kind: kind, object: object))
        if events.count > Self.maxEvents {
            let drop = events.count - Self.maxEvents * 3 / 4
            forgottenThrough = events[drop - 1].resourceVersion
            events.removeFirst(drop)
        }
    }

    func revision(_ setName: String) -> String { "\(setName)-5d8c9b7f4" }

    mutating func makeStatefulSet(_ setName: String, replicas: Int, now: Int64) -> StatefulSet {
        let selector = [KafkaPodLabels.nameKey: KafkaPodLabels.nameValue, "app.kubernetes.io/instance": setName]
        var meta = ObjectMeta(
            name: setName, namespace: namespace, uid: nextUid(), resourceVersion: "1",
            labels: selector)
        meta.generation = 1
        meta.creationTimestamp = timestamp(now)
        return StatefulSet(
            metadata: meta,
            spec: .init(
                replicas: replicas, selector: LabelSelectorSpec(matchLabels: selector),
                serviceName: "\(setName)-headless",
                template: PodTemplateSpec(
                    metadata: ObjectMeta(labels: selector),
                    spec: PodSpec(containers: [Container(name: "kafka", image: image)]))),
            status: nil)
    }

    mutating func makeBudget(_ setName: String) -> PodDisruptionBudget {
        var meta = ObjectMeta(name: setName, namespace: namespace, uid: nextUid(), resourceVersion: "1")
        meta.generation = 1
        meta.creationTimestamp = timestamp(0)
        return PodDisruptionBudget(
            metadata: meta,
            spec: .init(
                maxUnavailable: .int(1),
                selector: statefulSets[setName]?.object.spec.selector ?? LabelSelectorSpec(matchLabels: [:])),
            status: nil)
    }

    mutating func makePod(set setName: String, ordinal: Int, broker b: BrokerView, now: Int64) -> SimPod {
        let podName = "\(setName)-\(ordinal)"
        let set = statefulSets[setName]
        var labels = set?.object.spec.selector.matchLabels ?? [:]
        labels["statefulset.kubernetes.io/pod-name"] = podName
        labels[KafkaPodLabels.podIndex] = String(ordinal)
        labels[KafkaPodLabels.revisionHash] = revision(setName)
        labels[KafkaPodLabels.nodeId] = String(b.id)
        labels["app.kubernetes.io/component"] = b.roles.contains(.broker) ? "broker" : "controller"
        if b.roles.contains(.broker) { labels[KafkaPodLabels.brokerRole] = "true" }
        if b.roles.contains(.controller) { labels[KafkaPodLabels.controllerRole] = "true" }
        if zoneLabelsOnPods, let rack = b.rack { labels[KafkaPodLabels.zone] = rack }
        if strimziPoolLabels { labels[KafkaPodLabels.strimziPoolName] = setName }
        var meta = ObjectMeta(name: podName, namespace: namespace, uid: nextUid(), labels: labels)
        meta.creationTimestamp = timestamp(now)
        if let set {
            meta.ownerReferences = [
                OwnerReference(apiVersion: "apps/v1", kind: "StatefulSet", name: setName, uid: set.object.metadata.uid!)
            ]
        }
        var spec = PodSpec(
            nodeName: b.rack.map { Self.nodeName(cluster: name, rack: $0) },
            containers: [Container(name: "kafka", image: image)])
        spec.hostname = podName
        spec.subdomain = "\(setName)-headless"
        spec.restartPolicy = "Always"
        spec.terminationGracePeriodSeconds = 30
        return SimPod(
            object: Pod(metadata: meta, spec: spec, status: nil), broker: b.id, set: setName, ordinal: ordinal,
            rack: b.rack, stage: .scheduling)
    }

    func status(of pod: SimPod, broker b: BrokerView?, now: Int64) -> PodStatus {
        let created = pod.object.metadata.creationTimestamp
        let ip = "10.\(index + 1).\(pod.ordinal / 250).\(pod.ordinal % 250 + 2)"
        let hostIP = "192.168.\(index + 1).\((pod.rack.map { Int($0.unicodeScalars.last!.value) % 250 } ?? 0) + 1)"
        func cond(_ type: String, _ ok: Bool, _ reason: String? = nil, _ message: String? = nil) -> PodCondition {
            PodCondition(
                type: type, status: ok ? "True" : "False", reason: ok ? nil : reason, message: ok ? nil : message,
                at: created)
        }
        func container(ready: Bool, started: Bool, state: ContainerState) -> ContainerStatus {
            var c = ContainerStatus(
                name: "kafka", ready: ready, restartCount: pod.restarts, image: image, started: started, state: state,
                lastState: pod.restarts > 0
                    ? ContainerState(
                        terminated: .init(
                            exitCode: 1, reason: "Error", finishedAt: pod.lastExitMs.map { timestamp($0) }))
                    : nil)
            if started || pod.restarts > 0 {
                c.containerID = "containerd://\(pod.object.metadata.uid ?? "")-\(pod.restarts)"
            }
            return c
        }
        var s = PodStatus()
        switch pod.stage {
        case .scheduling where faults[pod.broker] == .unschedulable || pod.object.spec?.nodeName == nil:
            s.phase = "Pending"
            s.conditions = [
                cond(
                    "PodScheduled", false, "Unschedulable",
                    "0/\(max(nodes.count, 1)) nodes are available: \(max(nodes.count, 1)) Insufficient memory. "
                        + "preemption: 0/\(max(nodes.count, 1)) nodes are available: "
                        + "\(max(nodes.count, 1)) No preemption victims found for incoming pod.")
            ]
            return s
        case .scheduling:
            s.phase = "Pending"
            s.conditions = [
                cond("PodScheduled", true), cond("Initialized", true),
                cond("ContainersReady", false, "ContainersNotReady"),
                cond("Ready", false, "ContainersNotReady"),
            ]
            s.containerStatuses = [
                container(ready: false, started: false, state: .init(waiting: .init(reason: "ContainerCreating")))
            ]
        case .stuck(let fault):
            let waiting: ContainerState.Waiting
            switch fault {
            case .imagePullBackOff:
                s.phase = "Pending"
                waiting = .init(reason: "ImagePullBackOff", message: "Back-off pulling image \"\(image)\"")
            default:
                s.phase = "Running"
                waiting = .init(
                    reason: "CrashLoopBackOff",
                    message:
                        "back-off 10s restarting failed container=kafka pod=\(pod.name)_\(namespace)(\(pod.object.metadata.uid ?? ""))"
                )
            }
            s.conditions = [
                cond("PodScheduled", true), cond("Initialized", true),
                cond("ContainersReady", false, "ContainersNotReady", "containers with unready status: [kafka]"),
                cond("Ready", false, "ContainersNotReady", "containers with unready status: [kafka]"),
            ]
            s.containerStatuses = [container(ready: false, started: false, state: .init(waiting: waiting))]
        case .backoff:
            s.phase = "Running"
            s.conditions = [
                cond("PodScheduled", true), cond("Initialized", true),
                cond("ContainersReady", false, "ContainersNotReady", "containers with unready status: [kafka]"),
                cond("Ready", false, "ContainersNotReady", "containers with unready status: [kafka]"),
            ]
            s.containerStatuses = [
                container(
                    ready: false, started: false,
                    state: .init(
                        waiting: .init(
                            reason: "CrashLoopBackOff",
                            message: "back-off \(min(10 << max(pod.crashes - 2, 0), 300))s restarting failed "
                                + "container=kafka pod=\(pod.name)_\(namespace)(\(pod.object.metadata.uid ?? ""))")))
            ]
        case .started(let at):
            let state = b?.state ?? .stopped
            let ready = state == .running && !(b?.removed ?? true)
            s.phase = "Running"
            s.conditions = [
                cond("PodScheduled", true), cond("Initialized", true),
                cond("ContainersReady", ready, "ContainersNotReady", "containers with unready status: [kafka]"),
                cond("Ready", ready, "ContainersNotReady", "containers with unready status: [kafka]"),
            ]
            let containerState: ContainerState =
                state == .stopped
                ? .init(
                    terminated: .init(
                        exitCode: pod.deleting == nil ? 1 : 143, reason: pod.deleting == nil ? "Error" : "Completed"))
                : .init(running: .init(startedAt: timestamp(at)))
            s.containerStatuses = [container(ready: ready, started: state != .stopped, state: containerState)]
            s.startTime = created
        }
        s.podIP = ip
        s.hostIP = hostIP
        s.startTime = created
        return s
    }

    func setStatus(_ setName: String) -> StatefulSet.Status? {
        guard let set = statefulSets[setName] else { return nil }
        let mine = pods.values.filter { $0.set == setName }
        var s = StatefulSet.Status(replicas: mine.count)
        let ready = mine.filter { $0.deleting == nil && $0.object.isReady }.count
        s.readyReplicas = ready
        s.availableReplicas = ready
        s.currentReplicas = mine.count
        s.updatedReplicas = mine.count
        s.observedGeneration = set.object.metadata.generation
        s.currentRevision = revision(setName)
        s.updateRevision = revision(setName)
        return s
    }

    func budgetStatus(_ budget: PodDisruptionBudget) -> PodDisruptionBudget.Status {
        let selector = LabelSelector(matchLabels: budget.spec.selector?.matchLabels ?? [:])
        let covered = pods.values.filter { selector.matches($0.object.metadata.labels) }
        let expected = statefulSets.values.filter {
            selector.matches($0.object.spec.template.metadata?.labels)
        }.reduce(0) { $0 + ($1.object.spec.replicas ?? 1) }
        let healthy = covered.filter { $0.deleting == nil && $0.object.isReady }.count
        var desired = expected
        if let max = budget.spec.maxUnavailable?.value(of: expected) {
            desired = Swift.max(0, expected - max)
        } else if let min = budget.spec.minAvailable?.value(of: expected) {
            desired = min
        }
        var s = PodDisruptionBudget.Status(
            disruptionsAllowed: Swift.max(0, healthy - desired), currentHealthy: healthy, desiredHealthy: desired,
            expectedPods: expected)
        s.observedGeneration = budget.metadata.generation
        return s
    }

    public func scaleObject(_ setName: String) -> Scale? {
        guard let set = statefulSets[setName] else { return nil }
        var meta = ObjectMeta(
            name: setName, namespace: namespace, uid: set.object.metadata.uid,
            resourceVersion: set.object.metadata.resourceVersion)
        meta.creationTimestamp = set.object.metadata.creationTimestamp
        return Scale(
            metadata: meta, spec: .init(replicas: set.object.spec.replicas),
            status: .init(
                replicas: set.object.status?.replicas ?? 0,
                selector: LabelSelector(matchLabels: set.object.spec.selector.matchLabels ?? [:]).description))
    }

    /// RFC 3339 (UTC, seconds) of cluster time `ms`.
    public func timestamp(_ ms: Int64) -> String { RFC3339.format(epochSeconds: epochSeconds + Double(ms) / 1000) }

    static func notFound(_ resource: String, _ name: String, group: String? = nil) -> Status {
        let qualified = group.map { "\(resource).\($0)" } ?? resource
        return Status(
            failure: 404, reason: "NotFound", message: "\(qualified) \"\(name)\" not found",
            details: .init(name: name, group: group, kind: resource))
    }

    static func preconditionFailure(_ p: DeleteOptions.Preconditions?, _ meta: ObjectMeta, kind: String) -> Status? {
        guard let p else { return nil }
        let name = meta.name ?? ""
        if let uid = p.uid, uid != meta.uid {
            return Status(
                failure: 409, reason: "Conflict",
                message:
                    "Operation cannot be fulfilled on \(kind) \"\(name)\": Precondition failed: UID in precondition: "
                    + "\(uid), UID in object meta: \(meta.uid ?? "")",
                details: .init(name: name, kind: kind.lowercased() + "s"))
        }
        if let rv = p.resourceVersion, rv != meta.resourceVersion {
            return Status(
                failure: 409, reason: "Conflict",
                message:
                    "Operation cannot be fulfilled on \(kind) \"\(name)\": Precondition failed: ResourceVersion in "
                    + "precondition: \(rv), ResourceVersion in object meta: \(meta.resourceVersion ?? "")",
                details: .init(name: name, kind: kind.lowercased() + "s"))
        }
        return nil
    }
}

/// A pod of the simulation: the object the API shows, and where its kubelet is.
public struct SimPod: Sendable, Hashable {
    public var object: Pod
    public var broker: Int32
    public var set: String
    public var ordinal: Int
    public var rack: String?
    var stage: Stage
    public var restarts = 0
    /// Exits since the container last ran the broker to `running`.
    var crashes = 0
    var lastExitMs: Int64?
    var deleting: Deleting?

    public var name: String { object.metadata.name ?? "" }
    public var uid: String { object.metadata.uid ?? "" }
    public var isTerminating: Bool { deleting != nil }

    enum Stage: Sendable, Hashable {
        /// Created, not yet started (or held by `Unschedulable`).
        case scheduling
        /// Held by an injected fault.
        case stuck(PodFault)
        /// The kubelet waits before restarting the container.
        case backoff(until: Int64)
        /// The container runs the broker (which may itself be starting, running or exiting).
        case started(at: Int64)
    }

    struct Deleting: Sendable, Hashable {
        var since: Int64
        var graceMs: Int64
        var killed = false
    }

    init(object: Pod, broker: Int32, set: String, ordinal: Int, rack: String?, stage: Stage) {
        self.object = object
        self.broker = broker
        self.set = set
        self.ordinal = ordinal
        self.rack = rack
        self.stage = stage
    }
}

public struct SimStatefulSet: Sendable, Hashable {
    public var object: StatefulSet
    /// The broker of each ordinal (kept across pod replacements, as a PersistentVolumeClaim keeps a node's data).
    public var brokers: [Int: Int32] = [:]
    /// Ordinals whose broker the simulator is adding.
    var pending: Set<Int> = []
    public var roles: Set<NodeRole>
    /// The racks this StatefulSet's pods are spread over (new brokers go to the emptiest).
    var racks: [String]

    init(object: StatefulSet, roles: Set<NodeRole>, racks: [String]) {
        self.object = object
        self.roles = roles
        self.racks = racks
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

/// RFC 3339 timestamps without Foundation's formatters (pure, thread-safe).
enum RFC3339 {
    static func format(epochSeconds: Double) -> String {
        let total = Int64(epochSeconds.rounded(.down))
        let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let secs = total - days * 86_400
        // Howard Hinnant's civil-from-days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        func two(_ v: Int64) -> String { String(v).leftPadded(2) }
        return
            "\(String(y).leftPadded(4))-\(two(m))-\(two(d))T\(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60))Z"
    }

    /// Seconds since 1970 of `YYYY-MM-DDTHH:MM:SSZ` (what `format` writes); nil for anything else.
    static func parse(_ text: String) -> Double? {
        let u = Array(text.utf8)
        guard u.count == 20, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"),
            u[19] == UInt8(ascii: "Z")
        else { return nil }
        func num(_ r: Range<Int>) -> Int64? { Int64(String(decoding: u[r], as: UTF8.self)) }
        guard let y0 = num(0..<4), let m = num(5..<7), let d = num(8..<10), let hh = num(11..<13),
            let mm = num(14..<16), let ss = num(17..<19)
        else { return nil }
        // Howard Hinnant's days-from-civil.
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86_400 + hh * 3600 + mm * 60 + ss)
    }
}
