public import Agent
public import AgentContract
import Foundation
import KafkaModel
import KubernetesAPI
public import Logging
import Synchronization

/// Restarts Kafka pods and scales their pools through the Kubernetes API (`ballast agent --driver kubernetes`).
///
/// - Nodes: the pods in the namespace matching the selector; node id, roles and zone from labels (`PodIdentity`),
///   or the zone from the pod's Kubernetes node (`zoneFromNode`, which needs `get nodes`).
/// - Restart: DELETE of the pod with its uid as precondition (as Strimzi's KafkaRoller does), or with `evict` an
///   eviction (PodDisruptionBudgets honoured: a 429 is waited out, retried every `evictionRetry`); then a watch until
///   a pod with a new uid is Ready. A new pod stuck (CrashLoopBackOff, ImagePullBackOff, Unschedulable, ...) fails
///   the restart at once with the reason; a 409 (the pod was replaced meanwhile) fails it without deleting anything.
/// - Scale: a merge patch of the pool's scale subresource (a StatefulSet, a Strimzi KafkaNodePool or any resource
///   with one), then a watch until exactly that many pods of the pool's selector are Ready.
public final class KubernetesDriver: NodeDriver {
    public struct Configuration: Sendable {
        /// Default: the kubeconfig context's or the service account's namespace, else `default`.
        public var namespace: String?
        public var selector: String = KafkaPodLabels.defaultSelector
        public var nodeId: NodeIdSource = .auto
        public var zoneLabel: String = KafkaPodLabels.zone
        /// Read the zone from the pod's Kubernetes node's `zoneLabel` (needs `get nodes`, a ClusterRole).
        public var zoneFromNode = false
        /// The pools to scale (`statefulsets/NAME`, `kafkanodepools.kafka.strimzi.io/NAME`, `RESOURCE.GROUP/NAME`);
        /// empty: the StatefulSets (or Strimzi pools) the selected pods belong to.
        public var pools: [String] = []
        /// Restart by eviction instead of DELETE.
        public var evict = false
        public var restartTimeout: Duration = .seconds(600)
        public var scaleTimeout: Duration = .seconds(900)
        /// How long to wait before asking again after an eviction refused by a PodDisruptionBudget (429).
        public var evictionRetry: Duration = .seconds(5)
        /// How long to wait before asking again after the API server could not be reached mid-wait.
        public var retryPause: Duration = .seconds(1)

        public init() {}
    }

    /// A scalable resource: `statefulsets.apps/kafka` is group apps, resource statefulsets, name kafka.
    public struct PoolResource: Sendable, Hashable, CustomStringConvertible {
        public var group: String
        public var resource: String
        public var name: String

        /// `statefulsets/NAME`, `statefulsets.apps/NAME`, `kafkanodepools.kafka.strimzi.io/NAME`, `RESOURCE.GROUP/NAME`.
        public init(parsing text: String) throws {
            let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw AgentError("--pool-resource \(text) is not RESOURCE/NAME (e.g. statefulsets/kafka)")
            }
            name = parts[1]
            if let dot = parts[0].firstIndex(of: ".") {
                resource = String(parts[0][..<dot])
                group = String(parts[0][parts[0].index(after: dot)...])
            } else {
                resource = parts[0]
                group = parts[0] == "statefulsets" ? "apps" : ""
            }
        }

        public var description: String { group.isEmpty ? "\(resource)/\(name)" : "\(resource).\(group)/\(name)" }
    }

    public let client: KubernetesClient
    public let configuration: Configuration
    public let namespace: String
    let selector: LabelSelector
    let configuredPools: [PoolResource]
    let logger: Logger
    /// Kubernetes node → zone, and API group → preferred version, learnt once.
    let zones = Mutex<[String: String]>([:])
    let versions = Mutex<[String: String]>(["apps": "v1"])

    /// Checks the selector and pool names (throwing `AgentError`, so `ballast agent` exits 2 naming the flag).
    public init(client: KubernetesClient, configuration: Configuration, logger: Logger) throws {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        namespace = configuration.namespace ?? client.connection.namespace ?? "default"
        do {
            selector = try LabelSelector(parsing: configuration.selector)
        } catch {
            throw AgentError("--selector: \(error)")
        }
        configuredPools = try configuration.pools.map { try PoolResource(parsing: $0) }
        var seen = Set<String>()
        for p in configuredPools where !seen.insert(p.name).inserted {
            throw AgentError("--pool-resource names the pool \(p.name) twice")
        }
    }

    var podsPath: String { KubernetesClient.path(group: "", version: "v1", namespace: namespace, resource: "pods") }

    // MARK: Nodes

    func pods(_ selector: LabelSelector) async throws -> ObjectList<Pod> {
        try await client.get(ObjectList<Pod>.self, podsPath, query: [("labelSelector", selector.description)])
    }

    /// The pod of every node (a terminating pod only when its node has no other), by node id.
    func podsByNode() async throws -> [Int32: Pod] {
        var byNode: [Int32: Pod] = [:]
        for pod in try await pods(selector).items {
            let id = try configuration.nodeId.nodeId(of: pod).get()
            if let other = byNode[id] {
                if other.isTerminating && !pod.isTerminating {
                    byNode[id] = pod
                } else if !other.isTerminating && !pod.isTerminating {
                    throw AgentError(
                        "pods \(other.metadata.name ?? "?") and \(pod.metadata.name ?? "?") both run node \(id) in "
                            + "namespace \(namespace); check --selector and --node-id")
                }
            } else {
                byNode[id] = pod
            }
        }
        return byNode
    }

    public func nodes() async throws -> [AgentNode] {
        var out: [AgentNode] = []
        for (id, pod) in try await podsByNode().sorted(by: { $0.key < $1.key }) {
            out.append(
                AgentNode(
                    id: id, roles: pod.kafkaRoles, pod: pod.metadata.name, ready: pod.isReady && !pod.isTerminating,
                    zone: try await zone(of: pod), revision: pod.revision))
        }
        return out
    }

    func zone(of pod: Pod) async throws -> String? {
        let onPod = pod.metadata.labels?[configuration.zoneLabel]
        guard configuration.zoneFromNode, let node = pod.spec?.nodeName else { return onPod }
        if let known = zones.withLock({ $0[node] }) { return known }
        let object = try await client.get(
            Node.self, KubernetesClient.path(group: "", version: "v1", namespace: nil, resource: "nodes", name: node))
        guard let zone = object.metadata.labels?[configuration.zoneLabel] else { return onPod }
        zones.withLock { $0[node] = zone }
        return zone
    }

    // MARK: Restart

    public func restart(node: Int32) async throws {
        let deadline = ContinuousClock.now + configuration.restartTimeout
        guard let pod = try await podsByNode()[node], let name = pod.metadata.name, let uid = pod.metadata.uid else {
            throw AgentError("no pod in namespace \(namespace) matching \(selector) runs node \(node)")
        }
        if pod.isTerminating {
            throw AgentError(
                "pod \(name) of node \(node) is already being deleted (not by this restart); the agent leaves it to "
                    + "whoever deletes it")
        }
        var log = logger
        log[metadataKey: LogKey.pod] = "\(namespace)/\(name)"
        log[metadataKey: LogKey.brokerId] = "\(node)"
        let preconditions = DeleteOptions.Preconditions(uid: uid)
        if configuration.evict {
            try await evict(name, node: node, preconditions: preconditions, until: deadline, logger: log)
        } else {
            do {
                _ = try await client.send(
                    .DELETE,
                    KubernetesClient.path(group: "", version: "v1", namespace: namespace, resource: "pods", name: name),
                    body: try JSONEncoder().encode(DeleteOptions(preconditions: preconditions)))
            } catch let error as KubernetesError {
                throw Self.deleteFailure(error, pod: name, node: node)
            }
        }
        log.info("pod deleted; waiting for its replacement to be ready", metadata: ["kubernetes.pod.uid": "\(uid)"])
        try await waitForPods(
            query: [("fieldSelector", "metadata.name=\(name)")], until: deadline,
            timeout: "pod \(name) of node \(node) did not come back Ready within \(configuration.restartTimeout)"
        ) { pods in
            guard let current = pods[name], current.metadata.uid != uid else { return false }
            if let stuck = current.stuckReason {
                throw AgentError(
                    "the new pod \(name) of node \(node) is stuck: \(stuck); the restart failed (kubectl describe pod "
                        + "\(name) -n \(namespace))")
            }
            return current.isReady && !current.isTerminating
        }
    }

    static func deleteFailure(_ error: KubernetesError, pod: String, node: Int32) -> any Error {
        switch error.statusCode {
        case 409:
            return AgentError(
                "pod \(pod) of node \(node) was replaced by someone else before the agent deleted it (its uid changed: "
                    + "\(error.status?.message ?? error.message)); nothing was deleted")
        case 404:
            return AgentError("pod \(pod) of node \(node) disappeared before the agent deleted it; nothing was deleted")
        default:
            return error
        }
    }

    func evict(
        _ name: String, node: Int32, preconditions: DeleteOptions.Preconditions,
        until deadline: ContinuousClock.Instant,
        logger: Logger
    ) async throws {
        let path = KubernetesClient.path(
            group: "", version: "v1", namespace: namespace, resource: "pods", name: name, subresource: "eviction")
        let body = try JSONEncoder().encode(
            Eviction(
                metadata: ObjectMeta(name: name, namespace: namespace),
                deleteOptions: DeleteOptions(preconditions: preconditions)))
        var refusals = 0
        while true {
            do {
                _ = try await client.send(.POST, path, body: body)
                return
            } catch let error as KubernetesError where error.statusCode == 429 {
                let why = error.status?.details?.causes?.first?.message ?? error.status?.message ?? error.message
                refusals += 1
                if refusals == 1 {
                    logger.info("eviction refused by a PodDisruptionBudget; waiting", metadata: ["reason": "\(why)"])
                }
                guard ContinuousClock.now + configuration.evictionRetry < deadline else {
                    throw AgentError(
                        "the eviction of pod \(name) of node \(node) was refused for \(configuration.restartTimeout) "
                            + "by a PodDisruptionBudget (\(why)); another pod it covers is not ready")
                }
                try await Task.sleep(for: configuration.evictionRetry)
            } catch let error as KubernetesError {
                throw Self.deleteFailure(error, pod: name, node: node)
            }
        }
    }

    // MARK: Pools

    func version(of group: String) async throws -> String {
        if let v = versions.withLock({ $0[group] }) { return v }
        struct APIGroup: Decodable {
            struct GV: Decodable { var version: String }
            var preferredVersion: GV
        }
        let g = try await client.get(APIGroup.self, "/apis/\(group)")
        versions.withLock { $0[group] = g.preferredVersion.version }
        return g.preferredVersion.version
    }

    func scalePath(_ pool: PoolResource) async throws -> String {
        let version = pool.group.isEmpty ? "v1" : try await version(of: pool.group)
        return KubernetesClient.path(
            group: pool.group, version: version, namespace: namespace, resource: pool.resource, name: pool.name,
            subresource: "scale")
    }

    /// The configured pools, else the StatefulSets (or Strimzi node pools) the selected pods belong to.
    func poolResources() async throws -> [PoolResource] {
        if !configuredPools.isEmpty { return configuredPools }
        var found: [String: PoolResource] = [:]
        for pod in try await pods(selector).items {
            if let pool = pod.metadata.labels?[KafkaPodLabels.strimziPoolName] {
                found[pool] = try PoolResource(parsing: "kafkanodepools.kafka.strimzi.io/\(pool)")
            } else if let owner = pod.metadata.ownerReferences?.first(where: { $0.kind == "StatefulSet" }) {
                found[owner.name] = try PoolResource(parsing: "statefulsets.apps/\(owner.name)")
            }
        }
        return found.keys.sorted().map { found[$0]! }
    }

    public func pools() async throws -> [AgentPool] {
        var out: [AgentPool] = []
        for pool in try await poolResources() {
            let scale = try await client.get(Scale.self, try await scalePath(pool))
            var ready = 0
            if let s = scale.status?.selector, let selector = try? LabelSelector(parsing: s) {
                ready = try await pods(selector).items.filter { $0.isReady && !$0.isTerminating }.count
            }
            out.append(
                AgentPool(
                    name: pool.name, replicas: scale.spec.replicas ?? 0, readyReplicas: ready,
                    resource: pool.description))
        }
        return out
    }

    public func scale(pool name: String, replicas: Int) async throws {
        let deadline = ContinuousClock.now + configuration.scaleTimeout
        guard let pool = try await poolResources().first(where: { $0.name == name }) else {
            throw AgentError("pool \(name) is not managed by this agent")
        }
        struct Patch: Encodable {
            struct Spec: Encodable { var replicas: Int }
            var spec: Spec
        }
        let answer = try await client.send(
            .PATCH, try await scalePath(pool), body: try JSONEncoder().encode(Patch(spec: .init(replicas: replicas))),
            contentType: "application/merge-patch+json")
        let scale = try JSONDecoder().decode(Scale.self, from: answer)
        guard let text = scale.status?.selector, let podSelector = try? LabelSelector(parsing: text) else {
            throw AgentError(
                "the scale of \(pool) names no pod selector (status.selector), so the agent cannot tell when its pods "
                    + "are ready")
        }
        logger.info(
            "pool scaled; waiting for its pods", metadata: [LogKey.pool: "\(pool)", "replicas": "\(replicas)"])
        try await waitForPods(
            query: [("labelSelector", podSelector.description)], until: deadline,
            timeout: "pool \(name) did not reach \(replicas) ready pod(s) within \(configuration.scaleTimeout)"
        ) { pods in
            for pod in pods.values where !pod.isTerminating {
                if let stuck = pod.stuckReason {
                    throw AgentError(
                        "pod \(pod.metadata.name ?? "?") of pool \(name) is stuck: \(stuck); the scale to \(replicas) "
                            + "failed")
                }
            }
            let live = pods.values.filter { !$0.isTerminating }
            return pods.count == replicas && live.count == replicas && live.allSatisfy(\.isReady)
        }
    }

    // MARK: Waiting

    /// Lists the pods of `query`, then watches them, calling `done` on every change until it returns true (or
    /// throws, e.g. on a stuck pod). A watch that ends or expires (410) is followed by a fresh list; an API server
    /// that cannot be reached is asked again after `retryPause`, until `deadline`.
    func waitForPods(
        query: [(String, String)], until deadline: ContinuousClock.Instant, timeout: String,
        done: ([String: Pod]) throws -> Bool
    ) async throws {
        while true {
            do {
                let list = try await client.get(ObjectList<Pod>.self, podsPath, query: query)
                var pods: [String: Pod] = [:]
                for p in list.items { pods[p.metadata.name ?? ""] = p }
                if try done(pods) { return }
                let left = ContinuousClock.now.duration(to: deadline)
                guard left > .zero else { throw AgentError(timeout) }
                let seconds = max(1, min(300, Int(left.components.seconds) + 1))
                let finished = try await client.watch(
                    Pod.self, podsPath, query: query, resourceVersion: list.metadata.resourceVersion,
                    timeoutSeconds: seconds
                ) { event in
                    switch event {
                    case .added(let p), .modified(let p):
                        pods[p.metadata.name ?? ""] = p
                    case .deleted(let p):
                        if pods[p.metadata.name ?? ""]?.metadata.uid == p.metadata.uid {
                            pods[p.metadata.name ?? ""] = nil
                        }
                    case .bookmark:
                        return false
                    case .error(let status):
                        // 410 Gone: the history moved on; list again.
                        if status.code == 410 { return true }
                        throw KubernetesError(
                            .answered(status: status.code ?? 500),
                            "the Kubernetes API at \(client.connection.server) ended a watch of pods: "
                                + (status.message ?? "no message"), status: status)
                    }
                    return try done(pods)
                }
                if finished, try done(pods) { return }
            } catch let error as KubernetesError where error.isRetriable {
                logger.warning("the Kubernetes API did not answer; asking again", metadata: [LogKey.error: "\(error)"])
                guard ContinuousClock.now + configuration.retryPause < deadline else {
                    throw AgentError("\(timeout): \(error)")
                }
                try await Task.sleep(for: configuration.retryPause)
            }
            guard ContinuousClock.now < deadline else { throw AgentError(timeout) }
        }
    }
}
