public import KafkaModel
public import Logging
import ServiceLifecycle

/// A simulated cluster serving the Kafka protocol and the control API on loopback inside this process, on ports
/// the OS picks: what tests and an embedded demo need, in one call.
public struct EmbeddedSimulator: Sendable {
    public let simulator: KafkaSimulator
    public let server: KafkaSimServer
    /// Stopping is a graceful shutdown of this group, never a cancellation (see `KafkaSimServer.run`).
    let group: ServiceGroup
    let task: Task<Void, any Error>

    public var bootstrap: String { server.bootstrap }
    /// The control API's base URL.
    public var controlURL: String { server.controlURL ?? "" }

    /// Starts serving `cluster` and returns once every listener is bound. `security` secures every listener.
    /// Cluster time follows `clock` (a test clock moves it by hand); on the real clock (nil) a stall of the
    /// process pauses the cluster (`stallLimit`).
    public static func start(
        _ cluster: SimCluster, timeScale: Double = 1, clock: AnyClock? = nil,
        security: SimListenerSecurity = SimListenerSecurity(), logger: Logger? = nil
    ) async throws -> EmbeddedSimulator {
        try await start(server(cluster, timeScale: timeScale, clock: clock, security: security, logger: logger))
    }

    /// A server for `cluster` on loopback ports the OS picks, not yet running: what to hand a simulated Kubernetes
    /// API (which adds its control routes) before `start(_:)`.
    public static func server(
        _ cluster: SimCluster, timeScale: Double = 1, clock: AnyClock? = nil,
        security: SimListenerSecurity = SimListenerSecurity(), logger: Logger? = nil
    ) -> KafkaSimServer {
        let simulator =
            if let clock {
                KafkaSimulator(cluster: cluster, timeScale: timeScale, clock: clock)
            } else {
                KafkaSimulator(cluster: cluster, timeScale: timeScale, stallLimit: KafkaSimulator.defaultStallLimit)
            }
        var configuration = KafkaSimServer.Configuration()
        configuration.basePort = 0
        configuration.controlPort = 0
        configuration.security = security
        return KafkaSimServer(
            simulator: simulator, configuration: configuration, responder: KafkaProtocolResponder.make(simulator),
            logger: logger ?? Self.quietLogger)
    }

    /// Runs `server` and returns once every listener is bound.
    public static func start(_ server: KafkaSimServer) async throws -> EmbeddedSimulator {
        let group = ServiceGroup(services: [server], logger: server.logger)
        let task = Task { try await group.run() }
        guard await server.waitUntilReady() != nil else {
            await group.triggerGracefulShutdown()
            if case .failure(let error) = await task.result { throw error }
            throw SimTopologyError("the simulator stopped before its listeners were bound")
        }
        return EmbeddedSimulator(simulator: server.simulator, server: server, group: group, task: task)
    }

    /// Stops serving and waits until the listeners are closed.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// Stops serving without waiting (for a `defer`).
    public func cancel() {
        let group = group
        Task { await group.triggerGracefulShutdown() }
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "ballast.sim")
        logger.logLevel = .critical
        return logger
    }
}
