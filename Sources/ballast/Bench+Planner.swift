import ArgumentParser
import Foundation
import Planner

/// `ballast bench planner`: plans generated skewed clusters and reports time, memory and plan quality, then
/// re-plans incrementally after losing one broker and after adding one.
struct PlannerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "planner",
        abstract: "Plans generated skewed clusters (hot brokers, heavy-tailed sizes, 3 Kubernetes clusters, "
            + "rack violations, dead and new brokers) and reports time, peak memory and plan quality.")

    @Option(help: "Sizes as BROKERSxREPLICAS, comma-separated.")
    var sizes: String = "30x10000,300x1000000,3000x10000000"

    @Option(help: "Random seed of the generated models.")
    var seed: UInt64 = 1

    @Option(name: .customLong("write-model"), help: "Also write the first generated model to this file.")
    var writeModel: String?

    @Flag(help: "Plan each model a second time and compare the plan hashes.")
    var determinism = false

    @Flag(help: "Skip the incremental re-plans (one broker lost, one added).")
    var noIncremental = false

    func run() async throws {
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Self.cpuModel())")
        print(
            "peak RSS is the whole process's high-water mark so far (model and proposal included), so sizes run "
                + "smallest first")
        for (i, size) in sizes.split(separator: ",").enumerated() {
            let parts = size.split(separator: "x")
            guard parts.count == 2, let b = Int(parts[0]), let r = Int(parts[1]), b > 0, r > 0 else {
                throw ValidationError("--sizes: \(size) is not BROKERSxREPLICAS")
            }
            let model = ClusterModel.skewed(SkewedModelSpec(brokers: b, replicas: r, seed: seed))
            if i == 0, let path = writeModel {
                try Data(model.modelFileJSON()).write(to: URL(fileURLWithPath: path))
            }
            let (result, wall, cpu) = try await Self.measure { try await Planner.plan(model, PlanRequest()) }
            let p = result.proposal
            let s = p.summary
            print("")
            print(
                "== \(b) brokers, \(model.replicaCount) replicas, \(model.partitionCount) partitions, \(model.topicCount) topics"
            )
            print(
                "plan: wall \(wall) ms, CPU \(cpu) ms, peak RSS \(Self.peakRSSMiB()) MiB, plan hash "
                    + String(result.planHash, radix: 16))
            if determinism {
                let again = try await Planner.plan(model, PlanRequest())
                print(
                    "determinism: second plan hash \(String(again.planHash, radix: 16)) "
                        + (again.planHash == result.planHash && again.proposal == p
                            ? "(same plan)" : "(DIFFERENT PLAN)"))
            }
            print(
                "moves: \(s.replicaMoves) replica moves (\(s.replicaSwaps) swaps), \(s.leaderMoves) leader moves "
                    + "(\(s.leadershipOnlyMoves) leadership only), hard goals \(s.hardGoalsSatisfied ? "met" : "NOT met")"
            )
            print(
                "data: moved \(Int(s.dataToMoveMiB)) MiB, lower bound \(Int(s.dataToMoveLowerBoundMiB)) MiB, "
                    + "moved/bound \(f(s.dataToMoveOverLowerBound)), cross-cluster \(Int(s.crossClusterDataMiB)) MiB")
            print(
                "max/mean before -> after: "
                    + zip(p.statistics.before, p.statistics.after).map {
                        "\($0.metric) \(f($0.maxOverMean))->\(f($1.maxOverMean))"
                    }.joined(separator: ", "))
            let met = p.goals.filter(\.satisfiedAfter).map(\.name)
            print("goals met (\(met.count)/\(p.goals.count)): \(met.joined(separator: " "))")
            for g in p.goals where !g.satisfiedAfter {
                print("    NOT met: \(g.name)\(g.hard ? " (hard)" : ""): \(g.detail ?? "")")
            }
            if !noIncremental { try await incremental(model, result, fullCpu: cpu) }
        }
    }

    /// Re-plans from the full plan after one broker dies (the alive broker with the most replicas in the plan's
    /// target) and, separately, after one new broker joins.
    private func incremental(_ model: ClusterModel, _ full: Planner.Result, fullCpu: Int) async throws {
        var counts = [Int: Int]()
        for id in full.finalReplicaIds { counts[id, default: 0] += 1 }
        let alive = (0..<model.brokerCount).filter { model.brokerState[$0] == .alive }
        guard
            let lost = alive.max(by: { (counts[model.brokerIds[$0]] ?? 0, $0) < (counts[model.brokerIds[$1]] ?? 0, $1) }
            )
        else { return }
        var lostModel = model
        lostModel.brokerState[lost] = .dead
        var added = model
        let newId = (model.brokerIds.max() ?? 0) + 1
        let rack = model.rackNames[Int(model.brokerRack[0])]
        let cluster = model.clusterNames[Int(model.brokerCluster[0])]
        added.addBroker(
            id: newId, rack: rack, cluster: cluster, state: .new,
            capacity: Resource.allCases.map { model.capacity[$0.rawValue][0] })
        for (what, changed) in [("broker \(model.brokerIds[lost]) lost", lostModel), ("broker \(newId) added", added)] {
            let (r, wall, cpu) = try await Self.measure {
                try Planner.replan(changed, previous: full.proposal, PlanRequest())
            }
            let s = r.result.proposal.summary
            let unmet = r.result.proposal.goals.filter { !$0.satisfiedAfter }.map(\.name)
            print(
                "re-plan, \(what): wall \(wall) ms, CPU \(cpu) ms (\(f(Double(cpu) / Double(max(fullCpu, 1))))× the full "
                    + "plan's), \(r.partitionsReplanned) of \(model.partitionCount) partitions re-planned, hard goals "
                    + "\(s.hardGoalsSatisfied ? "met" : "NOT met"), goals not met: "
                    + (unmet.isEmpty ? "none" : unmet.joined(separator: " ")))
        }
    }

    static func measure<T>(_ body: () async throws -> T) async throws -> (T, wallMs: Int, cpuMs: Int) {
        let clock = ContinuousClock()
        let cpuStart = cpuSeconds()
        let start = clock.now
        let value = try await body()
        let elapsed = clock.now - start
        let cpuMs = Int((cpuSeconds() - cpuStart) * 1000)
        let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        return (value, Int(ms), cpuMs)
    }

    private func f(_ x: Double) -> String { String(format: "%.3f", x) }

    /// User and system CPU time of this process: on a shared machine, wall time also counts waiting for a core.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let u = usage.ru_utime
        let s = usage.ru_stime
        return Double(u.tv_sec + s.tv_sec) + Double(u.tv_usec + s.tv_usec) / 1_000_000
    }

    static func peakRSSMiB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss / 1024
    }

    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        let line = text.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line.map {
            String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces)
        }
            ?? "unknown CPU"
    }
}
