public import KafkaModel

/// One poll: what the read says about every move, and what to do about it.
extension RebalanceStateMachine {
    /// The cluster as read at the start of a poll. Returns the poll's first action.
    public mutating func observed(_ o: Observation, now: Double) -> Step {
        tick = Tick()
        // What was read stays known until it is read again: a resource needed again later (a broker whose rate
        // was put back) is not re-read before each batch; when every read replaced the last, batches needing such
        // resources waited on reads that never covered all of them at once, and the execution never ended.
        // The reads come in the order asked: each resource is found by comparing it with the next one asked for
        // (no name hashed); one that is not (the one asked for could not be read) is looked up, and the next one
        // asked for is then the one after it.
        var askedAt = [Int](repeating: -1, count: throttles.resources.count)
        for (i, r) in asked.enumerated() { askedAt[r] = i }
        var next = 0
        for read in o.throttles {
            let r =
                next < asked.count && throttles.resources[asked[next]] == read.resource
                ? asked[next] : throttles.resourceNumber(read.resource)
            if r < askedAt.count && askedAt[r] >= next { next = askedAt[r] + 1 }
            throttles.read[r] = true
            let keys = throttles.readKeys(of: r)
            for (i, k) in keys.enumerated() { throttles.lastRead[k] = i < read.values.count ? read.values[i] : nil }
        }
        numberTopics(of: o.snapshot)
        let view = View(self, o)
        noteMissingBrokers(view.aliveByNumber, now: now)

        reconcile(view, now: now)
        if stopRequested && phase != .stopping && phase != .finished {
            phase = .stopping
            tick.events.append(.stopping(reason: "stop requested: moves in flight are cancelled, pending ones dropped"))
        }
        if phase == .stopping { dropPending() }
        cancelWhereNeeded(view, now: now)
        if phase == .running && pendingCount > 0 {
            if let reason = view.gateReason {
                gateSince = gateSince ?? now
                if reason != lastGateReason { tick.events.append(.waiting(reason: reason)) }
                lastGateReason = reason
                if now - gateSince! > options.timeouts.gateSeconds {
                    drain("no move could start for \(Int(options.timeouts.gateSeconds)) s: \(reason)")
                    tick.events.append(.stopping(reason: "the gate held the execution; moves in flight finish"))
                }
            } else {
                gateSince = nil
                lastGateReason = ""
                selectBatch(view, o.replicaSizes, now: now)
            }
        }
        planThrottles(view)
        planElections(view, now: now)
        if case .draining = phase, blockingActive == 0 { dropPending() }
        if pendingCount == 0 && blockingActive == 0 && tick.batch.isEmpty && !hasThrottlesToRestore {
            phase = .finished
        }
        tick.events.append(.progress(progress))
        return nextInTick(now: now)
    }

    /// The snapshot indexed for the moves: where each move's partition is, Kafka's reassignment of it, and the
    /// partitions that hold every new batch.
    ///
    /// Built at every poll, so it costs O(partitions) only in the gate's scan, which reads two fields of each
    /// partition in place (no copy, no hashing); a move's partition is found when asked for (a topic lookup, then
    /// the partition at its own index, where Kafka lists it), since a poll looks at the moves in flight and the
    /// next batch, not at all of them. (Indexing every move at every poll made the bookkeeping of a 100k-move
    /// proposal quadratic: polls grow with the moves.)
    struct View {
        let snapshot: ClusterSnapshot
        /// Each move's topic number and partition id (`RebalanceStateMachine.facts`).
        let facts: [MoveFacts]
        /// Each topic's index in the snapshot, by its number in `topicNumbers` (-1: not in the snapshot).
        let topicPosition: [Int]
        var reassignment: [Int: PartitionReassignment] = [:]  // by move
        let alive: Set<Int32>
        /// `alive` for the numbered brokers (`brokerNumbers`).
        let aliveByNumber: [Bool]
        var gateReason: String?

        init(_ machine: RebalanceStateMachine, _ o: Observation) {
            snapshot = o.snapshot
            facts = machine.facts
            alive = Set(o.snapshot.brokers.map(\.id))
            aliveByNumber = machine.brokerIds.map(alive.contains)
            let topics = o.snapshot.topics
            var positions = [Int](repeating: -1, count: machine.topicNumbers.count)
            var offline: TopicPartition?
            var underMin: (TopicPartition, Int, Int)?
            for ti in topics.indices {
                let n = machine.snapshotTopicNumbers[ti]
                if n >= 0 { positions[n] = ti }
                guard offline == nil else { continue }
                let minIsr = topics[ti].minInSyncReplicas
                // Read in place (no copy of each partition, no bounds checks): every partition, at every poll. The
                // lowest leader and ISR size first, without a branch per partition; the partition is looked for
                // only in a topic that has one.
                topics[ti].partitions.withUnsafeBufferPointer { partitions in
                    var lowestLeader: Int32 = 0
                    var smallestIsr = Int32.max
                    for pi in partitions.indices {
                        lowestLeader = min(lowestLeader, partitions[pi].leader)
                        smallestIsr = min(smallestIsr, partitions[pi].isrCount)
                    }
                    guard lowestLeader < 0 || (underMin == nil && Int(smallestIsr) < minIsr) else { return }
                    for pi in partitions.indices {
                        if partitions[pi].leader < 0 {
                            offline = TopicPartition(topics[ti].name, partitions[pi].partition)
                            return
                        }
                        // `isrCount`, inline: the ISR array itself would be a cache miss per partition.
                        if underMin == nil && Int(partitions[pi].isrCount) < minIsr {
                            let tp = TopicPartition(topics[ti].name, partitions[pi].partition)
                            if machine.index(of: tp).map({ !machine.isUnfinished($0) }) ?? true {
                                underMin = (tp, Int(partitions[pi].isrCount), minIsr)
                            }
                        }
                    }
                }
            }
            topicPosition = positions
            for r in o.reassignments {
                if let m = machine.moveIndex[r.topic]?[r.partition] { reassignment[m] = r }
            }
            if let offline {
                gateReason = "partition \(offline) is offline (no leader)"
            } else if let (tp, isr, min) = underMin {
                gateReason =
                    "partition \(tp) is under min.insync.replicas (\(isr) in sync, \(min) required), "
                    + "outside the moves"
            }
        }

        func partition(_ m: Int) -> (info: PartitionInfo, minIsr: Int)? {
            guard let (ti, pi) = location(m) else { return nil }
            return (snapshot.topics[ti].partitions[pi], snapshot.topics[ti].minInSyncReplicas)
        }

        /// The leader of a move's partition, read in place.
        func leader(_ m: Int) -> Int32? {
            location(m).map { snapshot.topics[$0].partitions[$1].leader }
        }

        /// Where a move's partition is in the snapshot: its topic, then the partition at its own index (where Kafka
        /// lists it) or, failing that, found by id.
        func location(_ m: Int) -> (topic: Int, partition: Int)? {
            let ti = topicPosition[Int(facts[m].topic)]
            guard ti >= 0 else { return nil }
            let id = facts[m].partition
            return snapshot.topics[ti].partitions.withUnsafeBufferPointer { partitions in
                let at = Int(id)
                if at >= 0 && at < partitions.count && partitions[at].partition == id { return (ti, at) }
                return partitions.firstIndex { $0.partition == id }.map { (ti, $0) }
            }
        }

        /// Whether the partition at `at` has exactly `replicas`, read in place.
        func hasReplicas(_ at: (topic: Int, partition: Int), _ replicas: ArraySlice<Int32>) -> Bool {
            snapshot.topics[at.topic].partitions.withUnsafeBufferPointer { partitions in
                partitions[at.partition].replicas.withUnsafeBufferPointer { own in
                    guard own.count == replicas.count else { return false }
                    var i = replicas.startIndex
                    for id in own {
                        guard id == replicas[i] else { return false }
                        i += 1
                    }
                    return true
                }
            }
        }

        func hasReplicas(_ at: (topic: Int, partition: Int), _ replicas: [Int32]) -> Bool {
            hasReplicas(at, replicas[...])
        }

        /// The leader of the partition at `at`, read in place.
        func leader(at: (topic: Int, partition: Int)) -> Int32 {
            snapshot.topics[at.topic].partitions.withUnsafeBufferPointer { $0[at.partition].leader }
        }

        func replicas(at: (topic: Int, partition: Int)) -> [Int32] {
            snapshot.topics[at.topic].partitions[at.partition].replicas
        }
    }

    /// Each of the snapshot's topics' number (`topicNumbers`, -1 for a topic of no move), hashed only when the
    /// snapshot's topics are not those of the previous read (names compared in order: no string hashed).
    mutating func numberTopics(of snapshot: ClusterSnapshot) {
        let topics = snapshot.topics
        var same = topics.count == snapshotTopicNames.count
        if same {
            for ti in topics.indices where topics[ti].name != snapshotTopicNames[ti] {
                same = false
                break
            }
        }
        guard !same else { return }
        snapshotTopicNames = topics.map(\.name)
        snapshotTopicNumbers = topics.map { topicNumbers[$0.name] ?? -1 }
    }

    func isUnfinished(_ m: Int) -> Bool {
        status[m] == .pending || status[m] == .requested || status[m] == .inFlight || status[m] == .cancelling
    }

    /// Moves that keep the execution from ending: in flight (unless their cancellation was given up) or with
    /// leadership still to move.
    var blockingActive: Int {
        active.filter { !(status[$0] == .cancelling && runtime[$0].cancelAttempts >= options.timeouts.cleanupAttempts) }
            .count
    }

    var progress: RebalanceProgress {
        RebalanceProgress(
            done: movedCount, inFlight: inFlightCount, pending: pendingCount, notDone: notDoneCount,
            bytesDone: bytesMoved, bytesTotal: bytesTotal)
    }

    /// Notes when each broker a queue or an active move names went missing from metadata (by broker number: every
    /// such broker is numbered).
    mutating func noteMissingBrokers(_ aliveByNumber: [Bool], now: Double) {
        // Every broker there and none missing before: nothing to note (the common case, at every poll).
        if missingSince.isEmpty && !aliveByNumber.contains(false) { return }
        var referenced = [Bool](repeating: false, count: brokerIds.count)
        for n in schedule.queued { referenced[n] = true }
        for m in active { for n in addedNumbers[m] { referenced[Int(n)] = true } }
        for n in referenced.indices where referenced[n] {
            let b = brokerIds[n]
            if aliveByNumber[n] {
                if !missingSince.isEmpty { missingSince[b] = nil }
            } else if missingSince[b] == nil {
                missingSince[b] = now
            }
        }
    }

    func missingFor(_ b: Int32, now: Double) -> Double? { missingSince[b].map { now - $0 } }

    // MARK: Reconcile

    /// Reads in a row that must agree before a move missing from Kafka's list is taken as changed outside Ballast.
    static let settledReads = 3

    /// Each move Kafka may be moving, or whose leadership is still to move, against what Kafka says now.
    mutating func reconcile(_ view: View, now: Double) {
        // Fields of the move and of its partition are read in place: a copy of each (`PlannedMove`,
        // `PartitionInfo`) retains and releases every array in it, for every active move at every poll.
        for m in active {
            let at = view.location(m)
            let r = view.reassignment.isEmpty ? nil : view.reassignment[m]
            switch status[m] {
            case .requested, .inFlight:
                if r != nil { runtime[m].unexplained = 0 }
                if let r {
                    if r.targetReplicas == moves[m].newReplicas {
                        if !runtime[m].tracked {
                            // Ours, found in flight (a previous run started it, or its start got no answer):
                            // followed to the end, never started again.
                            if status[m] == .requested {
                                status[m] = .inFlight
                                tick.journal.append(JournalEntry(index: m, status: .inFlight))
                            }
                            if copiesData(m) {
                                takeSlots(m, leader: at.map { view.leader(at: $0) } ?? moves[m].oldLeader)
                            }
                            setDeadlines(m, now: now)
                            runtime[m].tracked = true
                            tick.events.append(.moveAdopted(moves[m].topicPartition))
                        }
                    } else {
                        finishMove(
                            m, .cancelled,
                            "a reassignment to \(r.targetReplicas) that Ballast did not ask for replaced it")
                    }
                } else if let at {
                    if view.hasReplicas(at, newReplicas[m]) {
                        finishMove(m, .reassigned)
                        continue
                    }
                    runtime[m].unexplained += 1
                    guard runtime[m].unexplained >= Self.settledReads else { continue }
                    if view.hasReplicas(at, oldReplicas[m]) {
                        if status[m] == .requested {
                            // The request never reached Kafka: the move has not started.
                            backToPending(m)
                        } else {
                            finishMove(m, .cancelled, "it was reverted outside Ballast")
                        }
                    } else {
                        finishMove(
                            m, .cancelled, "its replicas were changed outside Ballast to \(view.replicas(at: at))")
                    }
                } else {
                    finishMove(m, .cancelled, "the partition no longer exists")
                }
            case .cancelling:
                if let r, r.targetReplicas == moves[m].newReplicas {
                    // Still there: the cancellation did not arrive; it is sent again (a bounded number of times).
                    if runtime[m].cancelAttempts < options.timeouts.cleanupAttempts { tick.cancels.append(m) }
                } else if let at, r == nil, view.hasReplicas(at, newReplicas[m]) {
                    // It completed before the cancellation arrived.
                    finishMove(m, .reassigned)
                } else {
                    finishMove(
                        m, .cancelled, runtime[m].cancelReason.isEmpty ? "cancelled" : runtime[m].cancelReason)
                }
            case .reassigned:
                guard let at else {
                    finishMove(m, .done, "the partition no longer exists")
                    continue
                }
                let leader = view.leader(at: at)
                let newLeader = facts[m].newLeader
                if leader == newLeader || !view.hasReplicas(at, newReplicas[m]) {
                    finishMove(m, .done)
                } else if let since = runtime[m].electSince, now - since > options.timeouts.electSeconds {
                    finishMove(
                        m, .done,
                        "leader is \(leader), not the proposed \(newLeader)"
                            + (runtime[m].electError.map { " (\($0))" } ?? ""))
                }
            default:
                active.remove(m)
            }
        }
    }

    /// Pending moves never start once the execution stops.
    mutating func dropPending() {
        guard pendingCount > 0 else { return }
        for m in moves.indices where status[m] == .pending { finishMove(m, .dropped, "the execution stopped first") }
        instant = []
    }

    // MARK: Cancel

    /// Moves in flight that must be cancelled: the stop, a destination that left the cluster, a move past its
    /// second deadline. A move whose cancellation would leave its partition below min ISR is left to finish.
    mutating func cancelWhereNeeded(_ view: View, now: Double) {
        for m in active where status[m] == .inFlight && view.reassignment[m] != nil {
            let move = moves[m]
            var reason: String?
            if phase == .stopping {
                reason = "stopped by request"
            } else if let dead = addedBrokers[m].first(where: {
                (missingFor($0, now: now) ?? 0) >= options.timeouts.deadBrokerSeconds
            }) {
                reason =
                    "destination broker \(dead) left the cluster (missing from metadata for "
                    + "\(Int(missingFor(dead, now: now)!)) s)"
            } else if now >= runtime[m].cancelAt {
                reason =
                    "stuck: not done \(Int(now - runtime[m].startedAt)) s after it started "
                    + "(expected at most \(Int((runtime[m].stuckAt - runtime[m].startedAt) / options.timeouts.stuckFactor)) s)"
            } else if now >= runtime[m].stuckAt && !runtime[m].reportedStuck {
                runtime[m].reportedStuck = true
                tick.events.append(.moveStuck(move.topicPartition, seconds: now - runtime[m].startedAt))
            }
            guard let reason, !runtime[m].leftToFinish else { continue }
            if let (info, minIsr) = view.partition(m) {
                let kept = info.isr.filter { move.oldReplicas.contains($0) }
                if kept.count < minIsr && kept.count < info.isr.count {
                    runtime[m].leftToFinish = true
                    tick.events.append(
                        .warning(
                            "\(move.topicPartition) is not cancelled (\(reason)): reverting it would leave "
                                + "\(kept.count) of its in-sync replicas \(info.isr), below min.insync.replicas "
                                + "\(minIsr); it is left to finish"))
                    continue
                }
            }
            runtime[m].cancelReason = reason
            tick.cancels.append(m)
        }
    }

    // MARK: Batch

    enum Eligibility {
        case ok
        case wait
        case skip(String)
        case alreadyInPlace
    }

    /// Whether a pending move may start now: its partition must be as planned and the move safe; a destination
    /// missing from metadata is waited for (`deadBrokerSeconds`) before the move is refused.
    func eligibility(_ m: Int, _ view: View, now: Double) -> Eligibility {
        // Runs for every queued move a poll looks at: the common case (partition as planned, no reassignment on it,
        // safe, destinations alive) is decided from numbers read in place; anything else takes the full check.
        let at = view.location(m)
        if let at, view.reassignment.isEmpty || view.reassignment[m] == nil,
            newReplicas.count(m) >= view.snapshot.topics[at.topic].minInSyncReplicas,
            view.hasReplicas(at, oldReplicas[m]), addedNumbers[m].allSatisfy({ view.aliveByNumber[Int($0)] })
        {
            return .ok
        }
        let replicas = at.map { view.snapshot.topics[$0].partitions[$1].replicas }
        let minIsr = at.map { view.snapshot.topics[$0.topic].minInSyncReplicas } ?? 1
        if let r = Self.refusal(moves[m], replicas: replicas, minIsr: minIsr, reassignment: view.reassignment[m]) {
            return r
        }
        for b in addedBrokers[m] where !view.alive.contains(b) {
            if (missingFor(b, now: now) ?? 0) >= options.timeouts.deadBrokerSeconds {
                return .skip("stale: destination broker \(b) is not in the cluster")
            }
            return .wait
        }
        return .ok
    }

    /// Why `move` cannot start on its partition as it is now (`partition` nil: it no longer exists); nil when it
    /// can, destinations aside.
    static func refusal(
        _ move: PlannedMove, replicas: [Int32]?, minIsr: Int, reassignment r: PartitionReassignment?
    ) -> Eligibility? {
        guard let replicas else { return .skip("the partition no longer exists") }
        if let r {
            return .skip(
                "a reassignment Ballast did not start is in progress on it (to \(r.targetReplicas)); "
                    + "it is left alone")
        }
        if move.needsReassignment && replicas == move.newReplicas { return .alreadyInPlace }
        if replicas != move.oldReplicas {
            return .skip(
                "stale: its replicas are \(replicas), the proposal was made for \(move.oldReplicas); re-plan it")
        }
        if move.newReplicas.count < minIsr {
            return .skip(
                "unsafe: it would leave \(move.newReplicas.count) replica(s), fewer than min.insync.replicas \(minIsr)")
        }
        return nil
    }

    /// The moves that would be refused if the execution started now, each with its reason (a dry run's check).
    public static func preflight(
        _ moves: [PlannedMove], snapshot: ClusterSnapshot, reassignments: [PartitionReassignment]
    ) -> [RebalanceReport.MoveProblem] {
        var partitions: [TopicPartition: (PartitionInfo, Int)] = [:]
        for t in snapshot.topics {
            for p in t.partitions { partitions[p.topicPartition] = (p, t.minInSyncReplicas) }
        }
        let inFlight = Dictionary(reassignments.map { ($0.topicPartition, $0) }, uniquingKeysWith: { a, _ in a })
        let alive = Set(snapshot.brokers.map(\.id))
        var out: [RebalanceReport.MoveProblem] = []
        for move in moves {
            let p = partitions[move.topicPartition]
            switch refusal(
                move, replicas: p?.0.replicas, minIsr: p?.1 ?? 1, reassignment: inFlight[move.topicPartition])
            {
            case .skip(let reason):
                out.append(.init(topicPartition: move.topicPartition, reason: reason))
            default:
                if let dead = move.added.first(where: { !alive.contains($0) }) {
                    out.append(
                        .init(
                            topicPartition: move.topicPartition,
                            reason: "stale: destination broker \(dead) is not in the cluster"))
                }
            }
        }
        return out
    }

    /// The next moves to start: moves that copy no data first, then per broker, busiest first, while the
    /// broker's and the cluster's bounds allow.
    mutating func selectBatch(_ view: View, _ sizes: [TopicPartition: Int64]?, now: Double) {
        var free = options.maxMoves - inFlightCount
        var batch: [Int] = []

        var waiting: [Int] = []
        for m in instant where status[m] == .pending {
            guard free > 0 else {
                waiting.append(m)
                continue
            }
            switch eligibility(m, view, now: now) {
            case .skip(let reason): finishMove(m, .skipped, reason)
            case .alreadyInPlace: finishMove(m, .reassigned, "already in place")
            case .wait: waiting.append(m)
            case .ok:
                if moves[m].needsReassignment {
                    start(m, leader: -1, into: &batch)
                    free -= 1
                } else {
                    finishMove(m, .reassigned)
                }
            }
        }
        instant = waiting

        let cap = options.movesPerBroker
        // Broker numbers, in the order of the ids.
        var keyed: [(load: Int64, broker: Int)] = []
        for n in schedule.queued where slotsByNumber[n] < cap { keyed.append((load[n], n)) }
        keyed.sort { $0.load != $1.load ? $0.load > $1.load : $0.broker < $1.broker }
        let brokers = keyed.map(\.broker)
        // Round robin, busiest broker first: each broker starts at most one move per round. A broker's throttle is
        // shared by its moves, so more of them do not make it faster; given all the slots of the destinations they
        // share, the busiest source's moves left the other sources idle until its moves were done (the simulator's
        // add-brokers run took 1.6× its physical limit).
        var cursors: [QueueCursor] = []
        cursors.reserveCapacity(brokers.count)
        for n in brokers {
            var head = schedule.heads[n]
            while head < schedule.queues[n].count && !(status[schedule.queues[n][head]] == .pending) { head += 1 }
            schedule.heads[n] = head
            cursors.append(QueueCursor(broker: n, next: head))
        }
        while free > 0 && !cursors.isEmpty {
            var again: [QueueCursor] = []
            for var c in cursors {
                guard free > 0 else { break }
                if startNext(from: &c, view, sizes, now: now, free: &free, into: &batch) { again.append(c) }
            }
            cursors = again
        }
        tick.batch = batch
    }

    /// Where a poll's scan of one broker's queue (`schedule.queues[broker]`) is. (Numbers only: a cursor holding the
    /// queue's arrays retained and released them at every copy, for every broker at every round.)
    struct QueueCursor {
        /// The broker's number.
        let broker: Int
        var next: Int
        var scanned = 0
    }

    /// Starts the next move of `c`'s queue that may start (looking at no more than `4 × cap + 16` pending moves per
    /// poll); refuses the stale and unsafe moves it looks at on the way. Whether one started.
    mutating func startNext(
        from c: inout QueueCursor, _ view: View, _ sizes: [TopicPartition: Int64]?, now: Double, free: inout Int,
        into batch: inout [Int]
    ) -> Bool {
        let cap = options.movesPerBroker
        // No destination of the queue's moves has a free slot (none at all, or none of this queue's): the scan would
        // pass over every move it looks at, with no effect (a move is looked at for more only once its destinations
        // have a slot). On the sources of a big execution this is most of the queues at most rounds.
        guard freeDestinations > 0, schedule.destinations[c.broker].contains(where: { slotsByNumber[Int($0)] < cap })
        else { return false }
        while c.next < schedule.queues[c.broker].count && slotsByNumber[c.broker] < cap && free > 0
            && c.scanned < 4 * cap + 16
        {
            let m = schedule.queues[c.broker][c.next]
            let destination = schedule.queuedDestination[c.broker][c.next]
            c.next += 1
            guard status[m] == .pending else { continue }
            c.scanned += 1
            // Destinations' slots first: integer reads, where the eligibility check reads the move's partition in
            // the snapshot (cache misses). Most moves looked at wait for a full destination; a stale one among
            // them is reported when a slot frees, still never started.
            if destination >= 0 {
                guard slotsByNumber[Int(destination)] < cap else { continue }
            } else {
                guard addedNumbers[m].allSatisfy({ slotsByNumber[Int($0)] < cap }) else { continue }
            }
            switch eligibility(m, view, now: now) {
            case .skip(let reason):
                finishMove(m, .skipped, reason)
                continue
            case .alreadyInPlace:
                finishMove(m, .reassigned, "already in place")
                continue
            case .wait:
                continue
            case .ok:
                break
            }
            let leader = view.leader(m) ?? moves[m].oldLeader
            guard leader < 0 || slotCount(leader) < cap else { continue }
            if let size = sizes?[moves[m].topicPartition], size != bytes[m] {
                removeLoad(m)
                bytes[m] = size
                addLoad(m)
            }
            start(m, leader: leader, into: &batch)
            free -= 1
            return true
        }
        return false
    }

    mutating func start(_ m: Int, leader: Int32, into batch: inout [Int]) {
        status[m] = .requested
        pendingCount -= 1
        active.insert(m)
        if copiesData(m) { takeSlots(m, leader: leader) }
        batch.append(m)
    }

    // MARK: Elections

    /// Reassigned moves whose proposed leader does not lead yet, in requests of `leaderMoves` partitions.
    mutating func planElections(_ view: View, now: Double) {
        var wanted: [TopicPartition] = []
        for m in active where status[m] == .reassigned {
            // The leader read in place: most reassigned moves already have the proposed one.
            guard let at = view.location(m), view.leader(at: at) != facts[m].newLeader else { continue }
            // Only an in-sync proposed leader can be elected; the others wait (within electSeconds).
            guard view.snapshot.topics[at.topic].partitions[at.partition].isr.contains(moves[m].newLeader) else {
                if runtime[m].electSince == nil { runtime[m].electSince = now }
                runtime[m].electError = "the proposed leader is not in sync"
                continue
            }
            wanted.append(moves[m].topicPartition)
        }
        var i = 0
        while i < wanted.count {
            tick.elections.append(Array(wanted[i..<min(i + options.leaderMoves, wanted.count)]))
            i += options.leaderMoves
        }
    }
}
