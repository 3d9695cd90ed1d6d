public import Hummingbird
import KafkaWireNIO
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle
import Synchronization

/// The network side of the simulator: one Kafka listener per node on 127.0.0.1, the control HTTP API,
/// and a ticker that moves cluster time and closes connections of nodes that went down.
public final class KafkaSimServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// First Kafka port; node i (in id order) gets `basePort + i`. 0 binds every listener on port 0.
        public var basePort = 0
        /// Control API port; 0 picks a free one; nil runs no control API.
        public var controlPort: Int? = 0
        public var maxRequestSize = KafkaFrameDecoder.defaultMaxSize
        /// Real time between ticks.
        public var tickInterval: Duration = .milliseconds(20)
        /// TLS and SASL of every node's listener (default PLAINTEXT).
        public var security = SimListenerSecurity()
        /// Real (wall-clock) time the connections of a node that went down stay open: requests already on the wire
        /// get their answer (NOT_LEADER_OR_FOLLOWER once leadership moved), as a real broker's controlled shutdown
        /// answers its in-flight requests before closing its sockets. New connections are refused at once. At a
        /// time scale of 10 the simulated 4.5 s shutdown is only 0.45 s of wall time, too short for a real client
        /// on a loaded machine to learn the new leaders; this grace does not depend on the time scale.
        public var shutdownGrace: Duration = .seconds(2)
        public init() {}
    }

    public let simulator: KafkaSimulator
    let configuration: Configuration
    let responder: KafkaResponder
    let logger: Logger
    let group: any EventLoopGroup
    let listeners = Mutex<[Int32: any Channel]>([:])
    /// Each node's open connections, with when each was accepted.
    let connections = Mutex<[Int32: [ObjectIdentifier: (channel: any Channel, accepted: ContinuousClock.Instant)]]>(
        [:])
    /// When each down node was first seen down (wall clock), for `shutdownGrace`.
    let downSince = Mutex<[Int32: ContinuousClock.Instant]>([:])
    let controlPortBox = Mutex<Int?>(nil)
    let extraControlRoutes = Mutex<[@Sendable (Router<BasicRequestContext>) -> Void]>([])
    /// Whether the listeners (and the control API, when configured) are up; nil while starting, false when the
    /// server ended before it got there. Callers of `waitUntilReady` wait in `readyWaiters`.
    let readiness = Mutex<(ready: Bool?, waiters: [CheckedContinuation<Bool, Never>])>((nil, []))

    public init(
        simulator: KafkaSimulator, configuration: Configuration = Configuration(), responder: @escaping KafkaResponder,
        logger: Logger
    ) {
        self.simulator = simulator
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        group = MultiThreadedEventLoopGroup.singleton
    }

    /// `host:port` of every broker, in id order.
    public var bootstrap: String {
        simulator.withCluster { c in
            c.nodes.filter { $0.isBroker && !$0.removed }.map { "\(configuration.host):\($0.port)" }.joined(
                separator: ",")
        }
    }

    /// The control API's base URL once it runs.
    public var controlURL: String? {
        controlPortBox.withLock { $0 }.map { "http://\(configuration.host):\($0)" }
    }

    /// Adds routes to the control API (the simulated Kubernetes API's faults, say); call before `run()`.
    public func addControlRoutes(_ add: @escaping @Sendable (Router<BasicRequestContext>) -> Void) {
        extraControlRoutes.withLock { $0.append(add) }
    }

    /// Binds a listener for every node that has none yet.
    public func bindListeners() async throws {
        let ids = simulator.withCluster { c in c.nodes.filter { !$0.removed }.map(\.id) }
        for (i, id) in ids.enumerated() where listeners.withLock({ $0[id] }) == nil {
            _ = try await bindListener(node: id, port: configuration.basePort == 0 ? 0 : configuration.basePort + i)
        }
    }

    /// Binds node `id`'s listener; returns the port.
    public func bindListener(node id: Int32, port: Int) async throws -> Int {
        let maxSize = configuration.maxRequestSize
        let responder = self.responder
        let security = configuration.security
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] child in
                guard self.accepts(node: id) else { return child.close() }
                self.track(child, node: id)
                return child.eventLoop.makeCompletedFuture {
                    let sync = child.pipeline.syncOperations
                    if let tls = security.tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try sync.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxSize: maxSize)))
                    if let users = security.sasl { try sync.addHandler(SaslServerHandler(users: users)) }
                    try sync.addHandler(KafkaRequestHandler(node: id, responder: responder))
                }
            }
            .bind(host: configuration.host, port: port).get()
        let bound = channel.localAddress?.port ?? port
        listeners.withLock { $0[id] = channel }
        simulator.withCluster { $0.setPort(bound, of: id) }
        return bound
    }

    /// Connections are accepted while the node's process serves (running, or in controlled shutdown).
    func accepts(node id: Int32) -> Bool {
        simulator.withCluster { c in
            guard let n = c.node(id) else { return false }
            return !n.removed && (n.state == .running || n.state == .stopping)
        }
    }

    func track(_ channel: any Channel, node id: Int32) {
        let key = ObjectIdentifier(channel)
        let accepted = ContinuousClock.now
        connections.withLock { $0[id, default: [:]][key] = (channel, accepted) }
        channel.closeFuture.whenComplete { [self] _ in
            _ = connections.withLock { $0[id]?.removeValue(forKey: key) }
        }
    }

    /// Closes the connections of nodes whose process has been down for `shutdownGrace`.
    func closeConnectionsOfDownNodes() {
        let down = simulator.withCluster { c in
            Set(c.nodes.filter { $0.removed || $0.state == .stopped || $0.state == .starting }.map(\.id))
        }
        let now = ContinuousClock.now
        // Node → connections accepted before this instant are closed: the grace is over, or the node came back
        // (a new process: the old one's sockets are gone).
        let due = downSince.withLock { since -> [Int32: ContinuousClock.Instant] in
            var due: [Int32: ContinuousClock.Instant] = [:]
            for (id, at) in since where !down.contains(id) {
                due[id] = at
                since[id] = nil
            }
            for id in down where since[id] == nil { since[id] = now }
            for id in down {
                if let at = since[id], at.duration(to: now) >= configuration.shutdownGrace { due[id] = at }
            }
            return due
        }
        guard !due.isEmpty else { return }
        let toClose = connections.withLock { conns in
            due.flatMap { id, before in
                (conns[id].map { Array($0.values) } ?? []).filter { $0.accepted <= before }.map(\.channel)
            }
        }
        for ch in toClose { ch.close(promise: nil) }
    }

    /// Binds everything, then ticks until graceful shutdown or cancellation; closes all listeners at the end.
    public func run() async throws {
        defer { settleReadiness(false) }
        try await bindListeners()
        // The ticker runs on an event loop, not on Swift's cooperative pool, so callers that block pool threads (a
        // test's blocking socket) cannot stall cluster time or the deferred replies waiting for it.
        let interval = configuration.tickInterval.components
        let ticker = group.next().scheduleRepeatedTask(
            initialDelay: .zero,
            delay: .nanoseconds(interval.seconds * 1_000_000_000 + interval.attoseconds / 1_000_000_000)
        ) { [self] _ in
            simulator.tick()
            closeConnectionsOfDownNodes()
        }
        defer { ticker.cancel() }
        if configuration.controlPort == nil { settleReadiness(true) }
        // Graceful shutdown lets the control API drain its connections; cancelling a Hummingbird server can strand
        // a connection it has just accepted, which traps in NIOAsyncWriter's deinit (apple/swift-nio#3481). So the
        // control API is cancelled only when this task is, or when it failed.
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let controlPort = configuration.controlPort {
                let router = ControlAPI.router(simulator: simulator) { [self] id in
                    try await bindListener(node: id, port: 0)
                }
                for add in extraControlRoutes.withLock({ $0 }) { add(router) }
                let app = Application(
                    router: router,
                    configuration: .init(
                        address: .hostname(configuration.host, port: controlPort), serverName: nil),
                    onServerRunning: { [self] channel in
                        controlPortBox.withLock { $0 = channel.localAddress?.port }
                        settleReadiness(true)
                    },
                    logger: logger)
                group.addTask { try await app.run() }
            }
            group.addTask { try await gracefulShutdown() }
            let first = await group.nextResult()
            if Task.isCancelled || !Task.isShuttingDownGracefully { group.cancelAll() }
            while await group.nextResult() != nil {}
            if case .failure(let error)? = first, !(error is CancellationError) { throw error }
        }
        await closeAll()
    }

    func closeAll() async {
        let all = listeners.withLock { l in
            let v = Array(l.values)
            l.removeAll()
            return v
        }
        for ch in all { try? await ch.close() }
        let conns = connections.withLock { $0.values.flatMap(\.values).map(\.channel) }
        for ch in conns { try? await ch.close() }
    }

    /// Waits until the listeners and the control API are up; returns the control API's URL ("" without one), or nil
    /// when the server ended first. Event-driven: no deadline a loaded machine could miss.
    public func waitUntilReady() async -> String? {
        let ready = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let settled = readiness.withLock { r -> Bool? in
                if let ready = r.ready { return ready }
                r.waiters.append(continuation)
                return nil
            }
            if let settled { continuation.resume(returning: settled) }
        }
        return ready ? (controlURL ?? "") : nil
    }

    /// The first call decides; later ones (the `defer` of `run` after a successful start) change nothing.
    func settleReadiness(_ ready: Bool) {
        let waiters = readiness.withLock { r -> [CheckedContinuation<Bool, Never>] in
            guard r.ready == nil else { return [] }
            r.ready = ready
            defer { r.waiters = [] }
            return r.waiters
        }
        for w in waiters { w.resume(returning: ready) }
    }
}
