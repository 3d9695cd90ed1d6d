import Foundation
import Hummingbird
import HummingbirdTLS
import KafkaModel
public import KafkaSim
public import KubernetesAPI
public import Logging
import NIOCore
import NIOSSL
public import ServiceLifecycle
import Synchronization
import Yams

/// A simulated Kubernetes API for each simulated Kubernetes cluster of a `KafkaSimServer` (its nodes' `cluster`
/// labels), each on its own HTTPS port, with pods backed by the simulated brokers (see `KubeCluster`).
///
/// Every cluster gets a bearer token and a kubeconfig (server URL, the CA, the token, namespace `kafka`) written to
/// `directory`, beside `ca.crt`, `client.crt`/`client.key` (a client certificate the APIs accept instead of a
/// token) and `<cluster>.token`. With a Role, every call outside it is refused with 403 and a Kubernetes Status.
/// A ticker moves the pods on as the brokers change (the kubelet and the StatefulSet controller).
public final class KubernetesSimulator: Service, Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// Cluster i (in name order) listens on `basePort + i`; 0 picks free ports.
        public var basePort = 0
        /// Where kubeconfigs, tokens and certificates are written.
        public var directory: String
        public var namespace = "kafka"
        /// The permissions every caller has; nil allows everything.
        public var policy: RBACPolicy?
        /// Put `topology.kubernetes.io/zone` on pods (it is always on the Kubernetes nodes).
        public var zoneLabelsOnPods = true
        /// Model Strimzi: pods carry `strimzi.io/pool-name`, and each StatefulSet is also served as a KafkaNodePool's
        /// scale subresource (`kafkanodepools.kafka.strimzi.io/NAME/scale`).
        public var strimziNodePools = false
        public var tickInterval: Duration = .milliseconds(20)
        public var seed: UInt64 = 1

        public init(directory: String) { self.directory = directory }
    }

    /// Where one simulated Kubernetes cluster is served.
    public struct Endpoint: Sendable, Hashable, Codable {
        public var name: String
        public var server: String
        public var kubeconfig: String
        public var tokenFile: String
        public var namespace: String
    }

    final class ClusterHandle: Sendable {
        let name: String
        let state: Mutex<ClusterState>
        let tokens: Mutex<Set<String>>
        let port = Mutex<Int?>(nil)
        /// Every call the API authorized, as RBAC names it (`delete pods`, `patch statefulsets.apps/scale`).
        let calls = Mutex<Set<String>>([])
        /// Evictions refused by a PodDisruptionBudget (429).
        let refusedEvictions = Mutex(0)
        /// Whether the API is cut off: every call answers 503 until it is restored.
        let outage = Mutex(false)

        init(name: String, world: KubeCluster, token: String) {
            self.name = name
            state = Mutex(ClusterState(world: world, published: world.resourceVersion))
            tokens = Mutex([token])
        }
    }

    struct ClusterState: Sendable {
        var world: KubeCluster
        var subscribers: [Int: AsyncStream<KubeEvent>.Continuation] = [:]
        var nextSubscriber = 0
        var published: Int64
        /// Set when the API shuts down: no new watch stays open.
        var stopped = false

        /// Hands the events recorded since the last call to every watch.
        mutating func publish() {
            guard world.resourceVersion > published else { return }
            let fresh = world.events.reversed().prefix { $0.resourceVersion > published }.reversed()
            for event in fresh { for s in subscribers.values { s.yield(event) } }
            published = world.resourceVersion
        }
    }

    public let kafka: KafkaSimServer
    public let configuration: Configuration
    public let certificates: SimCertificates
    let handles: [ClusterHandle]
    let logger: Logger
    let readyWaiters = Mutex<(done: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    /// Builds one simulated Kubernetes cluster per `cluster` label of the simulator's nodes. Throws when the
    /// certificates cannot be made or the directory cannot be created.
    public init(kafka: KafkaSimServer, configuration: Configuration, logger: Logger) throws {
        self.kafka = kafka
        self.configuration = configuration
        self.logger = logger
        certificates = try SimCertificates.generate()
        try FileManager.default.createDirectory(atPath: configuration.directory, withIntermediateDirectories: true)
        let nodes = kafka.simulator.withCluster { c in c.nodes.map(BrokerView.init) }
        let clusterOf = kafka.simulator.withCluster { c in
            Dictionary(c.nodes.map { ($0.id, $0.cluster) }, uniquingKeysWith: { a, _ in a })
        }
        let names = Set(clusterOf.values).sorted()
        let epoch = Date().timeIntervalSince1970 - Double(kafka.simulator.clusterNow()) / 1000
        handles = names.enumerated().map { i, name in
            let world = KubeCluster(
                name: name, index: i, namespace: configuration.namespace,
                brokers: nodes.filter { clusterOf[$0.id] == name }, epochSeconds: epoch, seed: configuration.seed,
                zoneLabelsOnPods: configuration.zoneLabelsOnPods, strimziPoolLabels: configuration.strimziNodePools)
            return ClusterHandle(name: name, world: world, token: Self.newToken())
        }
        kafka.addControlRoutes { [self] router in controlRoutes(router) }
    }

    static func newToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(g.next() as UInt64, radix: 16).leftPadded(16) }.joined()
    }

    public var clusterNames: [String] { handles.map(\.name) }

    func handle(_ name: String) -> ClusterHandle? { handles.first { $0.name == name } }

    // MARK: Serving

    /// Serves until graceful shutdown (or cancellation). Graceful shutdown ends every watch first, then lets each API
    /// server drain its connections: cancelling a Hummingbird server can strand a connection it has just accepted,
    /// which traps in NIOAsyncWriter's deinit (apple/swift-nio#3481), so the servers are only cancelled when this
    /// task itself is.
    public func run() async throws {
        let tls = try serverTLS()
        defer { endWatches() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, handle) in handles.enumerated() {
                let app = Application(
                    responder: KubeAPIResponder(sim: self, cluster: handle.name),
                    server: try .tls(.http1(), tlsConfiguration: tls),
                    configuration: .init(
                        address: .hostname(
                            configuration.host, port: configuration.basePort == 0 ? 0 : configuration.basePort + i),
                        serverName: nil),
                    onServerRunning: { [self] channel in
                        handle.port.withLock { $0 = channel.localAddress?.port }
                        bound()
                    },
                    logger: logger)
                group.addTask { try await app.run() }
            }
            group.addTask { [self] in
                while !Task.isCancelled, !Task.isShuttingDownGracefully {
                    for handle in handles { await reconcile(handle) }
                    try? await Task.sleep(for: configuration.tickInterval)
                }
            }
            group.addTask { [self] in
                try await gracefulShutdown()
                endWatches()  // watches are long requests: a server drains only once they end
            }
            // The first child to end: on graceful shutdown every other one sees it too and ends on its own;
            // otherwise (cancellation, a server that failed) the rest are cancelled.
            let first = await group.nextResult()
            if Task.isCancelled || !Task.isShuttingDownGracefully { group.cancelAll() }
            while await group.nextResult() != nil {}
            if case .failure(let error)? = first, !(error is CancellationError) { throw error }
        }
    }

    /// Ends every watch and refuses new ones (they end after their initial objects).
    func endWatches() {
        for handle in handles {
            handle.state.withLock { s in
                s.stopped = true
                for c in s.subscribers.values { c.finish() }
                s.subscribers = [:]
            }
        }
    }

    /// The APIs' certificate, and client certificates verified against the simulator's CA when one is presented.
    func serverTLS() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificates.serverCertificatePEM.utf8)).map {
                .certificate($0)
            },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certificates.serverKeyPEM.utf8), format: .pem)))
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(certificates.caPEM.utf8)))
        tls.certificateVerification = .optionalVerification
        return tls
    }

    /// Once every API listens: writes the kubeconfigs and wakes `waitUntilReady`.
    func bound() {
        guard handles.allSatisfy({ $0.port.withLock { $0 } != nil }) else { return }
        for handle in handles {
            do {
                try writeFiles(handle)
            } catch {
                logger.error("the kubeconfig could not be written", metadata: [LogKey.error: "\(error)"])
            }
        }
        let waiting = readyWaiters.withLock { r in
            r.done = true
            defer { r.waiting = [] }
            return r.waiting
        }
        for w in waiting { w.resume() }
    }

    /// Returns once every API listens and its kubeconfig is written.
    public func waitUntilReady() async -> [Endpoint] {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = readyWaiters.withLock { r in
                if !r.done { r.waiting.append(c) }
                return r.done
            }
            if done { c.resume() }
        }
        return endpoints
    }

    public var endpoints: [Endpoint] {
        handles.map { h in
            Endpoint(
                name: h.name, server: "https://\(configuration.host):\(h.port.withLock { $0 } ?? 0)",
                kubeconfig: path("\(h.name).kubeconfig"), tokenFile: path("\(h.name).token"),
                namespace: configuration.namespace)
        }
    }

    func path(_ file: String) -> String { (configuration.directory as NSString).appendingPathComponent(file) }

    func writeFiles(_ handle: ClusterHandle) throws {
        let token = handle.tokens.withLock { $0.first ?? "" }
        let server = "https://\(configuration.host):\(handle.port.withLock { $0 } ?? 0)"
        let config = Kubeconfig(
            clusters: [
                .init(
                    name: handle.name,
                    cluster: .init(
                        server: server, certificateAuthorityData: Data(certificates.caPEM.utf8).base64EncodedString()))
            ],
            users: [.init(name: "ballast-agent@\(handle.name)", user: .init(token: token))],
            contexts: [
                .init(
                    name: handle.name,
                    context: .init(
                        cluster: handle.name, user: "ballast-agent@\(handle.name)", namespace: configuration.namespace))
            ],
            currentContext: handle.name)
        try Self.atomicWrite(try YAMLEncoder().encode(config), to: path("\(handle.name).kubeconfig"))
        try Self.atomicWrite(token, to: path("\(handle.name).token"))
        try Self.atomicWrite(certificates.caPEM, to: path("ca.crt"))
        try Self.atomicWrite(certificates.clientCertificatePEM, to: path("client.crt"))
        try Self.atomicWrite(certificates.clientKeyPEM, to: path("client.key"))
    }

    /// Writes a temporary file and renames it over the old one, as the kubelet swaps a projected token.
    static func atomicWrite(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    // MARK: Authentication and authorization

    func acceptsToken(_ token: String, cluster: String) -> Bool {
        handle(cluster)?.tokens.withLock { $0.contains(token) } ?? false
    }

    /// nil when allowed (and recorded); else the 403 Status Kubernetes answers.
    func authorize(_ request: ResourceRequest, cluster: String) -> Status? {
        guard let handle = handle(cluster) else {
            return Status(failure: 404, reason: "NotFound", message: "no cluster")
        }
        if let policy = configuration.policy, !policy.allows(request) {
            let resource = request.subresource.map { "\(request.resource)/\($0)" } ?? request.resource
            let object = request.name.map { "\(request.resource) \"\($0)\"" } ?? request.resource
            let scope = request.namespace.map { " in the namespace \"\($0)\"" } ?? " at the cluster scope"
            let user = "system:serviceaccount:\(configuration.namespace):ballast-agent"
            return Status(
                failure: 403, reason: "Forbidden",
                message: "\(object) is forbidden: User \"\(user)\" cannot \(request.verb) resource \"\(resource)\" "
                    + "in API group \"\(request.group)\"\(scope)",
                details: .init(name: request.name, group: request.group, kind: request.resource))
        }
        handle.calls.withLock { _ = $0.insert(request.description) }
        return nil
    }

    /// Replaces the cluster's token (the old one is refused from now on) and rewrites its token file and
    /// kubeconfig; returns the new token.
    @discardableResult
    public func rotateToken(cluster: String) throws -> String {
        guard let handle = handle(cluster) else { throw KubeSimError("no simulated Kubernetes cluster \(cluster)") }
        let token = Self.newToken()
        handle.tokens.withLock { $0 = [token] }
        try writeFiles(handle)
        return token
    }

    /// Cuts the cluster's API off (`down`: every call answers 503 ServiceUnavailable, as a load balancer in front of
    /// an unreachable API server does) or restores it. Watches already open go on.
    public func setOutage(_ down: Bool, cluster: String) throws {
        guard let handle = handle(cluster) else { throw KubeSimError("no simulated Kubernetes cluster \(cluster)") }
        handle.outage.withLock { $0 = down }
    }

    func isCutOff(_ cluster: String) -> Bool { handle(cluster)?.outage.withLock { $0 } ?? false }

    /// The calls the cluster's API authorized so far (`get pods`, `create pods/eviction`, ...).
    public func authorizedCalls(cluster: String) -> Set<String> { handle(cluster)?.calls.withLock { $0 } ?? [] }

    // MARK: The world

    func brokerViews() -> [Int32: BrokerView] {
        kafka.simulator.withCluster { c in
            Dictionary(c.nodes.map { ($0.id, BrokerView($0)) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// Reads one simulated Kubernetes cluster.
    public func withCluster<T: Sendable>(_ name: String, _ body: (KubeCluster) -> T) -> T? {
        handle(name)?.state.withLock { body($0.world) }
    }

    /// Holds the broker's pod whenever it (re)starts (nil clears); the cluster is the broker's.
    public func setFault(_ fault: PodFault?, broker: Int32) throws {
        guard
            let handle = handles.first(where: {
                $0.state.withLock { $0.world.pods.values.contains { $0.broker == broker } }
            })
        else { throw KubeSimError("no simulated pod runs node \(broker)") }
        handle.state.withLock { $0.world.setFault(fault, broker: broker) }
    }

    func reconcile(_ handle: ClusterHandle) async {
        let brokers = brokerViews()
        let now = kafka.simulator.clusterNow()
        let effects = handle.state.withLock { s in
            let e = s.world.reconcile(brokers: brokers, now: now)
            s.publish()
            return e
        }
        await apply(effects, handle)
    }

    func mutate<T>(
        _ cluster: String, _ body: (inout KubeCluster, [Int32: BrokerView], Int64) -> Result<(T, [KubeEffect]), Status>
    ) async throws -> T {
        guard let handle = handle(cluster) else {
            throw Status(failure: 404, reason: "NotFound", message: "no cluster")
        }
        let brokers = brokerViews()
        let now = kafka.simulator.clusterNow()
        let result = handle.state.withLock { s in
            let r = body(&s.world, brokers, now)
            s.publish()
            return r
        }
        let (value, effects) = try result.get()
        await apply(effects, handle)
        return value
    }

    func apply(_ effects: [KubeEffect], _ handle: ClusterHandle) async {
        for effect in effects {
            switch effect {
            case .start(let id): lifecycle(id) { c throws(SimFailure) in try c.start(id) }
            case .stop(let id): lifecycle(id) { c throws(SimFailure) in try c.stop(id) }
            case .kill(let id): lifecycle(id) { c throws(SimFailure) in try c.kill(id) }
            case .removeBroker(let id): lifecycle(id) { c throws(SimFailure) in try c.remove(id) }
            case .addBroker(let set, let ordinal, let rack, let roles):
                do {
                    let id = try kafka.simulator.withCluster { c throws(SimFailure) in
                        try c.addBroker(rack: rack, cluster: handle.name, roles: roles, state: .stopped)
                    }
                    _ = try await kafka.bindListener(node: id, port: 0)
                    let brokers = brokerViews()
                    let now = kafka.simulator.clusterNow()
                    handle.state.withLock { s in
                        s.world.attach(broker: id, set: set, ordinal: ordinal, brokers: brokers, now: now)
                        s.publish()
                    }
                } catch {
                    logger.warning(
                        "the simulator could not add a broker for a StatefulSet", metadata: [LogKey.error: "\(error)"])
                    handle.state.withLock { $0.world.addFailed(set: set, ordinal: ordinal) }
                }
            }
        }
    }

    func lifecycle(_ id: Int32, _ change: (inout SimCluster) throws(SimFailure) -> Void) {
        do {
            try kafka.simulator.withCluster { c throws(SimFailure) in try change(&c) }
        } catch {
            // Expected now and then (a broker already stopped, one that still holds replicas): the pod stays as it is.
            logger.debug(
                "simulated broker change refused",
                metadata: [LogKey.brokerId: "\(id)", LogKey.error: "\(error.message)"])
        }
    }

    // MARK: API operations

    func objects(cluster: String, resource: String, namespace: String?) -> ([KubeObjectView], Int64, Double) {
        let nowMs = kafka.simulator.clusterNow()
        return handle(cluster)?.state.withLock { s -> ([KubeObjectView], Int64, Double) in
            let w = s.world
            let now = w.epochSeconds + Double(nowMs) / 1000
            let inNamespace = namespace == nil || namespace == w.namespace
            var out: [KubeObjectView] = []
            switch resource {
            case "pods" where inNamespace:
                out = w.pods.values.sorted { $0.name < $1.name }.map {
                    KubeObjectView(KubeObjectView.Object.pod($0.object))
                }
            case "statefulsets" where inNamespace:
                out = w.statefulSets.keys.sorted().map {
                    KubeObjectView(KubeObjectView.Object.statefulSet(w.statefulSets[$0]!.object))
                }
            case "poddisruptionbudgets" where inNamespace:
                out = w.budgets.keys.sorted().map {
                    KubeObjectView(KubeObjectView.Object.podDisruptionBudget(w.budgets[$0]!))
                }
            case "nodes":
                out = w.nodes.keys.sorted().map { KubeObjectView(KubeObjectView.Object.node(w.nodes[$0]!)) }
            case "namespaces":
                out = Set([w.namespace, "default", "kube-system"]).sorted().map { name in
                    var meta = ObjectMeta(name: name, uid: "ns-\(name)", resourceVersion: "1")
                    meta.creationTimestamp = w.timestamp(0)
                    return KubeObjectView(
                        KubeObjectView.Object.namespace(Namespace(metadata: meta, status: .init(phase: "Active"))))
                }
            default:
                break
            }
            return (out, w.resourceVersion, now)
        } ?? ([], 0, 0)
    }

    func deletePod(cluster: String, namespace: String, name: String, options: DeleteOptions) async throws -> Pod {
        try await mutate(cluster) { w, brokers, now in
            guard namespace == w.namespace else { return .failure(KubeCluster.notFound("pods", name)) }
            return w.deletePod(name, options: options, brokers: brokers, now: now)
        }
    }

    func evictPod(cluster: String, namespace: String, name: String, eviction: Eviction) async throws {
        do {
            try await mutate(cluster) { (w, brokers, now) -> Result<((), [KubeEffect]), Status> in
                guard namespace == w.namespace else { return .failure(KubeCluster.notFound("pods", name)) }
                return w.evictPod(name, eviction: eviction, brokers: brokers, now: now).map { ((), $0) }
            }
        } catch let status as Status where status.code == 429 {
            handle(cluster)?.refusedEvictions.withLock { $0 += 1 }
            throw status
        }
    }

    /// Evictions the cluster's API refused (429) because of a PodDisruptionBudget.
    public func refusedEvictions(cluster: String) -> Int { handle(cluster)?.refusedEvictions.withLock { $0 } ?? 0 }

    func scale(cluster: String, namespace: String, name: String) throws -> Scale {
        let scale = handle(cluster)?.state.withLock { s in
            namespace == s.world.namespace ? s.world.scaleObject(name) : nil
        }
        guard let scale else { throw KubeCluster.notFound("statefulsets", name, group: "apps") }
        return scale
    }

    func setScale(cluster: String, namespace: String, name: String, replicas: Int, resourceVersion: String?)
        async throws -> Scale
    {
        try await mutate(cluster) { w, brokers, now in
            guard namespace == w.namespace else {
                return .failure(KubeCluster.notFound("statefulsets", name, group: "apps"))
            }
            return w.scale(name, replicas: replicas, resourceVersion: resourceVersion, now: now).map { scale in
                (scale, w.reconcile(brokers: brokers, now: now))
            }
        }
    }

    /// A watch: the current objects (from no resource version) or the events after `since`, then every new event.
    final class Subscription: Sendable {
        let initial: [KubeObjectView]
        let resourceVersion: Int64
        let events: AsyncStream<KubeEvent>
        let tooOld: Status?
        let continuation: AsyncStream<KubeEvent>.Continuation
        let handle: ClusterHandle
        let id: Int
        let clock: @Sendable () -> Double

        init(
            initial: [KubeObjectView], resourceVersion: Int64, events: AsyncStream<KubeEvent>, tooOld: Status?,
            continuation: AsyncStream<KubeEvent>.Continuation, handle: ClusterHandle, id: Int,
            clock: @escaping @Sendable () -> Double
        ) {
            self.initial = initial
            self.resourceVersion = resourceVersion
            self.events = events
            self.tooOld = tooOld
            self.continuation = continuation
            self.handle = handle
            self.id = id
            self.clock = clock
        }

        /// Ends the stream (the watch's timeout).
        func finish() { continuation.finish() }

        /// Unsubscribes (the client left or the timeout passed).
        func cancel() {
            continuation.finish()
            _ = handle.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
    }

    func subscribe(cluster: String, since: Int64?) -> Subscription {
        let (stream, continuation) = AsyncStream<KubeEvent>.makeStream()
        let handle = handle(cluster)!
        let epoch = handle.state.withLock { $0.world.epochSeconds }
        let sim = kafka.simulator
        let clock: @Sendable () -> Double = { epoch + Double(sim.clusterNow()) / 1000 }
        return handle.state.withLock { s in
            s.publish()
            let w = s.world
            var initial: [KubeObjectView] = []
            var tooOld: Status?
            if let since {
                if since < w.forgottenThrough {
                    tooOld = Status(
                        failure: 410, reason: "Expired",
                        message: "too old resource version: \(since) (\(w.forgottenThrough))")
                } else {
                    for event in w.events where event.resourceVersion > since { continuation.yield(event) }
                }
            } else {
                initial =
                    w.pods.values.sorted { $0.name < $1.name }.map {
                        KubeObjectView(KubeObjectView.Object.pod($0.object))
                    }
                    + w.statefulSets.keys.sorted().map {
                        KubeObjectView(KubeObjectView.Object.statefulSet(w.statefulSets[$0]!.object))
                    }
                    + w.budgets.keys.sorted().map {
                        KubeObjectView(KubeObjectView.Object.podDisruptionBudget(w.budgets[$0]!))
                    }
            }
            let id = s.nextSubscriber
            s.nextSubscriber += 1
            if s.stopped {
                continuation.finish()
            } else if tooOld == nil {
                s.subscribers[id] = continuation
            }
            return Subscription(
                initial: initial, resourceVersion: w.resourceVersion, events: stream, tooOld: tooOld,
                continuation: continuation, handle: handle, id: id, clock: clock)
        }
    }
}

public struct KubeSimError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
