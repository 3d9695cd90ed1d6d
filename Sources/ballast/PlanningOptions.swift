import ArgumentParser
import Foundation
import KafkaAdmin
import Operations
import Planner

/// The flags that say what to plan, shared by `plan` and `rebalance`.
struct PlanningOptions: ParsableArguments {
    @Option(help: "rebalance | add-brokers | remove-brokers | fix-offline")
    var mode: String = "rebalance"

    @Option(help: "Broker ids (comma-separated): the new brokers (add-brokers) or those to remove (remove-brokers).")
    var brokers: String?

    @Option(help: "Goals in priority order (comma-separated); default: policies/planner-goals.json.")
    var goals: String?

    @Option(name: .customLong("excluded-topics"), help: "Topics matching this regular expression are not moved.")
    var excludedTopics: String?

    @Option(
        name: .customLong("rack-clusters"),
        help: "With --bootstrap: the Kubernetes cluster of each rack, as RACK=CLUSTER,... (default: one cluster).")
    var rackClusters: String?

    /// The flags that can be checked without a cluster: `--mode` and `--brokers` (bad input, exit 2).
    func check() throws {
        guard PlanMode(rawValue: mode) != nil else {
            throw PlanCommandError.badInput(
                "--mode \(mode) is unknown; use one of \(PlanMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for s in (brokers ?? "").split(separator: ",") where Int(s.trimmingCharacters(in: .whitespaces)) == nil {
            throw PlanCommandError.badInput("--brokers: \(s) is not a broker id")
        }
        _ = try rackClusterMap()
    }

    /// The request for `model` (the excluded-topics pattern is matched against its topics).
    func request(for model: ClusterModel, policy: PlannerPolicy) throws -> PlanRequest {
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
        request.policy = policy
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
            request.excludedTopics = Set(model.topicNames.filter { (try? regex.wholeMatch(in: $0)) != nil })
        }
        return request
    }

    /// `--rack-clusters` as a map.
    func rackClusterMap() throws -> [String: String] {
        var rackCluster: [String: String] = [:]
        for pair in (rackClusters ?? "").split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { throw PlanCommandError.badInput("--rack-clusters: \(pair) is not RACK=CLUSTER") }
            rackCluster[String(kv[0])] = String(kv[1])
        }
        return rackCluster
    }

    /// Plans `model` as asked; the proposal carries its duration and hash. Infeasible hard goals throw `.infeasible`
    /// only when the planner itself refuses; an unmet goal is in the proposal.
    func plan(_ model: ClusterModel, policy: PlannerPolicy, maxMoves: Int? = nil) throws -> Proposal {
        var request = try request(for: model, policy: policy)
        request.maxMoves = maxMoves
        let clock = ContinuousClock()
        let start = clock.now
        let result: Planner.Result
        do {
            result = try Planner.plan(model, request)
        } catch {
            throw error.kind == .badInput
                ? PlanCommandError.badInput(error.description) : PlanCommandError.infeasible(error.description)
        }
        var proposal = result.proposal
        let elapsed = clock.now - start
        proposal.summary.durationMs = Int(
            elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        proposal.hash = proposal.canonicalHash
        return proposal
    }
}
