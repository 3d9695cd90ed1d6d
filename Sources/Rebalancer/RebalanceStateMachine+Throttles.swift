import KafkaModel

/// Throttles: set for the moves in flight, merged with what is already there, and put back exactly.
extension RebalanceStateMachine {
    struct ThrottlePlan {
        /// Key numbers in key order, and the values to give them.
        var changes: [(key: Int, value: String?)] = []
        /// Resources (numbers) whose current values are needed but were not read.
        var unread: [Int] = []
        /// Touched keys seen back at their prior value, in key order.
        var restored: [Int] = []
    }

    /// The value every throttle key should have (`values`, by key number, for the keys in `keys`): the rate on each
    /// live broker taking part in a move that copies data and is in flight, in `batch` or (while moves still start)
    /// pending; Ballast's `partition:broker` entries on each topic with such a move in flight or in `batch` (leader
    /// side: the current replicas, any of which may lead; follower side: the new replicas); and for every key
    /// changed earlier and no longer needed, its prior value. A rate alone throttles nothing (only listed replicas
    /// are throttled), so a broker keeps it from its first move to its last rather than losing and regaining it
    /// between batches.
    ///
    /// `alive`: whether each numbered broker (`brokerNumbers`) is in the cluster; every broker given a rate is one.
    mutating func desiredThrottles(batch: [Int], alive: [Bool]) -> (keys: [Int], values: [String?]) {
        let count = throttles.keys.count
        var values = [String?](repeating: nil, count: count)
        var wanted = [Bool](repeating: false, count: count)
        var keys: [Int] = []
        if let rate = options.throttleBytesPerSecond {
            // By broker number.
            var brokers = [Bool](repeating: false, count: brokerIds.count)
            // Entries of both sides, sorted by topic number, then partition and broker (Kafka's entry order).
            var leaders: [ReplicaEntry] = []
            var followers: [ReplicaEntry] = []
            if phase == .running && !stopRequested && pendingCount > 0 {
                for n in load.indices where load[n] > 0 && alive[n] { brokers[n] = true }
            }
            func add(_ m: Int) {
                let added = addedBrokers[m]
                guard !added.isEmpty else { return }
                let topic = Int32(moveTopic[m])
                let partition = moves[m].topicPartition.partition
                for (b, n) in zip(oldReplicas[m], oldNumbers[m]) {
                    if alive[Int(n)] { brokers[Int(n)] = true }
                    leaders.append(ReplicaEntry(topic: topic, partition: partition, broker: b))
                }
                for (b, n) in zip(added, addedNumbers[m]) {
                    if alive[Int(n)] { brokers[Int(n)] = true }
                    followers.append(ReplicaEntry(topic: topic, partition: partition, broker: b))
                }
            }
            for m in active where status[m].isInFlight { add(m) }
            for m in batch { add(m) }
            let value = String(rate)
            // (The keys' order does not matter: the plan sorts what it returns by rank.)
            for n in brokers.indices where brokers[n] {
                let r = brokerResource[n]
                for k in throttles.readKeys(of: r) where !wanted[k] {
                    wanted[k] = true
                    keys.append(k)
                    values[k] = value
                }
            }
            for (side, list) in [(0, leaders), (1, followers)] {
                forEachTopic(list.sorted()) { topic, entries in
                    // The topic's keys: leader replicas, then follower replicas (`ThrottleConfig.topicKeys`).
                    let k = throttles.resourceKeys[topicResource[topic]][side]
                    let base = throttles.touched[k] ? throttles.prior[k] : throttles.lastRead[k]
                    values[k] = Self.entriesValue(entries, base: base)
                    wanted[k] = true
                    keys.append(k)
                }
            }
        }
        for k in throttles.keys.indices where throttles.touched[k] && !wanted[k] {
            wanted[k] = true
            keys.append(k)
            values[k] = throttles.prior[k]
        }
        return (keys, values)
    }

    /// Calls `body` with each topic's entries (each once) of a sorted list.
    private func forEachTopic(_ sorted: [ReplicaEntry], _ body: (Int, ArraySlice<ReplicaEntry>) -> Void) {
        var i = 0
        while i < sorted.count {
            var j = i + 1
            while j < sorted.count && sorted[j].topic == sorted[i].topic { j += 1 }
            body(Int(sorted[i].topic), sorted[i..<j])
            i = j
        }
    }

    /// A topic's throttled-replicas value: `base` (what it had) with Ballast's entries (sorted, maybe repeated)
    /// merged in, as `ThrottledReplicas.merge` does; written straight into one string when there is no base.
    static func entriesValue(_ entries: ArraySlice<ReplicaEntry>, base: String?) -> String? {
        var last: ReplicaEntry?
        guard base == nil else {
            var ours: [String] = []
            for e in entries where e != last {
                ours.append(ThrottledReplicas.entry(partition: e.partition, broker: e.broker))
                last = e
            }
            return ThrottledReplicas.merge(prior: base, ours: ours)
        }
        var value = ""
        for e in entries where e != last {
            if last != nil { value += "," }
            value += String(e.partition)
            value += ":"
            value += String(e.broker)
            last = e
        }
        return value
    }

    /// A `partition:broker` entry of a throttled-replicas list, kept as numbers until it is written; ordered by
    /// topic (its number), then as Kafka's entries are (partition, then broker, numerically).
    struct ReplicaEntry: Hashable, Comparable {
        var topic: Int32 = 0
        var partition: Int32
        var broker: Int32
        static func < (a: Self, b: Self) -> Bool {
            (a.topic, a.partition, a.broker) < (b.topic, b.partition, b.broker)
        }
    }

    /// Entries in partition, then broker order (numerically), each once, in Kafka's format.
    static func sortedEntries(_ list: [ReplicaEntry]) -> [String] {
        Set(list).sorted().map { ThrottledReplicas.entry(partition: $0.partition, broker: $0.broker) }
    }

    /// The changes (in key order) that bring every key to its desired value. Runs at every poll, over every key the
    /// execution holds, so only the few keys that change are sorted, by rank.
    mutating func throttlePlan(batch: [Int], alive: [Bool]) -> ThrottlePlan {
        var plan = ThrottlePlan()
        let (keys, desired) = desiredThrottles(batch: batch, alive: alive)
        let t = throttles
        var unread = [Bool](repeating: false, count: t.resources.count)
        for k in keys {
            let value = desired[k]
            let isRestore = t.touched[k] && value == t.prior[k]
            if isRestore && t.restoreAttempts[k] >= options.timeouts.cleanupAttempts { continue }
            let r = t.keyResource[k]
            guard t.read[r] else {
                if !unread[r] {
                    unread[r] = true
                    plan.unread.append(r)
                }
                continue
            }
            if t.lastRead[k] == value {
                if isRestore { plan.restored.append(k) }
                continue
            }
            plan.changes.append((k, value))
        }
        plan.changes.sort { t.keyRank[$0.key] < t.keyRank[$1.key] }
        plan.restored.sort { t.keyRank[$0] < t.keyRank[$1] }
        return plan
    }

    /// This poll's throttle changes. A batch whose throttles cannot be read back yet waits one poll (its resources
    /// are read next time): no move starts unthrottled.
    mutating func planThrottles(_ view: View) {
        var plan = throttlePlan(batch: tick.batch, alive: view.aliveByNumber)
        if !tick.batch.isEmpty && !plan.unread.isEmpty {
            for m in tick.batch { backToPending(m) }
            tick.batch = []
            let unread = plan.unread
            plan = throttlePlan(batch: [], alive: view.aliveByNumber)
            plan.unread += unread.filter { !plan.unread.contains($0) }
        }
        // A touched key of a broker that is gone cannot be restored now: that counts as a failed attempt.
        for r in plan.unread where throttles.resources[r].kind == .broker {
            guard let id = Int32(throttles.resources[r].name), !view.alive.contains(id) else { continue }
            for k in throttles.resourceKeys[r] where throttles.touched[k] {
                throttles.restoreAttempts[k] += 1
                throttles.restoreError[k] = "broker \(id) is not in the cluster"
            }
        }
        extraReads = plan.unread
        for k in plan.restored {
            throttles.touched[k] = false
            throttles.restoreAttempts[k] = 0
            throttles.restoreError[k] = nil
        }
        if !plan.restored.isEmpty { tick.events.append(.throttlesRestored(plan.restored.map { throttles.keys[$0] })) }
        for (k, value) in plan.changes where throttles.touched[k] {
            // Attempts count restores in a row: a key needed again starts over.
            if value == throttles.prior[k] {
                throttles.restoreAttempts[k] += 1
            } else {
                throttles.restoreAttempts[k] = 0
                throttles.restoreError[k] = nil
            }
        }
        tick.changes = plan.changes.map { ThrottleChange(key: throttles.keys[$0.key], value: $0.value) }
        tick.changeKeys = plan.changes.map(\.key)
    }

    /// Keys changed by the execution and not yet put back (and not given up on).
    var hasThrottlesToRestore: Bool {
        throttles.keys.indices.contains {
            throttles.touched[$0] && throttles.restoreAttempts[$0] < options.timeouts.cleanupAttempts
        }
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
        let t = throttles
        for k in t.keys.indices.filter({ t.touched[$0] }).sorted(by: { t.keyRank[$0] < t.keyRank[$1] }) {
            r.throttlesNotRestored.append(
                .init(key: t.keys[k], reason: t.restoreError[k] ?? "not seen back at its value"))
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
