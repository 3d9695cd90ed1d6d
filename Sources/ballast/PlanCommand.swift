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

    @OptionGroup var planning: PlanningOptions

    @OptionGroup(title: "Live load (with --bootstrap)") var liveLoad: LiveLoadOptions

    @Option(help: "A planner policy file (goals and thresholds) replacing the built-in default.")
    var policy: String?

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
        let proposal = try planning.plan(clusterModel, policy: try Self.loadPolicy(policy), maxMoves: maxMoves)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(proposal))
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else {
            print(proposal.text())
            print("proposal \(proposal.hash ?? proposal.canonicalHash)")
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
            try await liveLoad.apply(to: &live, command: "plan")
            return live
        case (.some, nil) where liveLoad.prometheus != nil:
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
        let rackCluster = try planning.rackClusterMap()
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

    static func loadPolicy(_ policy: String?) throws -> PlannerPolicy {
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
