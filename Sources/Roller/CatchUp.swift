import Foundation
public import KafkaModel

/// One replica: a partition on a broker.
public struct ReplicaRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var partition: TopicPartition
    public var broker: Int32

    public init(_ partition: TopicPartition, broker: Int32) {
        self.partition = partition
        self.broker = broker
    }

    public static func < (a: Self, b: Self) -> Bool { (a.partition, a.broker) < (b.partition, b.broker) }
    public var description: String { "\(partition) on node \(broker)" }
}

/// What the runner measured about replication at one moment: replica sizes (DescribeLogDirs) and the live
/// replication throttles (DescribeConfigs). The decider derives lags, write rates and catch-up rates from
/// successive samples; it never reads a clock (`at` is the caller's monotonic seconds).
public struct ReplicationSample: Sendable, Hashable {
    public var at: Double
    /// Bytes of each replica's log, as its broker reports them.
    public var sizes: [ReplicaRef: Int64]
    /// `leader.replication.throttled.rate` / `follower.replication.throttled.rate` per broker, bytes/s (absent: none).
    public var leaderRate: [Int32: Double]
    public var followerRate: [Int32: Double]
    /// Topic → `leader.replication.throttled.replicas` / `follower.replication.throttled.replicas` (`*` or
    /// `partition:broker,…`; absent or empty: none).
    public var leaderReplicas: [String: String]
    public var followerReplicas: [String: String]
    /// The rates as set at each broker's own level (DYNAMIC_BROKER_CONFIG; absent: not set there): what the catch-up
    /// throttle remedy journals and puts back.
    public var ownLeaderRate: [Int32: String] = [:]
    public var ownFollowerRate: [Int32: String] = [:]

    public init(
        at: Double, sizes: [ReplicaRef: Int64], leaderRate: [Int32: Double] = [:], followerRate: [Int32: Double] = [:],
        leaderReplicas: [String: String] = [:], followerReplicas: [String: String] = [:]
    ) {
        self.at = at
        self.sizes = sizes
        self.leaderRate = leaderRate
        self.followerRate = followerRate
        self.leaderReplicas = leaderReplicas
        self.followerReplicas = followerReplicas
    }

    /// Whether Kafka's leader (or follower) quota counts the bytes of `partition` replicated from (to) `broker`.
    /// Kafka's `ReplicationQuotaManager.isThrottled`: the topic's list is `*` or names `partition:broker`.
    public func isThrottled(_ partition: TopicPartition, broker: Int32, leaderSide: Bool) -> Bool {
        let list = (leaderSide ? leaderReplicas : followerReplicas)[partition.topic] ?? ""
        let rate = (leaderSide ? leaderRate : followerRate)[broker]
        guard rate != nil, !list.isEmpty else { return false }
        if list.trimmingCharacters(in: .whitespaces) == "*" { return true }
        let wanted = "\(partition.partition):\(broker)"
        return list.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == wanted }
    }
}

/// How long a batch's replicas will take to catch up, and what limits them.
public struct CatchUpPrediction: Sendable, Hashable {
    /// Seconds after the batch is back until its last replica is in sync; `.infinity` when writes outrun the
    /// catch-up (the batch would never finish while clients write at this rate).
    public var seconds: Double
    /// The limit that sets `seconds`, in words (a throttle and its rate, or the observed catch-up rate).
    public var bottleneck: String
}

/// Catch-up time of a batch, from the data it would leave behind (write rates × time down) and the rate at which
/// its replicas can fetch it back.
///
/// Model (Kafka's replication quotas, `ReplicationQuotaManager`): while batch `B` is down, every partition it led
/// moves to the first in-sync replica outside `B` (assignment order). A leader `L` with
/// `leader.replication.throttled.rate` `Q` spends, out of `Q`, the bytes it sends to its *in-sync* followers of
/// throttled partitions (Kafka records them although it never throttles them); what is left is shared by the
/// replicas catching up from `L` that are throttled. The follower side is the same with
/// `follower.replication.throttled.rate`. Replicas neither quota covers catch up at `unthrottledRate` per follower
/// broker (observed in an earlier batch; unknown means fast). Each catching-up replica must also fetch what is
/// written meanwhile, so a limit of rate `A` serving lag `D` over partitions written at `W` needs `D ÷ (A − W)`.
public struct CatchUpModel: Sendable {
    public var snapshot: ClusterSnapshot
    public var sample: ReplicationSample
    /// Bytes per second written to each partition (leader log growth).
    public var writeRates: [TopicPartition: Double]
    /// Catch-up bytes per second one follower broker achieved without a throttle (nil: not yet observed).
    public var unthrottledRate: Double?

    public init(
        snapshot: ClusterSnapshot, sample: ReplicationSample, writeRates: [TopicPartition: Double],
        unthrottledRate: Double?
    ) {
        self.snapshot = snapshot
        self.sample = sample
        self.writeRates = writeRates
        self.unthrottledRate = unthrottledRate
    }

    /// Write rates from two samples: each partition's leader log growth per second.
    public static func writeRates(from old: ReplicationSample, to new: ReplicationSample, snapshot: ClusterSnapshot)
        -> [TopicPartition: Double]
    {
        let dt = new.at - old.at
        guard dt > 0 else { return [:] }
        var out: [TopicPartition: Double] = [:]
        for p in snapshot.allPartitions where p.leader >= 0 {
            let key = ReplicaRef(p.topicPartition, broker: p.leader)
            guard let a = old.sizes[key], let b = new.sizes[key] else { continue }
            out[p.topicPartition] = max(0, Double(b - a) / dt)
        }
        return out
    }

    /// The prediction for `batch` down for `downSeconds` (restart to registration), starting from the current lags.
    public func predict(batch: [Int32], downSeconds: Double) -> CatchUpPrediction {
        let inBatch = Set(batch)
        // Per limit: lag to serve, writes to keep up with, capacity.
        struct Load {
            var lag = 0.0
            var writes = 0.0
            var capacity = Double.infinity
            var spentInSync = 0.0
            var words = ""
        }
        var leaderLoad: [Int32: Load] = [:]
        var followerLoad: [Int32: Load] = [:]
        var plainLoad: [Int32: Load] = [:]
        var partitionsLed: [Int32: Int] = [:]
        for p in snapshot.allPartitions {
            let tp = p.topicPartition
            let w = writeRates[tp] ?? 0
            let down = p.replicas.filter { inBatch.contains($0) }
            // The leader while the batch is down (and while it catches up).
            let leader: Int32 =
                inBatch.contains(p.leader)
                ? (p.replicas.first { p.isr.contains($0) && !inBatch.contains($0) } ?? -1)
                : p.leader
            guard leader >= 0 else { continue }
            partitionsLed[leader, default: 0] += 1
            let inSyncFollowers = p.isr.filter { $0 != leader && !inBatch.contains($0) }
            if sample.isThrottled(tp, broker: leader, leaderSide: true) {
                leaderLoad[leader, default: Load()].spentInSync += w * Double(inSyncFollowers.count)
            }
            for f in inSyncFollowers where sample.isThrottled(tp, broker: f, leaderSide: false) {
                followerLoad[f, default: Load()].spentInSync += w
            }
            for f in down {
                let current = max(
                    0,
                    (sample.sizes[ReplicaRef(tp, broker: leader)] ?? 0)
                        - (sample.sizes[ReplicaRef(tp, broker: f)] ?? Int64.max / 2))
                let lag = w * downSeconds + Double(p.isr.contains(f) ? 0 : current)
                var covered = false
                if sample.isThrottled(tp, broker: leader, leaderSide: true) {
                    leaderLoad[leader, default: Load()].lag += lag
                    leaderLoad[leader, default: Load()].writes += w
                    covered = true
                }
                if sample.isThrottled(tp, broker: f, leaderSide: false) {
                    followerLoad[f, default: Load()].lag += lag
                    followerLoad[f, default: Load()].writes += w
                    covered = true
                }
                if !covered {
                    plainLoad[f, default: Load()].lag += lag
                    plainLoad[f, default: Load()].writes += w
                }
            }
        }
        var worst = CatchUpPrediction(seconds: 0, bottleneck: "nothing to catch up")
        func consider(_ load: Load, _ words: @autoclosure () -> String) {
            guard load.lag > 0 else { return }
            let left = load.capacity - load.spentInSync - load.writes
            let t = left.isInfinite ? 0 : (left <= 0 ? Double.infinity : load.lag / left)
            if t > worst.seconds {
                worst = CatchUpPrediction(seconds: t, bottleneck: words())
            }
        }
        for (l, var load) in leaderLoad.sorted(by: { $0.key < $1.key }) {
            load.capacity = sample.leaderRate[l] ?? .infinity
            consider(
                load,
                "node \(l)'s leader.replication.throttled.rate \(Self.rate(load.capacity)), "
                    + "\(Self.rate(load.spentInSync)) of it counted for in-sync followers of throttled partitions "
                    + "(\(partitionsLed[l] ?? 0) partitions led)")
        }
        for (f, var load) in followerLoad.sorted(by: { $0.key < $1.key }) {
            load.capacity = sample.followerRate[f] ?? .infinity
            consider(load, "node \(f)'s follower.replication.throttled.rate \(Self.rate(load.capacity))")
        }
        if let unthrottledRate {
            // The observed rate is what a catch-up reached, not what it could reach (one that ended between two
            // samples looks slow): at or below the writes it proves nothing, so it never predicts "never".
            for (f, var load) in plainLoad.sorted(by: { $0.key < $1.key }) where unthrottledRate > load.writes {
                load.capacity = unthrottledRate
                consider(load, "node \(f)'s observed catch-up rate \(Self.rate(unthrottledRate))")
            }
        }
        return worst
    }

    /// The longest prefix of `batch` (the planner's order) whose restart plus catch-up takes no longer than
    /// restarting its nodes one at a time, each waiting for its own catch-up (the careful roll), and the
    /// predictions that decided it. A batch of one is always allowed.
    public func size(of batch: [Int32], restartSeconds: Double) -> BatchSizing {
        let single = batch.map { predict(batch: [$0], downSeconds: restartSeconds) }
        var k = batch.count
        while k > 1 {
            let together = predict(batch: Array(batch.prefix(k)), downSeconds: restartSeconds)
            let oneByOne = single.prefix(k).reduce(0) { $0 + restartSeconds + $1.seconds }
            // A batch predicted never to catch up shrinks even when one at a time is predicted no better.
            if together.seconds.isFinite && restartSeconds + together.seconds <= oneByOne {
                return BatchSizing(
                    nodes: Array(batch.prefix(k)), restartSeconds: restartSeconds, predicted: together,
                    oneByOneSeconds: oneByOne)
            }
            k -= 1
        }
        return BatchSizing(
            nodes: Array(batch.prefix(1)), restartSeconds: restartSeconds,
            predicted: single.first ?? CatchUpPrediction(seconds: 0, bottleneck: "nothing to catch up"),
            oneByOneSeconds: restartSeconds + (single.first?.seconds ?? 0))
    }

    static func rate(_ bytesPerSecond: Double) -> String {
        if bytesPerSecond.isInfinite { return "unlimited" }
        if bytesPerSecond >= 1024 * 1024 { return "\(Int((bytesPerSecond / 1024 / 1024).rounded())) MB/s" }
        return "\(Int((bytesPerSecond / 1024).rounded())) KB/s"
    }
}

/// The batch size chosen from the catch-up prediction.
public struct BatchSizing: Sendable, Hashable {
    public var nodes: [Int32]
    public var restartSeconds: Double
    /// Catch-up of `nodes` together.
    public var predicted: CatchUpPrediction
    /// Restart plus catch-up of each node of the planner's batch (up to `nodes.count`) one at a time.
    public var oneByOneSeconds: Double
}

/// A replica that stopped catching up: which partition, which brokers, and the likely cause in the live configs.
public struct StallDiagnosis: Sendable, Hashable, CustomStringConvertible {
    public var replica: ReplicaRef
    public var leader: Int32
    public var lagBytes: Int64
    public var seconds: Double
    public var cause: String

    public init(replica: ReplicaRef, leader: Int32, lagBytes: Int64, seconds: Double, cause: String) {
        self.replica = replica
        self.leader = leader
        self.lagBytes = lagBytes
        self.seconds = seconds
        self.cause = cause
    }

    public var description: String {
        "node \(replica.broker) made no catch-up progress on \(replica.partition) from leader \(leader) for "
            + "\(Int(seconds)) s (\(lagBytes) bytes behind); likely cause: \(cause)"
    }
}

extension CatchUpModel {
    /// The likely reason `replica` (out of sync, fetching from `leader`) does not catch up, from the live configs
    /// and the leader's load.
    public func cause(of replica: ReplicaRef, leader: Int32) -> String {
        var spent = 0.0
        var led = 0
        var writes = 0.0
        var followerSpent = 0.0
        for p in snapshot.allPartitions {
            let w = writeRates[p.topicPartition] ?? 0
            if p.leader == leader {
                led += 1
                writes += w
                if sample.isThrottled(p.topicPartition, broker: leader, leaderSide: true) {
                    spent += w * Double(p.isr.filter { $0 != leader }.count)
                }
            }
            if p.leader != replica.broker, p.isr.contains(replica.broker),
                sample.isThrottled(p.topicPartition, broker: replica.broker, leaderSide: false)
            {
                followerSpent += w
            }
        }
        if sample.isThrottled(replica.partition, broker: leader, leaderSide: true), let q = sample.leaderRate[leader] {
            return "a replication throttle: node \(leader)'s leader.replication.throttled.rate is \(Self.rate(q)) and "
                + "about \(Self.rate(spent)) of it goes to in-sync followers of throttled partitions (Kafka counts "
                + "them against the quota), leaving \(Self.rate(max(0, q - spent))) for catch-up; node \(leader) "
                + "leads \(led) partition(s) written at \(Self.rate(writes)). Raise the rate or remove "
                + "\(replica.partition.topic)'s leader.replication.throttled.replicas while the roll runs (ballast roll "
                + "--catch-up-throttle lift does it for the batch's catch-up only)"
        }
        if sample.isThrottled(replica.partition, broker: replica.broker, leaderSide: false),
            let q = sample.followerRate[replica.broker]
        {
            return "a replication throttle: node \(replica.broker)'s follower.replication.throttled.rate is "
                + "\(Self.rate(q)), about \(Self.rate(followerSpent)) of it spent on partitions it follows in sync. "
                + "Raise the rate or remove \(replica.partition.topic)'s follower.replication.throttled.replicas "
                + "while the roll runs (ballast roll --catch-up-throttle lift does it for the batch's catch-up only)"
        }
        return "no replication throttle applies; node \(leader) leads \(led) partition(s) written at "
            + "\(Self.rate(writes)): catch-up competes with produce traffic for the leader's network and disk"
    }
}
