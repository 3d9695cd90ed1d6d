/// The settings of a rebalance execution. Every field has a default; the defaults are the ones in
/// `policies/rebalance.json` (a test checks that they agree).
public struct RebalanceOptions: Sendable, Hashable, Codable {
    /// Replication throttle in bytes per second, set as `leader.`/`follower.replication.throttled.rate` on the
    /// brokers taking part; nil: no throttle.
    public var throttleBytesPerSecond: Int64? = nil
    /// In-flight moves touching one broker (as a destination, or as the leader the data is copied from).
    public var movesPerBroker: Int = 5
    /// In-flight moves in the whole cluster.
    public var maxMoves: Int = 1250
    /// Partitions per preferred leader election request.
    public var leaderMoves: Int = 1000
    public var timeouts: Timeouts = Timeouts()

    public struct Timeouts: Sendable, Hashable, Codable {
        /// How often the cluster is read while moves are in flight.
        public var pollSeconds: Double = 5
        /// The least time a move is given before it is reported stuck, however small it is.
        public var stuckFloorSeconds: Double = 600
        /// A move is reported stuck after `stuckFactor` × its expected time (bytes ÷ throttle share), and
        /// cancelled after twice that.
        public var stuckFactor: Double = 3
        /// The replication rate assumed for a move's expected time when no throttle is set.
        public var unthrottledBytesPerSecond: Double = 50 * 1024 * 1024
        /// How long a destination broker may be missing from metadata before the moves that need it are cancelled.
        public var deadBrokerSeconds: Double = 60
        /// How long no new move may start (an offline or under-min-ISR partition outside the moves) before the
        /// execution stops starting moves, lets those in flight finish and ends failed.
        public var gateSeconds: Double = 600
        /// How long a proposed leader may take to be elected before it is reported not moved.
        public var electSeconds: Double = 120
        /// Attempts to restore a throttle config before the failure is reported (never a hang).
        public var cleanupAttempts: Int = 5

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Timeouts()
            pollSeconds = try c.decodeIfPresent(Double.self, forKey: .pollSeconds) ?? d.pollSeconds
            stuckFloorSeconds = try c.decodeIfPresent(Double.self, forKey: .stuckFloorSeconds) ?? d.stuckFloorSeconds
            stuckFactor = try c.decodeIfPresent(Double.self, forKey: .stuckFactor) ?? d.stuckFactor
            unthrottledBytesPerSecond =
                try c.decodeIfPresent(Double.self, forKey: .unthrottledBytesPerSecond) ?? d.unthrottledBytesPerSecond
            deadBrokerSeconds = try c.decodeIfPresent(Double.self, forKey: .deadBrokerSeconds) ?? d.deadBrokerSeconds
            gateSeconds = try c.decodeIfPresent(Double.self, forKey: .gateSeconds) ?? d.gateSeconds
            electSeconds = try c.decodeIfPresent(Double.self, forKey: .electSeconds) ?? d.electSeconds
            cleanupAttempts = try c.decodeIfPresent(Int.self, forKey: .cleanupAttempts) ?? d.cleanupAttempts
        }
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RebalanceOptions()
        throttleBytesPerSecond =
            try c.decodeIfPresent(Int64.self, forKey: .throttleBytesPerSecond) ?? d.throttleBytesPerSecond
        movesPerBroker = try c.decodeIfPresent(Int.self, forKey: .movesPerBroker) ?? d.movesPerBroker
        maxMoves = try c.decodeIfPresent(Int.self, forKey: .maxMoves) ?? d.maxMoves
        leaderMoves = try c.decodeIfPresent(Int.self, forKey: .leaderMoves) ?? d.leaderMoves
        timeouts = try c.decodeIfPresent(Timeouts.self, forKey: .timeouts) ?? d.timeouts
    }

    /// The first setting that cannot be used, in one sentence naming its flag and policy key; nil when all can.
    public var problem: String? {
        func positive(_ value: Double, _ name: String, _ key: String) -> String? {
            value > 0 && value.isFinite ? nil : "\(name) (policy timeouts.\(key)) must be more than 0, got \(value)"
        }
        if let t = throttleBytesPerSecond, t < 1 {
            return "--throttle (policy throttleBytesPerSecond) must be at least 1 byte/s, got \(t)"
        }
        if movesPerBroker < 1 {
            return "--moves-per-broker (policy movesPerBroker) must be at least 1, got \(movesPerBroker)"
        }
        if maxMoves < 1 { return "--max-moves (policy maxMoves) must be at least 1, got \(maxMoves)" }
        if leaderMoves < 1 { return "--leader-moves (policy leaderMoves) must be at least 1, got \(leaderMoves)" }
        let t = timeouts
        if t.cleanupAttempts < 1 {
            return "policy timeouts.cleanupAttempts must be at least 1, got \(t.cleanupAttempts)"
        }
        return positive(t.pollSeconds, "--poll", "pollSeconds")
            ?? positive(t.stuckFloorSeconds, "the stuck-move floor", "stuckFloorSeconds")
            ?? positive(t.stuckFactor, "the stuck-move factor", "stuckFactor")
            ?? positive(t.unthrottledBytesPerSecond, "the unthrottled rate", "unthrottledBytesPerSecond")
            ?? positive(t.deadBrokerSeconds, "the dead-broker wait", "deadBrokerSeconds")
            ?? positive(t.gateSeconds, "the gate timeout", "gateSeconds")
            ?? positive(t.electSeconds, "the election timeout", "electSeconds")
    }
}
