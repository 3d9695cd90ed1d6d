import Agent
import AgentProcessDriver
import AgentSimDriver
import ArgumentParser
import Foundation
import KafkaModel
import Logging
import NIOSSL
import ServiceLifecycle

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Runs a per-cluster agent that restarts the Kafka nodes it manages (agent HTTP API, bearer auth).",
        discussion: """
            Drivers: process (--config agent.yaml: nodes with id, roles, zone, restart command, optional ready \
            command) and sim (--sim-control URL of 'ballast sim'). Prints 'listening=http://HOST:PORT' once it \
            accepts requests (https with --tls-cert and --tls-key; with --tls-client-ca a client must also \
            present a certificate that CA signed, besides the bearer token). Restart operations are kept in --state-dir/operations.json, so a restarted agent \
            still answers the request ids it accepted; a restart that was running when the agent stopped is \
            reported failed, never run again. Exit codes: 0 stopped; 1 failed; 2 bad usage or input (including \
            a state directory that cannot be written or a corrupt state file).
            """)

    @Option(help: "process | sim (kubernetes is not built yet).") var driver: String
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
            throw AgentUsageError("the kubernetes driver is not built yet")
        default:
            throw AgentUsageError("unknown driver '\(driver)' (process, sim)")
        }
        var logger = Logger(label: "ballast.agent")
        logger.logLevel = .info
        let store = try OperationStore(directory: (stateDir as NSString).expandingTildeInPath)
        let lock = try StateDirectoryLock(directory: store.directory)
        defer { withExtendedLifetime(lock) {} }
        let operations = try RestartOperations(store: store)
        for op in operations.interrupted {
            logger.warning(
                "a restart was running when the agent last stopped; it is reported failed",
                metadata: [LogKey.agentOperationId: "\(op.id)", LogKey.brokerId: "\(op.node)"])
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
