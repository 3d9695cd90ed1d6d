/// The proposal of DESIGN.md ("Proposal"), plus statistics. Field names are a contract.
public struct Proposal: Sendable, Hashable, Codable {
    public struct Move: Sendable, Hashable, Codable {
        public var topic: String
        public var partition: Int
        public var oldReplicas: [Int]
        public var newReplicas: [Int]
        /// -1 when the partition had no leader.
        public var oldLeader: Int
        /// Always `newReplicas[0]`.
        public var newLeader: Int
        public var dataToMoveMiB: Double
        /// Whether a new replica copies its data from another Kubernetes cluster.
        public var crossCluster: Bool
    }
    public struct Summary: Sendable, Hashable, Codable {
        /// Replicas added to partitions (each copies the partition's data once).
        public var replicaMoves: Int
        /// Partitions whose leader changes.
        public var leaderMoves: Int
        public var dataToMoveMiB: Double
        public var crossClusterDataMiB: Double
        public var hardGoalsSatisfied: Bool
        /// Filled by the caller, which owns the clock.
        public var durationMs: Int
        /// Data any plan reaching the goals this one reaches must move (see docs/planner.md).
        public var dataToMoveLowerBoundMiB: Double
        /// Replica swaps the optimizer chose (two replicas of different partitions trading brokers); their moves
        /// are in `replicaMoves`.
        public var replicaSwaps: Int
        /// Partitions whose leader changes and whose replicas stay: no data moves.
        public var leadershipOnlyMoves: Int

        /// `dataToMoveMiB ÷ dataToMoveLowerBoundMiB` (1 when both are zero).
        public var dataToMoveOverLowerBound: Double {
            dataToMoveLowerBoundMiB > 0 ? dataToMoveMiB / dataToMoveLowerBoundMiB : dataToMoveMiB > 0 ? .infinity : 1
        }
    }
    public struct GoalStatus: Sendable, Hashable, Codable {
        public var name: String
        public var hard: Bool
        public var satisfiedBefore: Bool
        public var satisfiedAfter: Bool
        public var violationsBefore: Int
        public var violationsAfter: Int
        public var detail: String?
    }
    /// Over the alive and new brokers.
    public struct Distribution: Sendable, Hashable, Codable {
        public var metric: String
        public var min: Double
        public var max: Double
        public var mean: Double
        public var maxOverMean: Double
    }
    public struct Statistics: Sendable, Hashable, Codable {
        public var before: [Distribution]
        public var after: [Distribution]
    }

    public var mode: String
    public var moves: [Move]
    public var summary: Summary
    public var goals: [GoalStatus]
    public var statistics: Statistics

    /// The first hard goal left unsatisfied, with why.
    public var firstFailedHardGoal: GoalStatus? { goals.first { $0.hard && !$0.satisfiedAfter } }

    /// A readable account: goals, movement and before/after distributions.
    public func text() -> String {
        var lines: [String] = []
        lines.append(
            "mode \(mode): \(summary.replicaMoves) replica moves (\(summary.replicaSwaps) swaps), "
                + "\(summary.leaderMoves) leader moves (\(summary.leadershipOnlyMoves) leadership only)")
        lines.append(
            "data to move \(Self.fmt(summary.dataToMoveMiB)) MiB = \(Self.fmt(summary.dataToMoveOverLowerBound, 3))× the lower "
                + "bound \(Self.fmt(summary.dataToMoveLowerBoundMiB)) MiB, across Kubernetes clusters "
                + "\(Self.fmt(summary.crossClusterDataMiB)) MiB")
        lines.append(
            "hard goals satisfied: \(summary.hardGoalsSatisfied ? "yes" : "NO"), took \(summary.durationMs) ms")
        lines.append("")
        lines.append("goal                          hard  before  after  violations")
        for g in goals {
            let name = g.name.padding(30)
            let row =
                "\(name)\((g.hard ? "yes" : "no").padding(6))\((g.satisfiedBefore ? "ok" : "FAIL").padding(8))"
                + "\((g.satisfiedAfter ? "ok" : "FAIL").padding(7))\(g.violationsBefore) -> \(g.violationsAfter)"
            lines.append(row)
            if let d = g.detail { lines.append("    \(d)") }
        }
        lines.append("")
        lines.append("distribution (alive brokers)   before: min / max / max÷mean     after: min / max / max÷mean")
        for (b, a) in zip(statistics.before, statistics.after) {
            lines.append(
                "\(b.metric.padding(30))\(Self.fmt(b.min)) / \(Self.fmt(b.max)) / \(Self.fmt(b.maxOverMean, 3))"
                    .padding(63) + "\(Self.fmt(a.min)) / \(Self.fmt(a.max)) / \(Self.fmt(a.maxOverMean, 3))")
        }
        return lines.joined(separator: "\n")
    }

    static func fmt(_ x: Double, _ digits: Int = 1) -> String {
        guard x.isFinite else { return "\(x)" }
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (x * p).rounded() / p
        if r == r.rounded() && digits <= 1 && abs(r) < 1e15 { return "\(Int(r))" }
        return "\(r)"
    }
}

extension String {
    fileprivate func padding(_ n: Int) -> String {
        count >= n ? self + " " : self + String(repeating: " ", count: n - count)
    }
}

extension Proposal.Summary {
    /// Decodes a summary; `replicaSwaps` and `leadershipOnlyMoves` came later and default to 0, so proposal
    /// files written before them still load (as a previous proposal to re-plan from, say).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        replicaMoves = try c.decode(Int.self, forKey: .replicaMoves)
        leaderMoves = try c.decode(Int.self, forKey: .leaderMoves)
        dataToMoveMiB = try c.decode(Double.self, forKey: .dataToMoveMiB)
        crossClusterDataMiB = try c.decode(Double.self, forKey: .crossClusterDataMiB)
        hardGoalsSatisfied = try c.decode(Bool.self, forKey: .hardGoalsSatisfied)
        durationMs = try c.decode(Int.self, forKey: .durationMs)
        dataToMoveLowerBoundMiB = try c.decode(Double.self, forKey: .dataToMoveLowerBoundMiB)
        replicaSwaps = try c.decodeIfPresent(Int.self, forKey: .replicaSwaps) ?? 0
        leadershipOnlyMoves = try c.decodeIfPresent(Int.self, forKey: .leadershipOnlyMoves) ?? 0
    }
}
