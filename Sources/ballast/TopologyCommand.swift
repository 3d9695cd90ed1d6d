import ArgumentParser
import Foundation
import KafkaAdmin
import Operations
import ServiceConfig

/// `ballast topology check`: a stretch topology against the live cluster.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology", abstract: "Stretch topology of Kafka clusters over Kubernetes clusters.",
        subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Checks a cluster of the service configuration against the live cluster and its agents.",
            discussion: """
                Checks that every agent answers with its token, every node in the cluster's metadata is claimed by \
                exactly one agent, every broker's rack lies in its agent's Kubernetes cluster (the configuration's \
                racks), the KRaft controllers are spread over at least 3 Kubernetes clusters so a quorum survives \
                the loss of any one, and no Kubernetes cluster holds more than RF - min ISR replicas of a \
                partition (listing those that do and the `ballast plan` that fixes them). Exit codes: 0 every check \
                passed; 1 a check failed or the cluster could not be read; 2 bad usage or a bad configuration.
                """)

        @Option(help: "The service configuration (YAML, DESIGN.md).") var config: String
        @Option(help: "The cluster to check (default: the first in the configuration).") var cluster: String?
        @Flag(help: "Print the report as JSON.") var json = false

        func run() async throws {
            let settings: ServiceConfiguration.Cluster
            let adminConfiguration: KafkaAdminConfiguration
            do {
                settings = try ServiceConfiguration.load(path: config).cluster(named: cluster)
                adminConfiguration = try TopologyProbe.adminConfiguration(settings)
            } catch {
                FileHandle.standardError.write(Data("ballast topology check: \(error)\n".utf8))
                throw BallastExit.badInput
            }
            let report: TopologyReport
            do {
                let admin = try KafkaAdmin(configuration: adminConfiguration)
                let result: Result<TopologyReport, any Error>
                do { result = .success(try await TopologyProbe.run(settings, admin: admin)) } catch {
                    result = .failure(error)
                }
                await admin.shutdown()
                report = try result.get()
            } catch {
                FileHandle.standardError.write(
                    Data("ballast topology check: cluster \(settings.name) could not be read: \(error)\n".utf8))
                throw BallastExit.failed
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(Self.text(report), terminator: "")
            }
            if !report.ok { throw BallastExit.failed }
        }

        static func text(_ r: TopologyReport) -> String {
            var out = "cluster \(r.cluster): \(r.ok ? "ok" : "FAILED")\n"
            for c in r.checks {
                out += "  \(c.ok ? "ok  " : "FAIL") \(c.name): \(c.summary)\n"
                for p in c.problems { out += "         - \(p)\n" }
                for n in c.notes { out += "         note: \(n)\n" }
            }
            if let fix = r.fix {
                out += "fix: \(fix)\n"
                if let ok = r.fixSatisfiesPlacement {
                    out +=
                        ok
                        ? "     (planned now: \(r.fixMoves ?? 0) replica move(s) satisfy the placement rule)\n"
                        : "     (planned now: the placement rule cannot be met with these Kubernetes clusters)\n"
                }
            }
            return out
        }
    }
}
