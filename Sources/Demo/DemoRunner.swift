import Agent
import AgentContract
import AgentKubernetesDriver
import BallastStore
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
import Server
import ServiceConfig
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
            let result: Result<Void, any Error>
            do {
                result = .success(
                    try await runAgentsAndServices(env: env, options: options, output: output, outcome: outcome))
            } catch {
                result = .failure(error)
            }
            // Graceful, never cancelled: a cancelled server can trap on a connection it has just accepted
            // (apple/swift-nio#3481).
            await base.triggerGracefulShutdown()
            try await tasks.waitForAll()
            try result.get()
        }
        return outcome.passed.withLock { $0 }
    }

    /// Once the simulator and the Kubernetes APIs serve: one `kubernetes` agent per Kubernetes cluster, then the
    /// services (`runServices`).
    static func runAgentsAndServices(
        env: DemoEnvironment, options: DemoOptions, output: DemoOutput, outcome: DemoOutcome
    ) async throws {
        let logger = env.logger
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
        try result.get()
    }

    /// The agents first (the service's configuration names their URLs), then `ballast serve`'s engine with the
    /// dashboard on its HTTP server, the applications' sampler and the scenario, until the scenario ends (with
    /// `exitAfterScenario`) or a signal.
    static func runServices(
        env: DemoEnvironment, admin: KafkaAdmin, agents: [DemoAgent], options: DemoOptions, output: DemoOutput,
        outcome: DemoOutcome
    ) async throws {
        let logger = env.logger
        let (agentPorts, agentPortsContinuation) = AsyncStream<(String, Int)>.makeStream()
        var agentApps: [ServiceGroupConfiguration.ServiceConfiguration] = []
        for agent in agents {
            let cluster = agent.cluster
            agentApps.append(
                .init(
                    service: try AgentServer.application(
                        driver: agent.driver,
                        configuration: .init(host: "127.0.0.1", port: 0, token: agent.token, cluster: cluster),
                        logger: logger, onServerRunning: { port in agentPortsContinuation.yield((cluster, port)) })))
        }
        let agentGroup = ServiceGroup(
            configuration: .init(services: agentApps, gracefulShutdownSignals: [], logger: logger))
        let directory = AgentDirectory()
        let producer = try DemoProducer(
            DemoProducer.Configuration(bootstrap: env.sim.bootstrap, topic: DemoEnvironment.appTopic),
            stats: env.stats)
        let consumer = try DemoConsumer(
            DemoConsumer.Configuration(bootstrap: env.sim.bootstrap, topic: DemoEnvironment.appTopic),
            stats: env.stats)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await agentGroup.run() }
            var seen = 0
            for await (cluster, port) in agentPorts {
                directory.urls.withLock { $0[cluster] = "http://127.0.0.1:\(port)" }
                seen += 1
                if seen == agents.count { break }
            }
            agentPortsContinuation.finish()
            let result: Result<Void, any Error>
            do {
                result = .success(
                    try await runService(
                        env: env, admin: admin, agents: agents, directory: directory, options: options,
                        output: output, outcome: outcome, producer: producer, consumer: consumer))
            } catch {
                result = .failure(error)
            }
            // However the demo ended, the applications stop first (their threads use the simulator).
            _ = await producer.stop()
            _ = await consumer.stop()
            await agentGroup.triggerGracefulShutdown()
            try await tasks.waitForAll()
            try result.get()
        }
    }

    /// `ballast serve`'s engine (SQLite store, the demo's cluster and agents, admin and read tokens) and its HTTP
    /// server with the dashboard mounted, the sampler and the scenario.
    static func runService(
        env: DemoEnvironment, admin: KafkaAdmin, agents: [DemoAgent], directory: AgentDirectory,
        options: DemoOptions, output: DemoOutput, outcome: DemoOutcome, producer: DemoProducer,
        consumer: DemoConsumer
    ) async throws {
        let logger = env.logger
        let adminToken = UUID().uuidString
        let readToken = UUID().uuidString
        try adminToken.write(toFile: env.directory + "/admin.token", atomically: true, encoding: .utf8)
        try readToken.write(toFile: env.directory + "/read.token", atomically: true, encoding: .utf8)
        let urls = directory.urls.withLock { $0 }
        let racks = env.rackClusters.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        let yaml = """
            store: sqlite://\(env.directory)/serve.sqlite
            tokens: {admin: \(env.directory)/admin.token, read: \(env.directory)/read.token}
            clusters:
              - name: \(ScenarioService.cluster)
                bootstrap: \(env.sim.bootstrap)
                agents:
            \(agents.map { "      - {name: \($0.cluster), url: \(urls[$0.cluster]!), tokenFile: \($0.tokenFile)}" }.joined(separator: "\n"))
                racks: {\(racks.joined(separator: ", "))}
                pools: {kafka: {min: 1, max: 20}}
            """
        let configPath = env.directory + "/ballast.yaml"
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        let configuration = try ServiceConfiguration.load(path: configPath)
        let store = try SQLiteOperationsStore(file: env.directory + "/serve.sqlite")
        var policy = EnginePolicy()
        policy.scaleCooldown = .seconds(0)
        policy.roll.timeouts.pollSeconds = 0.2
        let metrics = ServiceMetrics()
        let engine = ServiceEngine(
            configuration: configuration, store: store, engineId: "ballast-demo", policy: policy, metrics: metrics,
            logger: logger)
        try await engine.start()
        let serviceURL = ServiceURL()
        let router = ServiceServer.router(
            engine: engine, tokens: ServiceServer.Tokens(admin: adminToken, read: readToken), metrics: metrics)
        let lazyAgents = agents.map { LazyAgent(cluster: $0.cluster, directory: directory, token: $0.token) }
        let agentClients: [any AgentAPI] = lazyAgents
        let source = LiveDashboardSource(
            clusters: [
                LiveDashboardCluster(
                    name: ScenarioService.cluster, admin: admin, agents: agentClients, rackClusters: env.rackClusters)
            ], feeds: env.operations.feeds(service: serviceURL, token: readToken, store: env.store, stats: env.stats))
        Dashboard.addRoutes(to: router, source: source)
        let port = AsyncStream<Int>.makeStream()
        let app = Application(
            router: DeclaredMethods(router, metrics: metrics),
            configuration: .init(address: .hostname(options.host, port: options.port)),
            onServerRunning: { channel in
                let p = channel.localAddress?.port ?? 0
                serviceURL.url.withLock { $0 = "http://127.0.0.1:\(p)" }
                port.continuation.yield(p)
                port.continuation.finish()
            }, logger: logger)
        let scenario = ScenarioService(
            env: env, admin: admin, options: options, output: output, outcome: outcome, producer: producer,
            consumer: consumer, agents: lazyAgents, service: serviceURL, adminToken: adminToken,
            dashboard: port.stream)
        let services: [any Service] = [app, Sampler(stats: env.stats), scenario]
        let group = ServiceGroup(
            configuration: .init(
                services: services.map {
                    // The scenario ends the demo when it returns (with --exit-after-scenario it does).
                    ServiceGroupConfiguration.ServiceConfiguration(
                        service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let result: Result<Void, any Error>
        do { result = .success(try await group.run()) } catch { result = .failure(error) }
        await engine.stop()
        try result.get()
    }
}

/// `ballast serve`'s base URL in this process, known once its server listens.
final class ServiceURL: Sendable {
    let url = Mutex<String?>(nil)

    func client(token: String) -> ServiceAPIClient? {
        url.withLock { $0 }.map { ServiceAPIClient(base: $0, token: token) }
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
