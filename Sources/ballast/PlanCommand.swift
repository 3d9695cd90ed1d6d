import ArgumentParser
import Foundation
import KafkaAdmin
import KafkaModel
import Operations
import Planner

/// `ballast plan`: reads a model (or, later, a live cluster), plans, prints the proposal.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Computes a replica and leader placement proposal (Cruise-Control-style goals).")

    @Option(help: "Cluster model file (JSON, DESIGN.md format).")
    var model: String?

    @OptionGroup(title: "Live cluster (instead of --model)") var connection: ConnectionOptions

    @Option(
        name: .customLong("rack-clusters"),
        help: "With --bootstrap: the Kubernetes cluster of each rack, as RACK=CLUSTER,... (default: one cluster).")
    var rackClusters: String?

    @Option(
        help: ArgumentHelp(
            "With --bootstrap: a Prometheus scraping the brokers (base URL); its per-topic byte rates feed the "
                + "network goals (default: disk only)."))
    var prometheus: String?

    @Option(
        name: .customLong("prometheus-bytes-in-query"),
        help: "PromQL giving bytes in per second by topic (default: docs/planner.md).")
    var prometheusBytesInQuery: String = PrometheusTopicRates.Queries.default.bytesIn

    @Option(
        name: .customLong("prometheus-bytes-out-query"),
        help: "PromQL giving bytes out per second by topic (default: docs/planner.md).")
    var prometheusBytesOutQuery: String = PrometheusTopicRates.Queries.default.bytesOut

    @Option(help: "rebalance | add-brokers | remove-brokers | fix-offline")
    var mode: String = "rebalance"

    @Option(help: "Broker ids (comma-separated): the new brokers (add-brokers) or those to remove (remove-brokers).")
    var brokers: String?

    @Option(help: "Goals in priority order (comma-separated); default: policies/planner-goals.json.")
    var goals: String?

    @Option(help: "A planner policy file (goals and thresholds) replacing the built-in default.")
    var policy: String?

    @Option(name: .customLong("excluded-topics"), help: "Topics matching this regular expression are not moved.")
    var excludedTopics: String?

    @Option(name: .customLong("max-moves"), help: "At most this many replica moves.")
    var maxMoves: Int?

    @Flag(help: "Print the proposal as JSON.")
    var json = false

    func run() async throws {
        do {
            try plan(try await loadModel())
        } catch let error as PlanCommandError {
            FileHandle.standardError.write(Data("ballast plan: \(error.message)\n".utf8))
            throw error.exit
        }
    }

    private func plan(_ clusterModel: ClusterModel) throws {
        var request = PlanRequest()
        guard let planMode = PlanMode(rawValue: mode) else {
            throw PlanCommandError.badInput(
                "--mode \(mode) is unknown; use one of \(PlanMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        request.mode = planMode
        if let brokers {
            request.brokers = try brokers.split(separator: ",").map { s in
                guard let id = Int(s.trimmingCharacters(in: .whitespaces)) else {
                    throw PlanCommandError.badInput("--brokers: \(s) is not a broker id")
                }
                return id
            }
        }
        request.policy = try loadPolicy()
        if let goals {
            do { request.policy.goals = try PlannerPolicy.parseGoals(goals) } catch {
                throw PlanCommandError.badInput(error.description)
            }
        }
        if let excludedTopics {
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(excludedTopics) } catch {
                throw PlanCommandError.badInput(
                    "--excluded-topics: \(excludedTopics) is not a valid regular expression")
            }
            request.excludedTopics = Set(clusterModel.topicNames.filter { (try? regex.wholeMatch(in: $0)) != nil })
        }
        request.maxMoves = maxMoves

        let clock = ContinuousClock()
        let start = clock.now
        let result: Planner.Result
        do {
            result = try Planner.plan(clusterModel, request)
        } catch {
            throw error.kind == .badInput
                ? PlanCommandError.badInput(error.description) : PlanCommandError.infeasible(error.description)
        }
        var proposal = result.proposal
        let elapsed = clock.now - start
        proposal.summary.durationMs = Int(
            elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(proposal))
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else {
            print(proposal.text())
            if !proposal.moves.isEmpty {
                print("\nmoves (first 20 of \(proposal.moves.count)):")
                for m in proposal.moves.prefix(20) {
                    print(
                        "  \(m.topic)-\(m.partition): \(m.oldReplicas) -> \(m.newReplicas), leader \(m.oldLeader) -> "
                            + "\(m.newLeader), \(m.dataToMoveMiB) MiB\(m.crossCluster ? ", cross-cluster" : "")")
                }
            }
        }
        if let failed = proposal.firstFailedHardGoal {
            throw PlanCommandError.infeasible("\(failed.name): \(failed.detail ?? "not satisfied")")
        }
    }

    private func loadModel() async throws -> ClusterModel {
        switch (model, connection.bootstrap) {
        case (nil, nil): throw PlanCommandError.badInput("give --model FILE or --bootstrap SERVERS")
        case (.some, .some): throw PlanCommandError.badInput("give either --model or --bootstrap, not both")
        case (nil, .some):
            var live = try await liveModel()
            if let prometheus { try await applyRates(from: prometheus, to: &live) }
            return live
        case (.some, nil) where prometheus != nil:
            throw PlanCommandError.badInput("--prometheus applies to --bootstrap; a model file carries its own loads")
        case (.some(let path), nil):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PlanCommandError.badInput("--model: cannot read \(path)")
            }
            do {
                return try ClusterModel(modelJSON: Array(data))
            } catch {
                throw PlanCommandError.badInput("\(path): \(error.description)")
            }
        }
    }

    /// Reads the live cluster: metadata and min ISR (snapshot) and replica sizes and disk capacity (log dirs).
    private func liveModel() async throws -> ClusterModel {
        var rackCluster: [String: String] = [:]
        for pair in (rackClusters ?? "").split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { throw PlanCommandError.badInput("--rack-clusters: \(pair) is not RACK=CLUSTER") }
            rackCluster[String(kv[0])] = String(kv[1])
        }
        let configuration: KafkaAdminConfiguration
        do {
            try connection.check()
            configuration = try connection.adminConfiguration()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw PlanCommandError.badInput(ConnectionOptions.message(for: error))
        }
        do {
            let admin = try connection.makeAdmin(configuration)
            let result: Result<ClusterModel, KafkaAdminError>
            do { result = .success(try await ClusterModel.read(from: admin, rackCluster: rackCluster)) } catch {
                result = .failure(error)
            }
            await admin.shutdown()
            return try result.get()
        } catch {
            throw error.code == .invalidArgument
                ? PlanCommandError.badInput(error.message) : PlanCommandError.infeasible(error.message)
        }
    }

    /// Reads per-topic byte rates from Prometheus into the model's network loads.
    private func applyRates(from url: String, to live: inout ClusterModel) async throws {
        let rates: [String: TopicRates]
        do {
            let reader = try PrometheusTopicRates(
                url: url, queries: .init(bytesIn: prometheusBytesInQuery, bytesOut: prometheusBytesOutQuery))
            rates = try await reader.read()
        } catch {
            throw error.code == .badURL
                ? PlanCommandError.badInput("--prometheus: \(error.message)")
                : PlanCommandError.infeasible(error.message)
        }
        let unknown = live.applyTopicRates(rates)
        if !unknown.isEmpty {
            FileHandle.standardError.write(
                Data(
                    ("ballast plan: Prometheus has rates for \(unknown.count) topics this cluster does not have "
                        + "(first: \(unknown.prefix(3).joined(separator: ", "))); is it scraping another cluster?\n")
                        .utf8))
        }
    }

    private func loadPolicy() throws -> PlannerPolicy {
        guard let policy else { return .default }
        guard let data = FileManager.default.contents(atPath: policy) else {
            throw PlanCommandError.badInput("--policy: cannot read \(policy)")
        }
        do {
            return try JSONDecoder().decode(PlannerPolicy.self, from: data)
        } catch let error as DecodingError {
            throw PlanCommandError.badInput("\(policy): \(ClusterModel.describeDecodingError(error))")
        } catch {
            throw PlanCommandError.badInput("\(policy): not valid JSON")
        }
    }
}

struct PlanCommandError: Error {
    var message: String
    var exit: ExitCode
    static func badInput(_ m: String) -> Self { Self(message: m, exit: BallastExit.badInput) }
    static func infeasible(_ m: String) -> Self { Self(message: m, exit: BallastExit.failed) }
}
