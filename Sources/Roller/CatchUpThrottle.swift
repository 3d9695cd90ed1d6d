public import KafkaModel
public import Rebalancer

/// The remedy for a catch-up held back by a replication throttle (`ballast roll --catch-up-throttle lift|RATE`, policy
/// `catchUpThrottle`; off by default): while a batch's replicas catch up, the throttle rates that hold them back are
/// lifted (`lift`: Kafka's no-limit value, Long.MAX_VALUE) or raised to `rate` bytes per second (never lowered), at
/// each broker's own level, and put back exactly when the batch is in sync, on failure, on cancel and on resume.
///
/// Which rates: for every replica of the batch out of the ISR, its leader's `leader.replication.throttled.rate` when
/// the partition is throttled on the leader side (the topic's `leader.replication.throttled.replicas` lists it or is
/// `*`), and the restarted broker's own `follower.replication.throttled.rate` when it is throttled on the follower
/// side. Kafka's quotas are per broker, so the leader's rate is the narrowest knob that frees the leader's side
/// (the topic lists are left alone: a `*` cannot be narrowed to exclude a replica).
public enum CatchUpThrottle: Sendable, Hashable, Codable, CustomStringConvertible {
    case lift
    /// Bytes per second.
    case rate(Int64)

    /// Kafka's default for the throttled rates: no limit.
    public static let unlimited = "9223372036854775807"

    /// `lift` or a positive number of bytes per second; nil otherwise.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "lift" {
            self = .lift
        } else if let r = Int64(t), r > 0 {
            self = .rate(r)
        } else {
            return nil
        }
    }

    /// The value the throttled rates get while a batch catches up.
    public var value: String {
        switch self {
        case .lift: Self.unlimited
        case .rate(let r): String(r)
        }
    }

    public var description: String {
        switch self {
        case .lift: "lift"
        case .rate(let r): String(r)
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let v = Self(parsing: text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "catchUpThrottle must be \"lift\" or a positive bytes per second, got '\(text)'"))
        }
        self = v
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// `sample` as it will be once the remedy applies: no throttle left (`lift`), or every throttled rate at least
    /// `rate`. The catch-up prediction sizes batches from it.
    public func applied(to sample: ReplicationSample) -> ReplicationSample {
        var s = sample
        switch self {
        case .lift:
            s.leaderRate = [:]
            s.followerRate = [:]
        case .rate(let r):
            s.leaderRate = s.leaderRate.mapValues { max($0, Double(r)) }
            s.followerRate = s.followerRate.mapValues { max($0, Double(r)) }
        }
        return s
    }
}

extension RollStateMachine {
    /// The throttle keys holding back the batch's out-of-sync replicas in `snapshot` (per the newest sample) that the
    /// remedy would change: not yet changed by this roll, not refused in this batch, and (for a rate) below it.
    func catchUpThrottleKeys(_ snapshot: ClusterSnapshot, remedy: CatchUpThrottle) -> [ThrottleKey] {
        guard let sample = samples.last else { return [] }
        let inBatch = Set(batch)
        var keys = Set<ThrottleKey>()
        for p in snapshot.allPartitions where p.leader >= 0 {
            for f in p.replicas where inBatch.contains(f) && !p.isr.contains(f) {
                let tp = p.topicPartition
                if sample.isThrottled(tp, broker: p.leader, leaderSide: true) {
                    keys.insert(ThrottleKey(.broker(p.leader), ThrottleConfig.leaderRate))
                }
                if sample.isThrottled(tp, broker: f, leaderSide: false) {
                    keys.insert(ThrottleKey(.broker(f), ThrottleConfig.followerRate))
                }
            }
        }
        return keys.filter { key in
            guard !lifted.contains(key), !liftRefused.contains(key) else { return false }
            if case .rate(let r) = remedy, let id = Int32(key.resource.name) {
                let current = key.key == ThrottleConfig.leaderRate ? sample.leaderRate[id] : sample.followerRate[id]
                return (current ?? .infinity) < Double(r)
            }
            return true
        }.sorted()
    }

    /// During catch-up: the change that lifts or raises the throttles holding the batch back, or nil. Every key's
    /// value before the roll first changed it is a prior, journaled by the runner before the change is made. A sample
    /// older than the roll's last throttle change could show a value this roll set: it is not used for priors.
    mutating func liftCatchUpThrottles(_ snapshot: ClusterSnapshot, then next: Step) -> Step? {
        guard let remedy = options.catchUpThrottle, let sample = samples.last,
            sample.at > lastThrottleChangeAt ?? -.infinity
        else { return nil }
        let keys = catchUpThrottleKeys(snapshot, remedy: remedy)
        guard !keys.isEmpty else { return nil }
        var priors: [ThrottlePrior] = []
        for key in keys {
            // A key restored earlier in this roll keeps its first prior (the value before the roll).
            if throttlePriors[key] == nil {
                let id = Int32(key.resource.name) ?? -1
                let own = key.key == ThrottleConfig.leaderRate ? sample.ownLeaderRate[id] : sample.ownFollowerRate[id]
                throttlePriors[key] = .some(own)
            }
            priors.append(ThrottlePrior(key: key, value: throttlePriors[key] ?? nil))
        }
        lifted.formUnion(keys)
        let changes = keys.map { ThrottleChange(key: $0, value: remedy.value) }
        pendingThrottles = PendingThrottles(changes: changes, restoring: false, then: next)
        return Step(action: .alterThrottles(changes, priors: priors), events: [.throttlesLifted(changes)])
    }

    /// The change that puts every key the roll changed back to its prior (deleted when it was not set), then `next`;
    /// nil when nothing is to be put back.
    mutating func restoreCatchUpThrottles(then next: Step) -> Step? {
        guard !lifted.isEmpty else { return nil }
        let changes = lifted.sorted().map { ThrottleChange(key: $0, value: throttlePriors[$0] ?? nil) }
        pendingThrottles = PendingThrottles(changes: changes, restoring: true, then: next)
        return Step(action: .alterThrottles(changes, priors: []), events: [])
    }

    /// The runner changed the throttles (`failures`: the resources IncrementalAlterConfigs did not change, with why).
    /// A refused lift is not tried again in this batch; a refused restore is tried again at the next gate, up to
    /// `restoreAttemptsAllowed` times, and then fails the roll naming the key and the value to put back.
    public mutating func throttlesAltered(failures: [ConfigResource: String], now: Double) -> Step {
        guard let pending = pendingThrottles else { return Step(action: .wait(seconds: 0), events: []) }
        pendingThrottles = nil
        lastThrottleChangeAt = now
        var events: [RollEvent] = []
        var done: [ThrottleKey] = []
        var refused: [(ThrottleChange, String)] = []
        for change in pending.changes {
            if let error = failures[change.key.resource] {
                refused.append((change, error))
            } else {
                done.append(change.key)
            }
        }
        if pending.restoring {
            lifted.subtract(done)
            if !done.isEmpty { events.append(.throttlesRestored(done)) }
            if !refused.isEmpty {
                restoreAttempts += 1
                restoreError = refused.map { "\($0.0.key): \($0.1)" }.joined(separator: "; ")
                events.append(.warning("could not put the catch-up throttle back: \(restoreError)"))
            } else {
                restoreAttempts = 0
            }
        } else {
            for (change, error) in refused {
                lifted.remove(change.key)
                liftRefused.insert(change.key)
                events.append(.warning("could not lift \(change.key) for catch-up: \(error)"))
            }
        }
        if case .fail(let failure) = pending.then.action {
            // The roll fails: it says what is left to put back by hand.
            var f = failure
            if !lifted.isEmpty {
                f.message += "; the catch-up throttle could not be put back: set " + restoreWords()
            }
            return Step(action: .fail(f), events: events + [.failed(f)])
        }
        return Step(action: pending.then.action, events: events + pending.then.events)
    }

    /// "node 5's leader.replication.throttled.rate back to 3000" (or "deleted, it was not set").
    func priorWords(_ key: ThrottleKey) -> String {
        switch throttlePriors[key] ?? nil {
        case .some(let v): "\(key) back to \(v)"
        case .none: "\(key) deleted (it was not set)"
        }
    }

    func restoreWords() -> String {
        lifted.sorted().map(priorWords).joined(separator: ", ")
    }

    /// The changes that put back every key the roll changed (what a cancelled runner does on its way out).
    public var throttlesToRestore: [ThrottleChange] {
        lifted.sorted().map { ThrottleChange(key: $0, value: throttlePriors[$0] ?? nil) }
    }

    /// How often a restore that Kafka refused is tried (at each gate) before the roll fails.
    static let restoreAttemptsAllowed = 5
}

/// A throttle change the runner is making, and the step that follows it.
struct PendingThrottles: Sendable, Hashable {
    var changes: [ThrottleChange]
    var restoring: Bool
    var then: RollStateMachine.Step
}
