import ArgumentParser
import Foundation
import Planner

/// `ballast bench planner`: plans generated skewed clusters and reports time, memory and plan quality.
struct PlannerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "planner",
        abstract: "Plans generated skewed clusters (hot brokers, heavy-tailed sizes, 3 Kubernetes clusters, "
            + "rack violations, dead and new brokers) and reports time, peak memory and plan quality.")

    @Option(help: "Sizes as BROKERSxREPLICAS, comma-separated.")
    var sizes: String = "30x10000,100x100000,300x1000000"

    @Option(help: "Random seed of the generated models.")
    var seed: UInt64 = 1

    @Option(name: .customLong("write-model"), help: "Also write the first generated model to this file.")
    var writeModel: String?

    func run() async throws {
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Self.cpuModel())")
        print(
            "brokers replicas  plan-ms  plan-cpu-ms  peak-RSS-MiB  disk max/mean before->after  replicas max/mean before->after  "
                + "hard  moved-MiB  bound-MiB  moved/bound  cross-MiB  replica-moves  leader-moves")
        for (i, size) in sizes.split(separator: ",").enumerated() {
            let parts = size.split(separator: "x")
            guard parts.count == 2, let b = Int(parts[0]), let r = Int(parts[1]) else {
                throw ValidationError("--sizes: \(size) is not BROKERSxREPLICAS")
            }
            let model = ClusterModel.skewed(SkewedModelSpec(brokers: b, replicas: r, seed: seed))
            if i == 0, let path = writeModel {
                try Data(model.modelFileJSON()).write(to: URL(fileURLWithPath: path))
            }
            let clock = ContinuousClock()
            let cpuStart = Self.cpuSeconds()
            let start = clock.now
            let result = try Planner.plan(model, PlanRequest())
            let elapsed = clock.now - start
            let cpuMs = Int((Self.cpuSeconds() - cpuStart) * 1000)
            let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
            let p = result.proposal
            let disk = (p.statistics.before[1].maxOverMean, p.statistics.after[1].maxOverMean)
            let reps = (p.statistics.before[0].maxOverMean, p.statistics.after[0].maxOverMean)
            let s = p.summary
            let ratio = s.dataToMoveLowerBoundMiB > 0 ? s.dataToMoveMiB / s.dataToMoveLowerBoundMiB : 1
            print(
                "\(b) \(model.replicaCount) \(ms) \(cpuMs) \(Self.peakRSSMiB()) \(f(disk.0))->\(f(disk.1)) \(f(reps.0))->\(f(reps.1)) "
                    + "\(s.hardGoalsSatisfied) \(Int(s.dataToMoveMiB)) \(Int(s.dataToMoveLowerBoundMiB)) \(f(ratio)) "
                    + "\(Int(s.crossClusterDataMiB)) \(s.replicaMoves) \(s.leaderMoves)")
            for g in p.goals where !g.satisfiedAfter {
                print("    unsatisfied: \(g.name)\(g.hard ? " (hard)" : ""): \(g.detail ?? "")")
            }
        }
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
