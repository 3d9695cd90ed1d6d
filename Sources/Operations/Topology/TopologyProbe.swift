import AgentContract
public import AsyncHTTPClient
import Foundation
public import KafkaAdmin
import KafkaModel
public import ServiceConfig

/// The I/O of `ballast topology check`: the cluster's snapshot and every agent's node list (each agent asked with
/// its own token), handed to `TopologyCheck`.
public enum TopologyProbe {
    /// Reads `cluster` through `admin` and its agents, and checks it.
    public static func run(
        _ cluster: ServiceConfiguration.Cluster, admin: KafkaAdmin, client: HTTPClient = .shared
    ) async throws -> TopologyReport {
        let snapshot = try await admin.snapshot()
        var reports: [AgentReport] = []
        for agent in cluster.agents { reports.append(await report(agent, client: client)) }
        return TopologyCheck.check(
            cluster: cluster.name, snapshot: snapshot, agents: reports, racks: cluster.racks,
            planCommand: { planCommand(cluster, racks: $0) })
    }

    static func report(_ agent: ServiceConfiguration.Agent, client: HTTPClient) async -> AgentReport {
        let token: String
        do {
            token = try agent.token()
        } catch {
            return AgentReport(name: agent.name, url: agent.url, outcome: .failed("\(error)"))
        }
        do {
            let nodes = try await HTTPAgentClient(endpoint: agent.url, token: token, client: client).nodes()
            return AgentReport(name: agent.name, url: agent.url, outcome: .nodes(nodes))
        } catch let error as AgentClientError {
            switch error.code {
            case .answered(let status) where status == 401 || status == 403:
                return AgentReport(name: agent.name, url: agent.url, outcome: .unauthorized(error.message))
            case .unreachable:
                return AgentReport(name: agent.name, url: agent.url, outcome: .unreachable(error.message))
            default:
                return AgentReport(name: agent.name, url: agent.url, outcome: .failed(error.message))
            }
        } catch {
            return AgentReport(name: agent.name, url: agent.url, outcome: .failed("\(error)"))
        }
    }

    /// The admin client's configuration for the cluster's bootstrap servers and security settings (the SASL
    /// password read from its file).
    public static func adminConfiguration(_ cluster: ServiceConfiguration.Cluster) throws -> KafkaAdminConfiguration {
        let s = cluster.security
        var security = KafkaSecurity()
        if s.usesTLS {
            security.tls = KafkaSecurity.TLS(
                caFile: s.caFile, certificateFile: s.certFile, keyFile: s.keyFile, verifyHostname: s.verifyHostname)
        }
        if s.usesSASL, let m = s.saslMechanism.flatMap({ KafkaSecurity.SASL.Mechanism(rawValue: $0) }),
            let user = s.saslUsername, let file = s.saslPasswordFile
        {
            guard let password = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ServiceConfigurationError(
                    "the SASL password file \(file) of cluster \(cluster.name) could not be read")
            }
            security.sasl = KafkaSecurity.SASL(
                mechanism: m, username: user, password: password.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return KafkaAdminConfiguration(bootstrapServers: cluster.bootstrap, security: security)
    }

    /// `ballast plan` for this cluster with its racks' Kubernetes clusters: the rebalance that fixes the placement
    /// (secrets left out: the SASL password comes from `BALLAST_SASL_PASSWORD`).
    public static func planCommand(_ cluster: ServiceConfiguration.Cluster, racks: [String: String]) -> String {
        var args = ["ballast", "plan", "--bootstrap", cluster.bootstrap.joined(separator: ",")]
        let s = cluster.security
        if s.protocol != "PLAINTEXT" { args += ["--security-protocol", s.protocol] }
        if let f = s.caFile { args += ["--ssl-ca", f] }
        if let f = s.certFile { args += ["--ssl-cert", f] }
        if let f = s.keyFile { args += ["--ssl-key", f] }
        if s.usesTLS && !s.verifyHostname { args.append("--no-hostname-check") }
        if let m = s.saslMechanism, s.usesSASL { args += ["--sasl-mechanism", m] }
        if let u = s.saslUsername, s.usesSASL { args += ["--sasl-username", u] }
        args += [
            "--rack-clusters", racks.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            "--mode", "rebalance",
        ]
        return args.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }
}
