public import AgentKubernetesDriver
import Foundation
public import KafkaSim
public import KubernetesSim
import Logging
import ServiceLifecycle

/// A simulated Kafka cluster with its simulated Kubernetes APIs (one per Kubernetes cluster), in this process on
/// loopback ports the OS picks; kubeconfigs, tokens and certificates in a fresh temporary directory.
public struct KubernetesHarness: Sendable {
    public let sim: EmbeddedSimulator
    public let kubernetes: KubernetesSimulator
    public let endpoints: [KubernetesSimulator.Endpoint]
    /// Stopped by graceful shutdown, never cancelled (see `KubernetesSimulator.run`).
    let group: ServiceGroup
    let task: Task<Void, any Error>

    public var directory: String { kubernetes.configuration.directory }

    /// `topology` and `settings` build the Kafka cluster (its nodes' Kubernetes clusters become the APIs);
    /// `configure` adjusts the Kubernetes side (a Role, pod labels).
    public static func start(
        _ topology: SimTopology, settings: SimSettings = SimSettings(), timeScale: Double = 10,
        configure: (inout KubernetesSimulator.Configuration) -> Void = { _ in }
    ) async throws -> KubernetesHarness {
        let server = EmbeddedSimulator.server(try topology.build(settings: settings), timeScale: timeScale)
        var configuration = KubernetesSimulator.Configuration(
            directory: NSTemporaryDirectory() + "ballast-kube-\(UUID().uuidString)")
        configure(&configuration)
        var logger = Logger(label: "test.kubernetes")
        logger.logLevel = .critical
        let kubernetes = try KubernetesSimulator(kafka: server, configuration: configuration, logger: logger)
        let sim = try await EmbeddedSimulator.start(server)
        let group = ServiceGroup(services: [kubernetes], logger: logger)
        let task = Task { try await group.run() }
        let endpoints = await kubernetes.waitUntilReady()
        return KubernetesHarness(sim: sim, kubernetes: kubernetes, endpoints: endpoints, group: group, task: task)
    }

    /// 3 brokers in 3 racks of one Kubernetes cluster, RF 3, min ISR 2, a 2 s start-up (cluster time).
    public static func small(configure: (inout KubernetesSimulator.Configuration) -> Void = { _ in }) async throws
        -> KubernetesHarness
    {
        var topology = SimTopology()
        topology.brokers = 3
        topology.racks = 3
        topology.topics = 2
        topology.partitions = 3
        var settings = SimSettings()
        settings.startupDelayMs = 2000
        settings.shutdownDurationMs = 1000
        return try await start(topology, settings: settings, configure: configure)
    }

    /// Runs `body` with a harness made by `start`, stopped afterwards whatever happens.
    public static func with<T: Sendable>(
        _ start: () async throws -> KubernetesHarness, _ body: (KubernetesHarness) async throws -> T
    ) async throws -> T {
        let harness = try await start()
        let result: Result<T, any Error>
        do { result = .success(try await body(harness)) } catch { result = .failure(error) }
        await harness.stop()
        return try result.get()
    }

    public func endpoint(_ cluster: String) -> KubernetesSimulator.Endpoint {
        endpoints.first { $0.name == cluster }!
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await sim.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension KubernetesHarness {
    /// Runs `body` with a `kubernetes` driver for one simulated Kubernetes cluster (its kubeconfig, namespace
    /// `kafka`, the default selector); the driver's HTTP client is shut down afterwards, whatever happens.
    public func withDriver<T: Sendable>(
        _ cluster: String = "k8s-1", configure: (inout KubernetesDriver.Configuration) -> Void = { _ in },
        connection: KubernetesConnection? = nil, _ body: (KubernetesDriver) async throws -> T
    ) async throws -> T {
        var configuration = KubernetesDriver.Configuration()
        configuration.evictionRetry = .milliseconds(50)
        configuration.retryPause = .milliseconds(50)
        configuration.restartTimeout = .seconds(300)
        configuration.scaleTimeout = .seconds(300)
        configure(&configuration)
        let client = try KubernetesClient(
            connection: try connection
                ?? KubernetesConnection.kubeconfig(path: endpoint(cluster).kubeconfig, context: nil))
        let result: Result<T, any Error>
        do {
            let driver = try KubernetesDriver(
                client: client, configuration: configuration, logger: Logger(label: "test.kubernetes-driver"))
            result = .success(try await body(driver))
        } catch {
            result = .failure(error)
        }
        try await client.shutdown()
        return try result.get()
    }
}
