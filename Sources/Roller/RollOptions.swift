/// The safety settings of a rolling restart. Every field has a default; the defaults are the ones in
/// `policies/rollout.json` (a test checks that they agree).
public struct RollOptions: Sendable, Hashable, Codable {
    /// Extra in-sync replicas to keep above `min.insync.replicas` while a batch is down.
    public var headroom: Int = 0
    /// The largest batch; nil means no cap beyond safety.
    public var maxBatch: Int? = nil
    /// The roll stops while more rollout-blocking signals (alerts) are active than this.
    public var failureThreshold: Int = 0
    /// Roll even while partitions are offline (for operators who must roll a broken cluster).
    public var allowOfflinePartitions: Bool = false
    /// Keep each batch inside one zone (rack).
    public var batchWithinZone: Bool = true
    /// Keep each batch inside one Kubernetes cluster.
    public var batchWithinCluster: Bool = true
    /// A quorum voter counts as caught up when its last caught-up time is this recent (or its log end
    /// offset has reached the high watermark).
    public var quorumCaughtUpWindowMs: Int64 = 10_000
    /// Size each batch from the catch-up prediction (replica sizes and live throttles): fewer nodes when
    /// restarting them together would take longer than one at a time.
    public var catchUpAwareBatches: Bool = true
    /// The restart time (agent request to re-registration) assumed before one has been measured in this roll.
    public var restartEstimateSeconds: Double = 30
    /// While a batch catches up, lift (or raise to a rate) the replication throttles that hold its replicas back,
    /// and put them back exactly afterwards; nil (the default) leaves throttles alone.
    public var catchUpThrottle: CatchUpThrottle? = nil
    public var timeouts: Timeouts = Timeouts()

    public struct Timeouts: Sendable, Hashable, Codable {
        /// How long the gate may stay blocked (offline partitions, ISR too small) before the roll fails.
        public var gateSeconds: Double = 600
        /// How long an agent may take to report a restart done.
        public var restartSeconds: Double = 600
        /// How long a restarted broker may take to re-register in metadata.
        public var registerSeconds: Double = 300
        /// How long the replicas of a restarted broker may take to be back in ISR.
        public var catchUpSeconds: Double = 1800
        /// How long preferred leader election may take to move leadership back.
        public var electSeconds: Double = 60
        /// A pause after each batch.
        public var postRestartDelaySeconds: Double = 0
        /// How often the cluster and agents are polled during waits.
        public var pollSeconds: Double = 2
        /// How long an agent may go without answering before the roll fails. Meanwhile the roll pauses for the
        /// nodes it manages (a Kubernetes cluster cut off): nothing there is restarted, the other clusters go on.
        public var agentUnreachableSeconds: Double = 600
        /// A restarted replica whose lag has not shrunk for this long is reported stalled, with the likely cause.
        public var stallSeconds: Double = 30

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Timeouts()
            gateSeconds = try c.decodeIfPresent(Double.self, forKey: .gateSeconds) ?? d.gateSeconds
            restartSeconds = try c.decodeIfPresent(Double.self, forKey: .restartSeconds) ?? d.restartSeconds
            registerSeconds = try c.decodeIfPresent(Double.self, forKey: .registerSeconds) ?? d.registerSeconds
            catchUpSeconds = try c.decodeIfPresent(Double.self, forKey: .catchUpSeconds) ?? d.catchUpSeconds
            electSeconds = try c.decodeIfPresent(Double.self, forKey: .electSeconds) ?? d.electSeconds
            postRestartDelaySeconds =
                try c.decodeIfPresent(Double.self, forKey: .postRestartDelaySeconds) ?? d.postRestartDelaySeconds
            pollSeconds = try c.decodeIfPresent(Double.self, forKey: .pollSeconds) ?? d.pollSeconds
            agentUnreachableSeconds =
                try c.decodeIfPresent(Double.self, forKey: .agentUnreachableSeconds) ?? d.agentUnreachableSeconds
            stallSeconds = try c.decodeIfPresent(Double.self, forKey: .stallSeconds) ?? d.stallSeconds
        }
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RollOptions()
        headroom = try c.decodeIfPresent(Int.self, forKey: .headroom) ?? d.headroom
        maxBatch = try c.decodeIfPresent(Int.self, forKey: .maxBatch) ?? d.maxBatch
        failureThreshold = try c.decodeIfPresent(Int.self, forKey: .failureThreshold) ?? d.failureThreshold
        allowOfflinePartitions =
            try c.decodeIfPresent(Bool.self, forKey: .allowOfflinePartitions) ?? d.allowOfflinePartitions
        batchWithinZone = try c.decodeIfPresent(Bool.self, forKey: .batchWithinZone) ?? d.batchWithinZone
        batchWithinCluster = try c.decodeIfPresent(Bool.self, forKey: .batchWithinCluster) ?? d.batchWithinCluster
        quorumCaughtUpWindowMs =
            try c.decodeIfPresent(Int64.self, forKey: .quorumCaughtUpWindowMs) ?? d.quorumCaughtUpWindowMs
        catchUpAwareBatches = try c.decodeIfPresent(Bool.self, forKey: .catchUpAwareBatches) ?? d.catchUpAwareBatches
        restartEstimateSeconds =
            try c.decodeIfPresent(Double.self, forKey: .restartEstimateSeconds) ?? d.restartEstimateSeconds
        catchUpThrottle = try c.decodeIfPresent(CatchUpThrottle.self, forKey: .catchUpThrottle) ?? d.catchUpThrottle
        timeouts = try c.decodeIfPresent(Timeouts.self, forKey: .timeouts) ?? d.timeouts
    }
}

extension RollOptions {
    /// The first setting that cannot be used, in one sentence naming its flag and policy key; nil when all can.
    public var problem: String? {
        func positive(_ value: Double, _ flag: String, _ key: String) -> String? {
            value > 0 && value.isFinite ? nil : "\(flag) (policy timeouts.\(key)) must be more than 0 s, got \(value)"
        }
        if headroom < 0 { return "--headroom (policy headroom) must be at least 0, got \(headroom)" }
        if let maxBatch, maxBatch < 1 { return "--max-batch (policy maxBatch) must be at least 1, got \(maxBatch)" }
        if failureThreshold < 0 {
            return "--failure-threshold (policy failureThreshold) must be at least 0, got \(failureThreshold)"
        }
        if quorumCaughtUpWindowMs <= 0 {
            return "policy quorumCaughtUpWindowMs must be more than 0, got \(quorumCaughtUpWindowMs)"
        }
        if case .rate(let r) = catchUpThrottle, r <= 0 {
            return "--catch-up-throttle (policy catchUpThrottle) must be lift or more than 0 bytes/s, got \(r)"
        }
        let t = timeouts
        if !(restartEstimateSeconds > 0 && restartEstimateSeconds.isFinite) {
            return "policy restartEstimateSeconds must be more than 0 s, got \(restartEstimateSeconds)"
        }
        if t.postRestartDelaySeconds < 0 || !t.postRestartDelaySeconds.isFinite {
            return "--post-restart-delay (policy timeouts.postRestartDelaySeconds) must be at least 0 s, "
                + "got \(t.postRestartDelaySeconds)"
        }
        return positive(t.gateSeconds, "--gate-timeout", "gateSeconds")
            ?? positive(t.restartSeconds, "--restart-timeout", "restartSeconds")
            ?? positive(t.registerSeconds, "--register-timeout", "registerSeconds")
            ?? positive(t.catchUpSeconds, "--catch-up-timeout", "catchUpSeconds")
            ?? positive(t.electSeconds, "the election timeout", "electSeconds")
            ?? positive(t.pollSeconds, "--poll", "pollSeconds")
            ?? positive(t.agentUnreachableSeconds, "--agent-unreachable-timeout", "agentUnreachableSeconds")
            ?? positive(t.stallSeconds, "the stall time", "stallSeconds")
    }
}
