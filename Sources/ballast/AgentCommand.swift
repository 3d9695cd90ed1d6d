import Agent
import AgentKubernetesDriver
import AgentProcessDriver
import AgentSimDriver
import ArgumentParser
import Foundation
import KafkaModel
import KubernetesAPI
import Logging
import NIOSSL
import ServiceLifecycle

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Runs a per-cluster agent that restarts the Kafka nodes it manages (agent HTTP API, bearer auth).",
        discussion: """
            Drivers: process (--config agent.yaml: nodes with id, roles, zone, restart command, optional ready \
            command), sim (--sim-control URL of 'ballast sim') and kubernetes (pods matching --selector in \
            --namespace, through --kubeconfig or, without it, the pod's service account; restarts delete the pod \
            with a uid precondition, or evict it with --evict, and wait for its replacement to be Ready; pools are \
            scaled through their scale subresource; see docs/kubernetes.md). Prints \
            'listening=http://HOST:PORT' once it accepts requests (https with --tls-cert and --tls-key; with \
            --tls-client-ca a client must also present a certificate that CA signed, besides the bearer token). \
            Restart and scale operations are kept in the operations store (--state-dir/roller.sqlite), so a \
            restarted agent still answers the request ids it accepted; an operation that was running when the \
            agent stopped is reported failed, never run again. Exit codes: 0 stopped; 1 failed; 2 bad usage or \
            input (including a state directory that cannot be written or a corrupt state store).
            """)

    @Option(help: "process | sim | kubernetes.") var driver: String
    @Option(help: "Where to listen, HOST:PORT (port 0 picks a free port).") var listen: String = "127.0.0.1:0"
    @Option(help: "The process driver's agent.yaml.") var config: String?
    @Option(help: "The sim driver's simulator control URL.") var simControl: String?
    @Option(help: "A file holding the bearer token (default: $BALLAST_AGENT_TOKEN).") var tokenFile: String?
    @Option(help: "The Kubernetes cluster name reported with every node.") var cluster: String?
    @Option(help: "Where the agent keeps its restart operations (created when missing).")
    var stateDir: String = "~/.ballast/agent"
    @Option(help: "PEM certificate (chain) to serve HTTPS with (needs --tls-key).") var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: "PEM CA that must have signed every client's certificate (mutual TLS).") var tlsClientCa: String?

    @OptionGroup(title: "kubernetes driver") var kubernetes: KubernetesDriverOptions

    func run() async throws {
        do {
            try await serve()
        } catch let error as AgentUsageError {
            FileHandle.standardError.write(Data("ballast agent: \(error.message)\n".utf8))
            throw BallastExit.badInput
        } catch let error as AgentError {
            FileHandle.standardError.write(Data("ballast agent: \(error.message)\n".utf8))
            throw BallastExit.badInput
        }
    }

    func serve() async throws {
        let token: String
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw AgentUsageError("the token file \(tokenFile) could not be read")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            token = ProcessInfo.processInfo.environment["BALLAST_AGENT_TOKEN"] ?? ""
        }
        guard !token.isEmpty else { throw AgentUsageError("no token: pass --token-file or set BALLAST_AGENT_TOKEN") }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw AgentUsageError("--listen must be HOST:PORT, got '\(listen)'")
        }
        let host = String(listen[..<colon])
        var logger = Logger(label: "ballast.agent")
        logger.logLevel = .info
        var tls: TLSConfiguration?
        switch (tlsCert, tlsKey) {
        case (let cert?, let key?):
            tls = try AgentServer.tlsConfiguration(certificateFile: cert, keyFile: key, clientCAFile: tlsClientCa)
        case (nil, nil):
            if tlsClientCa != nil { throw AgentUsageError("--tls-client-ca needs --tls-cert and --tls-key") }
        default:
            throw AgentUsageError("--tls-cert and --tls-key go together")
        }
        let nodeDriver: any NodeDriver
        switch driver {
        case "process":
            guard let config else { throw AgentUsageError("the process driver needs --config agent.yaml") }
            nodeDriver = try ProcessDriver(path: config)
        case "sim":
            guard let simControl else { throw AgentUsageError("the sim driver needs --sim-control URL") }
            nodeDriver = SimDriver(control: simControl)
        case "kubernetes":
            nodeDriver = try await kubernetes.driver(logger: logger)
        default:
            throw AgentUsageError("unknown driver '\(driver)' (process, sim, kubernetes)")
        }
        // The kubernetes driver's HTTP client must be shut down however the agent ends.
        let result: Result<Void, any Error>
        do {
            try await run(nodeDriver, host: host, port: port, token: token, tls: tls, logger: logger)
            result = .success(())
        } catch {
            result = .failure(error)
        }
        if let k = nodeDriver as? KubernetesDriver { try? await k.client.shutdown() }
        try result.get()
    }

    func run(
        _ nodeDriver: any NodeDriver, host: String, port: Int, token: String, tls: TLSConfiguration?, logger: Logger
    ) async throws {
        let store = try OperationStore(directory: (stateDir as NSString).expandingTildeInPath)
        let lock = try StateDirectoryLock(directory: store.directory)
        defer { withExtendedLifetime(lock) {} }
        let operations = try RestartOperations(store: store)
        for op in operations.interrupted {
            logger.warning(
                "an operation was running when the agent last stopped; it is reported failed",
                metadata: [LogKey.agentOperationId: "\(op.id)", "subject": "\(op.subject)"])
        }
        let scheme = tls == nil ? "http" : "https"
        let app = try AgentServer.application(
            driver: nodeDriver,
            configuration: .init(host: host, port: port, token: token, cluster: cluster, tls: tls),
            logger: logger, operations: operations,
            onServerRunning: { port in
                print("listening=\(scheme)://\(host):\(port)")
                fflush(nil)
            })
        try await app.runService()
    }
}

struct AgentUsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// The kubernetes driver's flags.
struct KubernetesDriverOptions: ParsableArguments {
    @Option(help: "A kubeconfig (default: the pod's service account, in a pod).") var kubeconfig: String?
    @Option(help: "The kubeconfig context (default: its current context).") var context: String?
    @Option(help: "The namespace of the Kafka pods (default: the context's or the service account's).")
    var namespace: String?
    @Option(help: "The Kafka pods' label selector.") var selector: String = KafkaPodLabels.defaultSelector
    @Option(
        name: .customLong("node-id"),
        help: "Where a pod's Kafka node id comes from: auto | label:KEY | annotation:KEY | ordinal | ordinal+N.")
    var nodeId: String = "auto"
    @Option(help: "The zone label, on the pod (or on its Kubernetes node with --zone-from-node).")
    var zoneLabel: String = KafkaPodLabels.zone
    @Flag(help: "Read the zone from the pod's Kubernetes node (needs get on nodes).") var zoneFromNode = false
    @Option(
        name: .customLong("pool-resource"),
        help: ArgumentHelp(
            "A pool to scale: statefulsets/NAME or kafkanodepools.kafka.strimzi.io/NAME (repeatable; default: the "
                + "StatefulSets or Strimzi pools of the selected pods)."))
    var pools: [String] = []
    @Flag(help: "Restart by eviction (PodDisruptionBudgets honoured) instead of deleting the pod.") var evict = false
    @Option(help: "Seconds a restarted pod may take to be Ready again.") var restartTimeout: Double = 600
    @Option(help: "Seconds a scaled pool may take to have all its pods Ready.") var scaleTimeout: Double = 900
    @Option(help: "Seconds between evictions refused by a PodDisruptionBudget.") var evictionRetry: Double = 5
    @Option(help: "The service account directory (token, ca.crt, namespace) used without --kubeconfig.")
    var serviceAccountDir: String = KubernetesConnection.serviceAccountDirectory

    func driver(logger: Logger) async throws -> KubernetesDriver {
        for (flag, value) in [
            ("--restart-timeout", restartTimeout), ("--scale-timeout", scaleTimeout),
            ("--eviction-retry", evictionRetry),
        ] where !(value > 0 && value.isFinite) {
            throw AgentUsageError("\(flag) must be more than 0 seconds, not \(value)")
        }
        do {
            let connection =
                try kubeconfig.map { try KubernetesConnection.kubeconfig(path: $0, context: context) }
                ?? KubernetesConnection.inCluster(
                    environment: ProcessInfo.processInfo.environment, directory: serviceAccountDir)
            var configuration = KubernetesDriver.Configuration()
            configuration.namespace = namespace
            configuration.selector = selector
            configuration.nodeId = try NodeIdSource(parsing: nodeId)
            configuration.zoneLabel = zoneLabel
            configuration.zoneFromNode = zoneFromNode
            configuration.pools = pools
            configuration.evict = evict
            configuration.restartTimeout = .milliseconds(Int64(restartTimeout * 1000))
            configuration.scaleTimeout = .milliseconds(Int64(scaleTimeout * 1000))
            configuration.evictionRetry = .milliseconds(Int64(evictionRetry * 1000))
            let client = try KubernetesClient(connection: connection)
            do {
                return try KubernetesDriver(client: client, configuration: configuration, logger: logger)
            } catch {
                try? await client.shutdown()
                throw error
            }
        } catch let error as AgentError {
            throw AgentUsageError(error.message)
        }
    }
}
