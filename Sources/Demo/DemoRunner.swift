import Agent
import AgentContract
import AgentKubernetesDriver
import Dashboard
import DashboardModel
import DemoApplications
import Foundation
import Hummingbird
import KafkaAdmin
import KafkaSim
import KubernetesSim
import Logging
import Operations
import ServiceLifecycle
import Synchronization

/// `ballast demo`: starts the environment, serves the dashboard, plays the scenario, and takes everything down again
/// (on its own with `exitAfterScenario`, else on SIGINT/SIGTERM). Prints `dashboard=URL` first, then one line per
/// step, then `scenario=done` or `scenario=failed: REASON`. Returns whether the scenario succeeded (nil when it was
/// interrupted before it ended).
public enum DemoRunner {
    public static func run(_ options: DemoOptions, output: DemoOutput = DemoOutput()) async throws -> Bool? {
        try options.validate()
        var logger = Logger(label: "ballast.demo")
        logger.logLevel = .critical
        let env = try DemoEnvironment(options: options, logger: logger)
        defer { try? FileManager.default.removeItem(atPath: env.directory) }
        let outcome = DemoOutcome()
        // The simulator and the Kubernetes APIs first: the agents need the kubeconfigs they write.
        let base = ServiceGroup(
            configuration: .init(services: [env.sim, env.kubernetes], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await base.run() }
            defer { tasks.cancelAll() }
            guard await env.sim.waitUntilReady() != nil else {
                throw DemoUsageError("the simulated Kafka cluster did not start")
            }
            let endpoints = await env.kubernetes.waitUntilReady()
            let admin = try KafkaAdmin(
                configuration: KafkaAdminConfiguration(bootstrap: env.sim.bootstrap), logger: logger)
            var agents: [DemoAgent] = []
            for e in endpoints.sorted(by: { $0.name < $1.name }) {
                let client = try KubernetesClient(connection: try .kubeconfig(path: e.kubeconfig, context: nil))
                var configuration = KubernetesDriver.Configuration()
                configuration.restartTimeout = .seconds(600)
                configuration.scaleTimeout = .seconds(900)
                let token = UUID().uuidString
                let tokenFile = env.directory + "/agent-\(e.name).token"
                try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
                agents.append(
                    DemoAgent(
                        cluster: e.name, token: token, tokenFile: tokenFile,
                        driver: try KubernetesDriver(client: client, configuration: configuration, logger: logger)))
            }
            let result: Result<Void, any Error>
            do {
                result = .success(
                    try await runServices(
                        env: env, admin: admin, agents: agents, options: options, output: output, outcome: outcome))
            } catch {
                result = .failure(error)
            }
            for a in agents { try? await a.driver.client.shutdown() }
            await admin.shutdown()
            await base.triggerGracefulShutdown()
            try result.get()
        }
        return outcome.passed.withLock { $0 }
    }

    /// The agents, the dashboard, the applications' sampler and the scenario, until the scenario ends (with
    /// `exitAfterScenario`) or a signal.
    static func runServices(
        env: DemoEnvironment, admin: KafkaAdmin, agents: [DemoAgent], options: DemoOptions, output: DemoOutput,
        outcome: DemoOutcome
    ) async throws {
        let logger = env.logger
        let (agentPorts, agentPortsContinuation) = AsyncStream<(String, Int)>.makeStream()
        var services: [any Service] = []
        for agent in agents {
            let cluster = agent.cluster
            services.append(
                try AgentServer.application(
                    driver: agent.driver,
                    configuration: .init(host: "127.0.0.1", port: 0, token: agent.token, cluster: cluster),
                    logger: logger, onServerRunning: { port in agentPortsContinuation.yield((cluster, port)) }))
        }
        let directory = AgentDirectory()
        let agentsReady = AsyncStream<Void>.makeStream()
        let producer = try DemoProducer(
            DemoProducer.Configuration(bootstrap: env.sim.bootstrap, topic: DemoEnvironment.appTopic),
            stats: env.stats)
        let consumer = try DemoConsumer(
            DemoConsumer.Configuration(bootstrap: env.sim.bootstrap, topic: DemoEnvironment.appTopic),
            stats: env.stats)
        let agentClients: [any AgentAPI] = agents.map {
            LazyAgent(cluster: $0.cluster, directory: directory, token: $0.token)
        }
        let source = LiveDashboardSource(
            clusters: [
                LiveDashboardCluster(
                    name: "demo", admin: admin, agents: agentClients,
                    rackClusters: env.rackClusters)
            ], feeds: env.operations.feeds(store: env.store, stats: env.stats))
        let router = Router()
        Dashboard.addRoutes(to: router, source: source)
        let dashboardPort = AsyncStream<Int>.makeStream()
        services.append(
            Application(
                router: router, configuration: .init(address: .hostname(options.host, port: options.port)),
                onServerRunning: { channel in
                    dashboardPort.continuation.yield(channel.localAddress?.port ?? 0)
                    dashboardPort.continuation.finish()
                }, logger: logger))
        services.append(Sampler(stats: env.stats))
        let scenario = ScenarioService(
            env: env, admin: admin, options: options, output: output, outcome: outcome, producer: producer,
            consumer: consumer,
            agents: agentClients, service: nil, dashboard: dashboardPort.stream, agentsReady: agentsReady.stream)
        services.append(scenario)
        let group = ServiceGroup(
            configuration: .init(
                services: services.map {
                    // The scenario ends the demo when it returns (with --exit-after-scenario it does).
                    ServiceGroupConfiguration.ServiceConfiguration(
                        service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                var seen = 0
                for await (cluster, port) in agentPorts {
                    directory.urls.withLock { $0[cluster] = "http://127.0.0.1:\(port)" }
                    seen += 1
                    if seen == agents.count { break }
                }
                agentsReady.continuation.finish()
            }
            let result: Result<Void, any Error>
            do { result = .success(try await group.run()) } catch { result = .failure(error) }
            tasks.cancelAll()
            agentPortsContinuation.finish()
            agentsReady.continuation.finish()
            try result.get()
        }
        // However the demo ended, the applications stop (their threads use the simulator).
        _ = await producer.stop()
        _ = await consumer.stop()
    }
}

/// The agents' URLs, known once each listens.
final class AgentDirectory: Sendable {
    let urls = Mutex<[String: String]>([:])
}

/// An agent client whose URL is known once the agent listens (the dashboard is made before the agents run).
struct LazyAgent: AgentAPI {
    let cluster: String
    let directory: AgentDirectory
    let token: String

    var endpoint: String { directory.urls.withLock { $0[cluster] } ?? "the agent of \(cluster)" }

    func client() throws -> HTTPAgentClient {
        guard let url = directory.urls.withLock({ $0[cluster] }) else {
            throw DemoUsageError("the agent of \(cluster) is not listening yet")
        }
        return HTTPAgentClient(endpoint: url, token: token)
    }

    func nodes() async throws -> [AgentNode] { try await client().nodes() }
    func restart(node: Int32, requestId: String) async throws -> AgentOperation {
        try await client().restart(node: node, requestId: requestId)
    }
    func operation(_ id: String) async throws -> AgentOperation { try await client().operation(id) }
}

/// Whether the scenario passed (nil until it ended).
final class DemoOutcome: Sendable {
    let passed = Mutex<Bool?>(nil)
}
