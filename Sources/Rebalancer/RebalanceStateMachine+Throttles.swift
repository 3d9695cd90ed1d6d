import KafkaModel

/// Throttles: set for the moves in flight, merged with what is already there, and put back exactly.
extension RebalanceStateMachine {
    struct ThrottlePlan {
        var changes: [ThrottleChange] = []
        /// Resources whose current values are needed but were not read.
        var unread: Set<ConfigResource> = []
        /// Touched keys seen back at their prior value.
        var restored: [ThrottleKey] = []
    }

    /// The value every throttle key should have: the rate on each live broker taking part in a move that copies
    /// data and is in flight, in `batch` or (while moves still start) pending; Ballast's `partition:broker` entries
    /// on each topic with such a move in flight or in `batch` (leader side: the current replicas, any of which may
    /// lead; follower side: the new replicas); and for every key changed earlier and no longer needed, its prior
    /// value. A rate alone throttles nothing (only listed replicas are throttled), so a broker keeps it from its
    /// first move to its last rather than losing and regaining it between batches.
    func desiredThrottles(batch: [Int], alive: Set<Int32>) -> [ThrottleKey: String?] {
        var desired: [ThrottleKey: String?] = [:]
        if let rate = options.throttleBytesPerSecond {
            var brokers = Set<Int32>()
            // Per topic: the leader side's entries, then the follower side's.
            var entries: [String: ([ReplicaEntry], [ReplicaEntry])] = [:]
            if phase == .running && !stopRequested && pendingCount > 0 {
                for (b, bytes) in load where bytes > 0 && alive.contains(b) { brokers.insert(b) }
            }
            func add(_ m: Int) {
                let added = addedBrokers[m]
                guard !added.isEmpty else { return }
                let tp = moves[m].topicPartition
                let old = moves[m].oldReplicas
                for b in old where alive.contains(b) { brokers.insert(b) }
                for b in added where alive.contains(b) { brokers.insert(b) }
                entries[tp.topic, default: ([], [])].0 += old.map { ReplicaEntry(partition: tp.partition, broker: $0) }
                entries[tp.topic, default: ([], [])].1 += added.map {
                    ReplicaEntry(partition: tp.partition, broker: $0)
                }
            }
            for m in active where status[m].isInFlight { add(m) }
            for m in batch { add(m) }
            let value = String(rate)
            for b in brokers {
                for key in ThrottleConfig.brokerKeys { desired[ThrottleKey(.broker(b), key)] = .some(value) }
            }
            for (topic, (leaders, followers)) in entries {
                for (name, list) in [
                    (ThrottleConfig.leaderReplicas, leaders), (ThrottleConfig.followerReplicas, followers),
                ]
                where !list.isEmpty {
                    let key = ThrottleKey(.topic(topic), name)
                    let base: String? = touched.contains(key) ? (priors[key] ?? nil) : lastRead[key]
                    desired[key] = .some(ThrottledReplicas.merge(prior: base, ours: Self.sortedEntries(list)))
                }
            }
        }
        for key in touched where desired[key] == nil { desired[key] = .some(priors[key] ?? nil) }
        return desired
    }

    /// A `partition:broker` entry of a throttled-replicas list, kept as numbers until it is written.
    struct ReplicaEntry: Hashable, Comparable {
        var partition: Int32
        var broker: Int32
        static func < (a: Self, b: Self) -> Bool { (a.partition, a.broker) < (b.partition, b.broker) }
    }

    /// Entries in partition, then broker order (numerically), each once, in Kafka's format.
    static func sortedEntries(_ list: [ReplicaEntry]) -> [String] {
        Set(list).sorted().map { ThrottledReplicas.entry(partition: $0.partition, broker: $0.broker) }
    }

    /// The changes (in key order) that bring every key to its desired value. Runs at every poll, over every key the
    /// execution holds, so only the few keys that change are sorted.
    func throttlePlan(batch: [Int], alive: Set<Int32>) -> ThrottlePlan {
        var plan = ThrottlePlan()
        let desired = desiredThrottles(batch: batch, alive: alive)
        plan.changes.reserveCapacity(desired.count)
        for (key, value) in desired {
            let isRestore = touched.contains(key) && value == (priors[key] ?? nil)
            if isRestore && (restoreAttempts[key] ?? 0) >= options.timeouts.cleanupAttempts { continue }
            guard lastReadResources.contains(key.resource) else {
                plan.unread.insert(key.resource)
                continue
            }
            let current = lastRead[key]
            if current == value {
                if isRestore { plan.restored.append(key) }
                continue
            }
            plan.changes.append(ThrottleChange(key: key, value: value))
        }
        plan.changes.sort { $0.key < $1.key }
        plan.restored.sort()
        return plan
    }

    /// This poll's throttle changes. A batch whose throttles cannot be read back yet waits one poll (its resources
    /// are read next time): no move starts unthrottled.
    mutating func planThrottles(_ view: View) {
        var plan = throttlePlan(batch: tick.batch, alive: view.alive)
        if !tick.batch.isEmpty && !plan.unread.isEmpty {
            for m in tick.batch { backToPending(m) }
            tick.batch = []
            let unread = plan.unread
            plan = throttlePlan(batch: [], alive: view.alive)
            plan.unread.formUnion(unread)
        }
        // A touched key of a broker that is gone cannot be restored now: that counts as a failed attempt.
        for resource in plan.unread where resource.kind == .broker {
            guard let id = Int32(resource.name), !view.alive.contains(id) else { continue }
            for key in touched where key.resource == resource {
                restoreAttempts[key, default: 0] += 1
                restoreErrors[key] = "broker \(id) is not in the cluster"
            }
        }
        extraReads = plan.unread
        for key in plan.restored {
            touched.remove(key)
            restoreAttempts[key] = nil
            restoreErrors[key] = nil
        }
        if !plan.restored.isEmpty { tick.events.append(.throttlesRestored(plan.restored)) }
        for change in plan.changes where touched.contains(change.key) {
            // Attempts count restores in a row: a key needed again starts over.
            if change.value == (priors[change.key] ?? nil) {
                restoreAttempts[change.key, default: 0] += 1
            } else {
                restoreAttempts[change.key] = nil
                restoreErrors[change.key] = nil
            }
        }
        tick.changes = plan.changes
    }

    /// Keys changed by the execution and not yet put back (and not given up on).
    var hasThrottlesToRestore: Bool {
        touched.contains { (restoreAttempts[$0] ?? 0) < options.timeouts.cleanupAttempts }
    }

    // MARK: Report

    public func report() -> RebalanceReport {
        var r = RebalanceReport(outcome: .completed, failure: failure)
        for m in moves.indices {
            let tp = moves[m].topicPartition
            switch status[m] {
            case .done, .reassigned:
                r.done += 1
                if !detail[m].isEmpty && status[m] == .done && detail[m].hasPrefix("leader ") {
                    r.leadersNotMoved.append(.init(topicPartition: tp, reason: detail[m]))
                }
            case .skipped: r.skipped.append(.init(topicPartition: tp, reason: detail[m]))
            case .cancelled: r.cancelled.append(.init(topicPartition: tp, reason: detail[m]))
            case .dropped, .pending: r.dropped += 1
            case .requested, .inFlight, .cancelling:
                let why =
                    runtime[m].leftToFinish
                    ? "left to finish: cancelling it was unsafe"
                    : runtime[m].cancelReason.isEmpty ? "still in flight" : runtime[m].cancelReason
                r.leftInFlight.append(.init(topicPartition: tp, reason: why))
            }
        }
        for key in touched.sorted() {
            r.throttlesNotRestored.append(.init(key: key, reason: restoreErrors[key] ?? "not seen back at its value"))
        }
        if stopRequested {
            r.outcome = .stopped
        } else if failure != nil {
            r.outcome = .failed
        } else if !r.isClean {
            r.outcome = .incomplete
        }
        return r
    }
}
