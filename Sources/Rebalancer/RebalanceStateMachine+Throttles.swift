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
            if phase == .running && !stopRequested && pendingCount > 0 {
                for n in load.indices where load[n] > 0 && alive[n] { brokers[n] = true }
            }
            // The moves that copy data in flight or in the batch (a batch's moves are in flight too), in topic
            // number, then partition order: a topic's entries are written from them in Kafka's entry order
            // (partition, then broker, numerically) without sorting every entry.
            // (Sorted by a key made once per move: the comparisons then read no per-move array.)
            var keyed: [(topic: Int, partition: Int32, move: Int)] = []
            for m in active where status[m].isInFlight && copiesData(m) {
                keyed.append((moveTopic[m], movePartition[m], m))
            }
            for m in batch where copiesData(m) { keyed.append((moveTopic[m], movePartition[m], m)) }
            keyed.sort { $0 < $1 }
            let list = keyed.map(\.move)
            for m in list {
                for n in oldNumbers[m] where alive[Int(n)] { brokers[Int(n)] = true }
                for n in addedNumbers[m] where alive[Int(n)] { brokers[Int(n)] = true }
            }
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
            // Buffers of `topicEntries`, kept from one topic to the next.
            var text: [UInt8] = []
            var partitionBrokers: [Int32] = []
            var i = 0
            while i < list.count {
                var j = i + 1
                while j < list.count && moveTopic[list[j]] == moveTopic[list[i]] { j += 1 }
                // The topic's keys: leader replicas (the current ones, any of which may lead), then follower replicas
                // (the new ones): `ThrottleConfig.topicKeys`.
                for side in 0..<2 {
                    let k = throttles.resourceKeys[topicResource[moveTopic[list[i]]]][side]
                    let base = throttles.touched[k] ? throttles.prior[k] : throttles.lastRead[k]
                    values[k] = topicEntries(
                        list[i..<j], side == 0 ? oldReplicas : addedBrokers, base: base, text: &text,
                        partitionBrokers: &partitionBrokers)
                    wanted[k] = true
                    keys.append(k)
                }
                i = j
            }
        }
        for k in throttles.keys.indices where throttles.touched[k] && !wanted[k] {
            wanted[k] = true
            keys.append(k)
            values[k] = throttles.prior[k]
        }
        return (keys, values)
    }

    /// A topic's throttled-replicas value from its moves (`moves`, in partition order; `brokers`: each move's brokers
    /// on this side): `base` (what it had) with Ballast's `partition:broker` entries merged in, each once, in Kafka's
    /// order, as `ThrottledReplicas.merge` does; written straight into one string when there is no base. `text` and
    /// `partitionBrokers` are buffers (their contents are not used).
    func topicEntries(
        _ moves: ArraySlice<Int>, _ brokers: FlatLists, base: String?, text: inout [UInt8],
        partitionBrokers: inout [Int32]
    ) -> String? {
        var ours: [String] = []
        text.removeAll(keepingCapacity: true)
        var a = moves.startIndex
        while a < moves.endIndex {
            // The moves of one partition (one, unless the proposal names a partition twice), its brokers sorted once.
            let partition = movePartition[moves[a]]
            var b = a
            partitionBrokers.removeAll(keepingCapacity: true)
            while b < moves.endIndex && movePartition[moves[b]] == partition {
                for broker in brokers[moves[b]] { partitionBrokers.append(broker) }
                b += 1
            }
            partitionBrokers.sort()
            var last: Int32?
            for broker in partitionBrokers where broker != last {
                last = broker
                if base != nil {
                    ours.append(ThrottledReplicas.entry(partition: partition, broker: broker))
                } else {
                    if !text.isEmpty { text.append(UInt8(ascii: ",")) }
                    Self.appendDecimal(partition, to: &text)
                    text.append(UInt8(ascii: ":"))
                    Self.appendDecimal(broker, to: &text)
                }
            }
            a = b
        }
        guard base == nil else { return ThrottledReplicas.merge(prior: base, ours: ours) }
        return String(decoding: text, as: UTF8.self)
    }

    /// `String(x)`'s digits, appended to `text`.
    static func appendDecimal(_ x: Int32, to text: inout [UInt8]) {
        if x < 0 { text.append(UInt8(ascii: "-")) }
        let magnitude = x.magnitude
        var divisor: UInt32 = 1
        while divisor <= magnitude / 10 { divisor *= 10 }
        var rest = magnitude
        while divisor > 0 {
            text.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
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
