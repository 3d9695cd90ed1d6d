public import KafkaModel
public import Logging

/// A simulated cluster serving the Kafka protocol and the control API on loopback inside this process, on ports
/// the OS picks: what tests and an embedded demo need, in one call.
public struct EmbeddedSimulator: Sendable {
    public let simulator: KafkaSimulator
    public let server: KafkaSimServer
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
        let server = KafkaSimServer(
            simulator: simulator, configuration: configuration, responder: KafkaProtocolResponder.make(simulator),
            logger: logger ?? Self.quietLogger)
        let task = Task { try await server.run() }
        guard await server.waitUntilReady() != nil else {
            task.cancel()
            if case .failure(let error) = await task.result { throw error }
            throw SimTopologyError("the simulator stopped before its listeners were bound")
        }
        return EmbeddedSimulator(simulator: simulator, server: server, task: task)
    }

    /// Stops serving and waits until the listeners are closed.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// Stops serving without waiting (for a `defer`).
    public func cancel() { task.cancel() }

    static var quietLogger: Logger {
        var logger = Logger(label: "ballast.sim")
        logger.logLevel = .critical
        return logger
    }
}
