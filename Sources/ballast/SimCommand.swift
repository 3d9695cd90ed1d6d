import ArgumentParser
import Foundation
import KafkaModel
import KafkaSim
import KubernetesAPI
import KubernetesSim
import Logging
import ServiceLifecycle

/// `ballast sim`: a simulated Kafka cluster on 127.0.0.1 until interrupted.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run a simulated Kafka cluster that speaks the wire protocol on 127.0.0.1.",
        discussion: """
            Prints `bootstrap=HOST:PORT,...` and `control=http://127.0.0.1:PORT` first (and \
            `security-protocol=SSL|SASL_PLAINTEXT|SASL_SSL` when the listeners are secured, and with \
            --kubernetes-port a `kubeconfig=PATH` line per simulated Kubernetes cluster), then runs until \
            interrupted. See docs/simulator.md and docs/kubernetes.md.
            """
    )

    @Option(help: "Number of brokers.") var brokers = 6
    @Option(help: "Number of racks; brokers are spread over them round-robin.") var racks = 3
    @Option(help: "Number of Kubernetes clusters; racks are spread over them round-robin.") var clusters = 1
    @Option(help: "Separate KRaft controllers (0: the first three brokers are combined controllers).") var controllers =
        0
    @Option(help: "Topics created at start (topic-0, topic-1, ...).") var topics = 20
    @Option(help: "Partitions per topic.") var partitions = 12
    @Option(help: "Replication factor of the topics.") var replicationFactor = 3
    @Option(name: .customLong("min-isr"), help: "min.insync.replicas of the topics.") var minIsr = 2
    @Option(help: "Load brokers and topics from a cluster model file (JSON) instead.") var model: String?
    @Option(help: "First Kafka port (node i listens on PORT+i); 0 picks free ports.") var port = 39092
    @Option(help: "Control API port; 0 picks a free one.") var controlPort = 39090
    @Option(help: "Cluster seconds per real second.") var timeScale: Double = 1
    @Option(help: "Seed for placement and ids.") var seed: UInt64 = 1
    @Option(help: "Kafka version whose configs and update modes the brokers have.") var kafkaVersion = "4.1"
    @Option(help: "Start-up delay of a broker, cluster milliseconds.") var startupDelayMs: Int64 = 6000
    @Option(help: "Unthrottled replication into one broker, bytes per second.") var replicationRate: Int64 =
        100 * 1024 * 1024
    @Option(name: .customLong("config"), help: "A static broker config KEY=VALUE for every node (repeatable).")
    var configs: [String] = []
    @Option(
        help: ArgumentHelp(
            "Serve a simulated Kubernetes API (HTTPS) per simulated Kubernetes cluster on this port and the next "
                + "ones (0 picks free ports)."))
    var kubernetesPort: Int?
    @Option(help: "Where the kubeconfigs, tokens and certificates go (default: a new temporary directory).")
    var kubernetesDir: String?
    @Option(help: "A Role/ClusterRole YAML file: every Kubernetes API call outside it is refused with 403.")
    var kubernetesRole: String?
    @Option(help: "Record batches kept per partition, bytes (the memory bound; older ones are dropped).")
    var logBytesPerPartition: Int64 = 4 * 1024 * 1024
    @Option(help: "Time a new group coordinator takes to load its groups, cluster milliseconds.")
    var coordinatorLoadMs: Int64 = 200
    @Option(help: "PEM certificate (chain) of the listeners; with --tls-key every listener speaks TLS.")
    var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: "PEM CA that must have signed a client's certificate (mutual TLS, ssl.client.auth=required).")
    var tlsClientCa: String?
    @Option(help: "SASL users file, one user:password per line; every listener then requires SASL.")
    var saslUsers: String?
    @Option(help: "SASL mechanisms the listeners enable, comma-separated.")
    var saslMechanisms = SimSaslUsers.allMechanisms.joined(separator: ",")

    func run() async throws {
        let topology: SimTopology
        let settings: SimSettings
        do {
            (topology, settings) = try makeTopology()
        } catch {
            FileHandle.standardError.write(Data("ballast sim: \(error)\n".utf8))
            throw BallastExit.badInput
        }
        let security: SimListenerSecurity
        do {
            security = try listenerSecurity()
        } catch {
            FileHandle.standardError.write(Data("ballast sim: \(error.message)\n".utf8))
            throw BallastExit.badInput
        }
        let cluster: SimCluster
        do {
            guard let catalog = SimConfigCatalog.kafka(kafkaVersion) else {
                throw SimTopologyError("--kafka-version \"\(kafkaVersion)\" is not a Kafka version like 4.1")
            }
            cluster = try topology.build(settings: settings, catalog: catalog)
        } catch let error as SimTopologyError {
            FileHandle.standardError.write(Data("ballast sim: \(error.message)\n".utf8))
            throw BallastExit.badInput
        }
        var logger = Logger(label: "ballast.sim")
        logger.logLevel = .warning
        let simulator = KafkaSimulator(
            cluster: cluster, timeScale: timeScale, stallLimit: KafkaSimulator.defaultStallLimit)
        var config = KafkaSimServer.Configuration()
        config.basePort = port
        config.controlPort = controlPort
        config.security = security
        let server = KafkaSimServer(
            simulator: simulator, configuration: config, responder: KafkaProtocolResponder.make(simulator),
            logger: logger)
        let kubernetes: KubernetesSimulator?
        do {
            kubernetes = try makeKubernetes(server: server, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("ballast sim: \(error)\n".utf8))
            throw BallastExit.badInput
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [server] + (kubernetes.map { [$0] } ?? []), gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                guard let control = await server.waitUntilReady() else { return }
                var lines = "bootstrap=\(server.bootstrap)\ncontrol=\(control)\n"
                if security.protocolName != "PLAINTEXT" { lines += "security-protocol=\(security.protocolName)\n" }
                for endpoint in await kubernetes?.waitUntilReady() ?? [] {
                    lines += "kubeconfig=\(endpoint.kubeconfig)\n"
                }
                FileHandle.standardOutput.write(Data(lines.utf8))
            }
            defer {
                // A directory the simulator made for itself (kubeconfigs, tokens, the CA's key) goes with it.
                if kubernetesDir == nil, let directory = kubernetes?.configuration.directory {
                    try? FileManager.default.removeItem(atPath: directory)
                }
            }
            try await tasks.waitForAll()
        }
    }

    func makeKubernetes(server: KafkaSimServer, logger: Logger) throws -> KubernetesSimulator? {
        guard let kubernetesPort else {
            if kubernetesDir != nil || kubernetesRole != nil {
                throw UsageError(description: "--kubernetes-dir and --kubernetes-role need --kubernetes-port")
            }
            return nil
        }
        guard (0...65535).contains(kubernetesPort) else {
            throw UsageError(description: "--kubernetes-port \(kubernetesPort) is not a port")
        }
        let directory =
            kubernetesDir
            ?? (NSTemporaryDirectory() as NSString).appendingPathComponent(
                "ballast-sim-kubernetes-\(UUID().uuidString)")
        var configuration = KubernetesSimulator.Configuration(directory: directory)
        configuration.basePort = kubernetesPort
        configuration.seed = seed
        if let kubernetesRole { configuration.policy = try RBACPolicy.load(yamlFile: kubernetesRole) }
        return try KubernetesSimulator(kafka: server, configuration: configuration, logger: logger)
    }

    /// The listeners' TLS and SASL from the flags; errors name the flag or the file.
    func listenerSecurity() throws(SimTopologyError) -> SimListenerSecurity {
        var security = SimListenerSecurity()
        switch (tlsCert, tlsKey) {
        case (let cert?, let key?):
            security.tls = try SimListenerSecurity.tlsContext(
                certificateFile: cert, keyFile: key, clientCAFile: tlsClientCa)
        case (nil, nil):
            if tlsClientCa != nil { throw SimTopologyError("--tls-client-ca needs --tls-cert and --tls-key") }
        default:
            throw SimTopologyError("--tls-cert and --tls-key go together")
        }
        if let saslUsers {
            guard let data = FileManager.default.contents(atPath: saslUsers),
                let text = String(data: data, encoding: .utf8)
            else { throw SimTopologyError("cannot read the SASL users file \(saslUsers)") }
            let mechanisms = saslMechanisms.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            security.sasl = try SimSaslUsers(parsing: text, fileName: saslUsers, mechanisms: mechanisms)
        }
        return security
    }

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    func makeTopology() throws -> (SimTopology, SimSettings) {
        var t = SimTopology()
        t.brokers = brokers
        t.racks = racks
        t.clusters = clusters
        t.controllers = controllers
        t.topics = topics
        t.partitions = partitions
        t.replicationFactor = replicationFactor
        t.minInsyncReplicas = minIsr
        for c in configs {
            guard let eq = c.firstIndex(of: "="), eq != c.startIndex else {
                throw UsageError(description: "--config \"\(c)\" is not KEY=VALUE")
            }
            t.staticConfigs[String(c[..<eq])] = String(c[c.index(after: eq)...])
        }
        if let model {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: model))
            } catch {
                throw UsageError(description: "cannot read the model file \(model): \(error.localizedDescription)")
            }
            do {
                t.model = try ClusterModelFile.decode(Array(data))
            } catch {
                throw UsageError(description: "model file \(model): \(error)")
            }
        }
        guard port == 0 || (1...65535).contains(port) else {
            throw UsageError(description: "--port \(port) is not a port")
        }
        guard (0...65535).contains(controlPort) else {
            throw UsageError(description: "--control-port \(controlPort) is not a port")
        }
        guard timeScale > 0, timeScale.isFinite else {
            throw UsageError(description: "--time-scale must be positive, not \(timeScale)")
        }
        guard startupDelayMs >= 0 else { throw UsageError(description: "--startup-delay-ms must not be negative") }
        guard replicationRate > 0 else { throw UsageError(description: "--replication-rate must be positive") }
        guard logBytesPerPartition > 0 else {
            throw UsageError(description: "--log-bytes-per-partition must be positive, not \(logBytesPerPartition)")
        }
        guard coordinatorLoadMs >= 0 else {
            throw UsageError(description: "--coordinator-load-ms must not be negative, not \(coordinatorLoadMs)")
        }
        try t.validate()
        var s = SimSettings()
        s.seed = seed
        s.startupDelayMs = startupDelayMs
        s.replicationBytesPerSecond = replicationRate
        s.maxStoredBytesPerPartition = logBytesPerPartition
        s.coordinatorLoadMs = coordinatorLoadMs
        return (t, s)
    }
}
