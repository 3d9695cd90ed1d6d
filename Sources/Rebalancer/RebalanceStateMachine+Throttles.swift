import KafkaModel

/// Throttles: set for the moves in flight, merged with what is already there, and put back exactly.
extension RebalanceStateMachine {
    struct ThrottlePlan {
        /// Key numbers in key order; the values to give them are in `desiredValues`.
        var changes: [Int] = []
        /// Resources (numbers) whose current values are needed but were not read.
        var unread: [Int] = []
        /// Touched keys seen back at their prior value, in key order.
        var restored: [Int] = []
    }

    /// The keys the execution wants at a value, each key's value written in `desiredValues`: the rate on each
    /// live broker taking part in a move that copies data and is in flight, in `batch` or (while moves still start)
    /// pending; Ballast's `partition:broker` entries on each topic with such a move in flight or in `batch` (leader
    /// side: the current replicas, any of which may lead; follower side: the new replicas); and for every key
    /// changed earlier and no longer needed, its prior value. A rate alone throttles nothing (only listed replicas
    /// are throttled), so a broker keeps it from its first move to its last rather than losing and regaining it
    /// between batches.
    ///
    /// `alive`: whether each numbered broker (`brokerNumbers`) is in the cluster; every broker given a rate is one.
    mutating func desiredThrottles(batch: [Int], alive: [Bool]) -> [Int] {
        let count = throttles.keys.count
        // Kept from poll to poll: an array of strings made and freed at every poll destroyed each element through
        // a generic call (a tenth of the bookkeeping's instructions).
        if desiredValues.count < count { desiredValues += Array(repeating: nil, count: count - desiredValues.count) }
        var wanted = [Bool](repeating: false, count: count)
        var keys: [Int] = []
        if let rate = options.throttleBytesPerSecond {
            // By broker number.
            var brokers = [Bool](repeating: false, count: brokerIds.count)
            var marked = 0
            if phase == .running && !stopRequested && pendingCount > 0 {
                for n in load.indices where load[n] > 0 && alive[n] {
                    brokers[n] = true
                    marked += 1
                }
            }
            // The moves that copy data in flight or in the batch (a batch's moves are in flight too), in topic
            // number, then partition order: a topic's entries are written from them in Kafka's entry order
            // (partition, then broker, numerically) without sorting every entry.
            // (Sorted by a key made once per move: the comparisons then read no per-move array.)
            var keyed: [(topic: Int, partition: Int32, move: Int)] = []
            for m in active where status[m].isInFlight && copiesData(m) {
                keyed.append((Int(facts[m].topic), facts[m].partition, m))
            }
            for m in batch where copiesData(m) { keyed.append((Int(facts[m].topic), facts[m].partition, m)) }
            keyed.sort { $0 < $1 }
            let list = keyed.map(\.move)
            // (Not needed when every live broker already has its rate: most polls while moves remain.)
            if marked < alive.count(where: { $0 }) {
                for m in list {
                    for n in oldNumbers[m] where alive[Int(n)] { brokers[Int(n)] = true }
                    for n in addedNumbers[m] where alive[Int(n)] { brokers[Int(n)] = true }
                }
            }
            let value = String(rate)
            // (The keys' order does not matter: the plan sorts what it returns by rank.)
            for n in brokers.indices where brokers[n] {
                let r = brokerResource[n]
                for k in throttles.readKeys(of: r) where !wanted[k] {
                    wanted[k] = true
                    keys.append(k)
                    desiredValues[k] = value
                }
            }
            // Buffers of `topicEntries`, kept from one topic to the next.
            var text: [UInt8] = []
            var partitionBrokers: [Int32] = []
            var i = 0
            while i < list.count {
                var j = i + 1
                while j < list.count && facts[list[j]].topic == facts[list[i]].topic { j += 1 }
                // The topic's keys: leader replicas (the current ones, any of which may lead), then follower replicas
                // (the new ones): `ThrottleConfig.topicKeys`.
                for side in 0..<2 {
                    let k = throttles.resourceKeys[topicResource[Int(facts[list[i]].topic)]][side]
                    let base = throttles.touched[k] ? throttles.prior[k] : throttles.lastRead[k]
                    desiredValues[k] = topicEntries(
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
            desiredValues[k] = throttles.prior[k]
        }
        return keys
    }

    /// A topic's throttled-replicas value from its moves (`moves`, in partition order; `brokers`: each move's brokers
    /// on this side): `base` (what it had) with Ballast's `partition:broker` entries merged in, each once, in Kafka's
    /// order, as `ThrottledReplicas.merge` does; written straight into one string when there is no base. `text` and
    /// `partitionBrokers` are buffers (their contents are not used).
    func topicEntries(
        _ moves: ArraySlice<Int>, _ brokers: FlatLists, base: String?, text: inout [UInt8],
        partitionBrokers: inout [Int32]
    ) -> String? {
        guard base == nil else {
            var ours: [String] = []
            forEachEntry(moves, brokers, &partitionBrokers) {
                ours.append(ThrottledReplicas.entry(partition: $0, broker: $1))
            }
            return ThrottledReplicas.merge(prior: base, ours: ours)
        }
        // At most 24 bytes per entry ("-2147483648:-2147483648,"), at most one entry per broker of each move.
        var bound = 0
        for m in moves { bound += 24 * brokers.count(m) }
        if text.count < bound { text = Array(repeating: 0, count: bound) }
        let length = text.withUnsafeMutableBufferPointer { out in
            var n = 0
            forEachEntry(moves, brokers, &partitionBrokers) { partition, broker in
                if n > 0 {
                    out[n] = UInt8(ascii: ",")
                    n += 1
                }
                n = Self.writeDecimal(partition, into: out, at: n)
                out[n] = UInt8(ascii: ":")
                n = Self.writeDecimal(broker, into: out, at: n + 1)
            }
            return n
        }
        return text.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[..<length]), as: UTF8.self)
        }
    }

    /// Calls `body` with each `partition:broker` entry of the moves (`moves`, in partition order; `brokers`: each
    /// move's brokers on this side) once, in Kafka's order (partition, then broker, numerically). `scratch` is a
    /// buffer (its contents are not used).
    func forEachEntry(
        _ moves: ArraySlice<Int>, _ brokers: FlatLists, _ scratch: inout [Int32], _ body: (Int32, Int32) -> Void
    ) {
        var a = moves.startIndex
        while a < moves.endIndex {
            // The moves of one partition (one, unless the proposal names a partition twice), its few brokers put in
            // order as they are added.
            let partition = facts[moves[a]].partition
            var count = 0
            var b = a
            while b < moves.endIndex && facts[moves[b]].partition == partition {
                for broker in brokers[moves[b]] {
                    if count == scratch.count { scratch.append(broker) }
                    var i = count
                    while i > 0 && scratch[i - 1] > broker {
                        scratch[i] = scratch[i - 1]
                        i -= 1
                    }
                    scratch[i] = broker
                    count += 1
                }
                b += 1
            }
            for i in 0..<count where i == 0 || scratch[i] != scratch[i - 1] { body(partition, scratch[i]) }
            a = b
        }
    }

    /// Writes `String(x)`'s digits into `out` at `at`; returns where they end.
    static func writeDecimal(_ x: Int32, into out: UnsafeMutableBufferPointer<UInt8>, at: Int) -> Int {
        var start = at
        if x < 0 {
            out[start] = UInt8(ascii: "-")
            start += 1
        }
        var digits = 1
        var rest = x.magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        var v = x.magnitude
        var i = start + digits
        repeat {
            i -= 1
            out[i] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
        } while v > 0
        return start + digits
    }

    /// The changes (in key order) that bring every key to its desired value. Runs at every poll, over every key the
    /// execution holds, so only the few keys that change are sorted, by rank.
    mutating func throttlePlan(batch: [Int], alive: [Bool]) -> ThrottlePlan {
        var plan = ThrottlePlan()
        let keys = desiredThrottles(batch: batch, alive: alive)
        let t = throttles
        var unread = [Bool](repeating: false, count: t.resources.count)
        for k in keys {
            let value = desiredValues[k]
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
            plan.changes.append(k)
        }
        plan.changes.sort { t.keyRank[$0] < t.keyRank[$1] }
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
        for k in plan.changes where throttles.touched[k] {
            // Attempts count restores in a row: a key needed again starts over.
            if desiredValues[k] == throttles.prior[k] {
                throttles.restoreAttempts[k] += 1
            } else {
                throttles.restoreAttempts[k] = 0
                throttles.restoreError[k] = nil
            }
        }
        tick.changes = plan.changes.map { ThrottleChange(key: throttles.keys[$0], value: desiredValues[$0]) }
        tick.changeKeys = plan.changes
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
