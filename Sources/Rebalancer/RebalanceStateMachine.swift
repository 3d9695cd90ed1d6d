public import KafkaModel

/// The execution of a placement proposal as a state machine: it is fed what the runner read (the snapshot, Kafka's
/// reassignments in flight, the throttle configs read back, replica sizes) and the results of what it asked for,
/// and returns what to do next. No I/O, no clock of its own: `now` is monotonic seconds from the caller.
///
/// Each poll: read → reconcile every move with Kafka (adopt, complete, revert) → cancel moves that are stuck or
/// whose destination left → choose the next batch (per-broker and cluster-wide bounds, stale and unsafe moves
/// refused, nothing new while a partition outside the moves is offline or under min ISR) → set throttles for
/// the moves in flight and the batch (prior values journaled first), remove those no move needs any more →
/// start the batch → elect proposed leaders → wait. Every step it returns carries what to journal before it.
public struct RebalanceStateMachine: Sendable {
    public enum Action: Sendable, Hashable {
        /// Read the cluster as asked, then call `observed`.
        case read(ReadRequest)
        /// IncrementalAlterConfigs, then call `throttlesAltered`.
        case alterThrottles([ThrottleChange])
        /// AlterPartitionReassignments with each move's `newReplicas`, then call `movesStarted`.
        case startMoves([Int])
        /// AlterPartitionReassignments without a target (Kafka reverts them), then call `movesCancelled`.
        case cancelMoves([Int])
        /// ElectLeaders PREFERRED, then call `leadersElected`.
        case electLeaders([TopicPartition])
        /// Sleep, then call `waited`.
        case wait(seconds: Double)
        case finished(RebalanceReport)
    }

    public struct ReadRequest: Sendable, Hashable {
        /// Resources whose throttle configs to read back (the keys of `ThrottleConfig` for their kind).
        public var configs: [ConfigResource]
        /// Read replica sizes (DescribeLogDirs): asked for before moves may start.
        public var logDirs: Bool

        public init(configs: [ConfigResource], logDirs: Bool) {
            self.configs = configs
            self.logDirs = logDirs
        }
    }

    public struct Observation: Sendable {
        public var snapshot: ClusterSnapshot
        /// ListPartitionReassignments: every reassignment in flight, Ballast's or not.
        public var reassignments: [PartitionReassignment]
        /// The throttle configs of each resource read, in the order of the request's `configs` (a resource that
        /// could not be read is left out).
        public var throttles: [ThrottleRead]
        /// The size of each partition (its largest replica), when asked for.
        public var replicaSizes: [TopicPartition: Int64]?

        public init(
            snapshot: ClusterSnapshot, reassignments: [PartitionReassignment], throttles: [ThrottleRead] = [],
            replicaSizes: [TopicPartition: Int64]? = nil
        ) {
            self.snapshot = snapshot
            self.reassignments = reassignments
            self.throttles = throttles
            self.replicaSizes = replicaSizes
        }
    }

    /// A move's new status, to journal.
    public struct JournalEntry: Sendable, Hashable {
        public var index: Int
        public var status: MoveStatus
        public var detail: String

        public init(index: Int, status: MoveStatus, detail: String = "") {
            self.index = index
            self.status = status
            self.detail = detail
        }
    }

    public struct Step: Sendable {
        public var action: Action
        public var events: [RebalanceEvent]
        /// Written to the journal BEFORE `action` is carried out.
        public var journal: [JournalEntry]
        /// Throttle values before the execution first changes them, written BEFORE `action`.
        public var priors: [ThrottlePrior]

        public init(
            action: Action, events: [RebalanceEvent] = [], journal: [JournalEntry] = [], priors: [ThrottlePrior] = []
        ) {
            self.action = action
            self.events = events
            self.journal = journal
            self.priors = priors
        }
    }

    enum Phase: Sendable, Hashable {
        case running
        /// No new move starts; those in flight finish; then the execution ends failed with this reason.
        case draining(String)
        /// `--stop`: moves in flight are cancelled, pending ones dropped.
        case stopping
        case finished
    }

    /// What the runner learns per move besides its status.
    ///
    /// (Declared in the order of use: what every start and end of a move reads comes first, in one cache line;
    /// the reasons, rarely set, last.)
    struct MoveRuntime: Sendable {
        /// It holds in-flight slots: on its `added` brokers, and on `slotLeader` when that is not one of them.
        var holdsSlots = false
        /// Counted in the schedule's per-broker load.
        var loaded = false
        /// Started or adopted by this run: its slots and deadlines are set.
        var tracked = false
        var reportedStuck = false
        /// Cancelling it would take its partition below min ISR: it is left to finish.
        var leftToFinish = false
        /// The leader it copies from, holding a slot besides the `added` brokers; -1 when none.
        var slotLeader: Int32 = -1
        var startedAt = 0.0
        var stuckAt = Double.infinity
        var cancelAt = Double.infinity
        var electSince: Double?
        /// Consecutive reads in which Kafka no longer lists it and its replicas are neither the old nor the new
        /// ones (or the old ones): a broker's metadata can lag the controller, so only a state that persists is
        /// taken as a change made outside Ballast.
        var unexplained = 0
        var cancelAttempts = 0
        var electError: String?
        var cancelReason = ""
    }

    public let moves: [PlannedMove]
    /// Each move's `added` brokers, computed once (read at every poll).
    let addedBrokers: FlatLists
    /// The same by broker number (`brokerNumbers`), and each move's old replicas (ids, and numbers): what a poll
    /// checks for every queued move it looks at, read from flat arrays rather than from each move's own arrays.
    let addedNumbers: FlatLists
    let oldReplicas: FlatLists
    let oldNumbers: FlatLists
    /// Each move's new replicas (ids), compared with its partition's at every poll while the move is active: read
    /// in the order of the move indices, where each move's own array is one more cache miss.
    let newReplicas: FlatLists
    /// Every broker the moves name, numbered (the order of `brokerIds`).
    let brokerNumbers: [Int32: Int]
    /// `brokerNumbers` as an array by id, for ids below 65,536 (-1: not numbered): a lookup for every move that
    /// starts or ends, without hashing.
    let numberById: [Int32]
    let brokerIds: [Int32]
    /// Each numbered broker's in-flight slots (`otherSlots`: those of brokers the moves do not name, a leader
    /// elected outside them).
    var slotsByNumber: [Int]
    var otherSlots: [Int32: Int] = [:]
    /// Whether each numbered broker is a destination of some move, and how many destinations have a free slot:
    /// when none has, no move that copies data can start and a poll looks at no queue.
    let isDestination: [Bool]
    var freeDestinations = 0
    public let options: RebalanceOptions
    public internal(set) var status: [MoveStatus]
    public internal(set) var detail: [String]
    var runtime: [MoveRuntime]
    /// Bytes per new replica, refreshed from DescribeLogDirs before a move starts.
    var bytes: [Int64]
    var phase: Phase = .running
    var stopRequested = false
    /// Why the execution stopped starting moves (it ends failed).
    var failure: String?

    // Throttles.
    /// Every throttle key read or changed: priors, values read, restore attempts (see `ThrottleTable`).
    var throttles = ThrottleTable()
    /// Each topic of the moves' resource number in `throttles`, by topic number; each numbered broker's.
    var topicResource: [Int] = []
    var brokerResource: [Int] = []
    /// Resources (numbers in `throttles`) to read back at the next read besides those of touched keys.
    var extraReads: [Int] = []
    var rereadAtOnce = false
    /// Each throttle key's value as `desiredThrottles` last wanted it, by key number (meaningful for the keys it
    /// returned).
    var desiredValues: [String?] = []
    /// The resources (numbers) of the last read asked for, in its order: the order the values come back in.
    var asked: [Int] = []
    var setFailures = 0

    // The schedule.
    var schedule: MoveSchedule
    /// Bytes still to move per broker number (unfinished moves), to serve the busiest broker first.
    var load: [Int64]
    var inFlightCount = 0
    /// topic → partition → move index.
    let moveIndex: [String: [Int32: Int]]
    /// Each topic of the moves numbered (in `topicNumbers`), and each move's topic number: a poll finds a move's
    /// partition in the snapshot by number, with no string hashed per move.
    let topicNumbers: [String: Int]
    /// What a poll reads of a move besides its broker lists, one record per move: one cache line where an array
    /// per field was one each.
    struct MoveFacts: Sendable {
        /// Its topic's number in `topicNumbers`.
        var topic: Int32
        var partition: Int32
        /// The proposed leader; -1 when none.
        var newLeader: Int32
        /// `oldLeader` by broker number; -1 when it had none.
        var oldLeader: Int32
    }
    let facts: [MoveFacts]
    /// Moves Kafka may be moving or whose leadership is still to move: reconciled at every read.
    var active: MoveSet
    /// Moves that copy no data (reorder or leadership only), still pending.
    var instant: [Int]
    var pendingCount: Int

    // Observed.
    /// The topics of the last snapshot read, in its order, and each one's number (`numberTopics`).
    var snapshotTopicNames: [String] = []
    var snapshotTopicNumbers: [Int] = []
    var missingSince: [Int32: Double] = [:]
    var gateSince: Double?
    var lastGateReason = ""

    /// This poll's remaining work, in order.
    var tick = Tick()
    struct Tick: Sendable {
        var cancels: [Int] = []
        var changes: [ThrottleChange] = []
        /// `changes`' key numbers in `throttles`.
        var changeKeys: [Int] = []
        var batch: [Int] = []
        var elections: [[TopicPartition]] = []
        var events: [RebalanceEvent] = []
        var journal: [JournalEntry] = []
        /// Sent and not yet answered.
        var changesSent: [ThrottleChange] = []
    }

    /// Moves reassigned or done, and the bytes they copied.
    var movedCount = 0
    /// Moves skipped, cancelled or dropped.
    var notDoneCount = 0
    var bytesMoved: Int64 = 0
    let bytesTotal: Int64

    /// - Parameters:
    ///   - moves: the proposal's moves (their index is their id in the journal).
    ///   - journal: each move's status and detail from a previous run of this execution (resume).
    ///   - priors: throttle values a previous run journaled before changing them.
    ///   - stopRequested: a previous run was asked to stop.
    public init(
        moves: [PlannedMove], options: RebalanceOptions, journal: [Int: (MoveStatus, String)] = [:],
        priors: [ThrottlePrior] = [], stopRequested: Bool = false
    ) {
        self.moves = moves
        addedBrokers = FlatLists(moves.lazy.map(\.added))
        oldReplicas = FlatLists(moves.lazy.map(\.oldReplicas))
        newReplicas = FlatLists(moves.lazy.map(\.newReplicas))
        var brokerSet = Set<Int32>()
        for m in moves {
            brokerSet.formUnion(m.oldReplicas)
            brokerSet.formUnion(m.newReplicas)
            if m.oldLeader >= 0 { brokerSet.insert(m.oldLeader) }
        }
        brokerIds = brokerSet.sorted()
        let brokerNumbers = Dictionary(uniqueKeysWithValues: brokerIds.enumerated().map { ($1, $0) })
        self.brokerNumbers = brokerNumbers
        var numberById = [Int32](repeating: -1, count: min(65_536, Int(max(-1, brokerIds.last ?? -1)) + 1))
        for (n, id) in brokerIds.enumerated() where id >= 0 && Int(id) < numberById.count {
            numberById[Int(id)] = Int32(n)
        }
        self.numberById = numberById
        addedNumbers = FlatLists(moves.lazy.map { $0.added.map { Int32(brokerNumbers[$0]!) } })
        oldNumbers = FlatLists(moves.lazy.map { $0.oldReplicas.map { Int32(brokerNumbers[$0]!) } })
        slotsByNumber = Array(repeating: 0, count: brokerIds.count)
        load = Array(repeating: 0, count: brokerIds.count)
        var isDestination = [Bool](repeating: false, count: brokerIds.count)
        for m in moves { for b in m.added { isDestination[brokerNumbers[b]!] = true } }
        self.isDestination = isDestination
        freeDestinations = options.movesPerBroker > 0 ? isDestination.filter { $0 }.count : 0
        self.options = options
        let initial = moves.indices.map { journal[$0]?.0 ?? MoveStatus.pending }
        status = initial
        detail = moves.indices.map { journal[$0]?.1 ?? "" }
        runtime = Array(repeating: MoveRuntime(), count: moves.count)
        bytes = moves.map(\.bytes)
        schedule = MoveSchedule(moves: moves, brokerNumbers: brokerNumbers)
        var index: [String: [Int32: Int]] = [:]
        for (i, m) in moves.enumerated() { index[m.topicPartition.topic, default: [:]][m.topicPartition.partition] = i }
        moveIndex = index
        var numbers: [String: Int] = [:]
        facts = moves.map { m in
            let topic = numbers[m.topicPartition.topic] ?? numbers.count
            numbers[m.topicPartition.topic] = topic
            return MoveFacts(
                topic: Int32(topic), partition: m.topicPartition.partition, newLeader: m.newLeader,
                oldLeader: m.oldLeader >= 0 ? Int32(brokerNumbers[m.oldLeader]!) : -1)
        }
        topicNumbers = numbers
        instant = moves.indices.filter { !moves[$0].copiesData && initial[$0] == .pending }
        pendingCount = initial.filter { $0 == .pending }.count
        active = MoveSet(capacity: moves.count)
        bytesTotal = moves.reduce(0) { $0 + $1.bytesToCopy }
        // Every resource a poll may throttle, numbered once: the moves' topics and brokers, and the priors' keys.
        var table = ThrottleTable()
        let topicsInOrder = numbers.sorted { $0.value < $1.value }.map(\.key)
        topicResource = topicsInOrder.map { table.addResource(.topic($0)) }
        brokerResource = brokerIds.map { table.addResource(.broker($0)) }
        table.rank()
        for p in priors {
            let k = table.keyNumber(p.key)
            table.prior[k] = p.value
            table.touched[k] = true
        }
        throttles = table
        self.stopRequested = stopRequested
        for i in moves.indices {
            switch status[i] {
            case .pending, .requested, .inFlight: addLoad(i)
            default: break
            }
            if status[i].isInFlight || status[i] == .reassigned { active.insert(i) }
            if status[i] == .reassigned || status[i] == .done {
                movedCount += 1
                bytesMoved += moves[i].bytesToCopy
            }
            if status[i] == .skipped || status[i] == .cancelled || status[i] == .dropped { notDoneCount += 1 }
        }
    }

    public var isFinished: Bool { phase == .finished }

    /// The first step: read the cluster (with the throttles a previous run changed).
    public mutating func start(now: Double) -> Step {
        Step(action: .read(readRequest()))
    }

    // MARK: Inputs

    /// `ballast rebalance --stop`: no further move starts; the moves in flight are cancelled at the next read.
    public mutating func requestStop() {
        stopRequested = true
    }

    public mutating func waited(now: Double) -> Step {
        Step(action: .read(readRequest()))
    }

    /// The batch's AlterPartitionReassignments was answered. `refused`: Kafka rejected these moves (its error);
    /// `unknown`: no answer (the request failed as a whole), so whether they started is read back next.
    public mutating func movesStarted(refused: [Int: String], unknown: Set<Int>, now: Double) -> Step {
        let batch = tick.batch
        tick.batch = []
        var started: [TopicPartition] = []
        for m in batch {
            if !refused.isEmpty, let reason = refused[m] {
                finishMove(m, .skipped, "Kafka refused the reassignment: \(reason)")
            } else if !unknown.isEmpty && unknown.contains(m) {
                // Stays `requested`: the next read adopts it if Kafka has it, else it starts again.
                continue
            } else {
                status[m] = .inFlight
                tick.journal.append(JournalEntry(index: m, status: .inFlight))
                setDeadlines(m, now: now)
                runtime[m].tracked = true
                started.append(moves[m].topicPartition)
            }
        }
        if !started.isEmpty { tick.events.append(.movesStarted(started)) }
        return nextInTick(now: now)
    }

    /// The cancellation was answered; `failures` by move (Kafka's error or the request's).
    public mutating func movesCancelled(failures: [Int: String], now: Double) -> Step {
        for (m, error) in failures.sorted(by: { $0.key < $1.key }) {
            runtime[m].cancelAttempts += 1
            runtime[m].cancelReason = "its cancellation failed \(runtime[m].cancelAttempts) time(s): \(error)"
        }
        return nextInTick(now: now)
    }

    /// IncrementalAlterConfigs was answered; `failures` by resource.
    public mutating func throttlesAltered(failures: [ConfigResource: String], now: Double) -> Step {
        if failures.isEmpty {
            setFailures = 0
        } else {
            // (A failed restore already counted as an attempt when it was sent.)
            for change in tick.changesSent where failures[change.key.resource] != nil {
                throttles.restoreError[throttles.keyNumber(change.key)] = failures[change.key.resource]
            }
            // No move starts unthrottled: the batch waits for the next poll.
            if !tick.batch.isEmpty {
                for m in tick.batch { backToPending(m) }
                tick.batch = []
                setFailures += 1
                let (resource, error) = failures.sorted { $0.key.name < $1.key.name }[0]
                if setFailures >= options.timeouts.cleanupAttempts, case .running = phase {
                    drain("the throttle of \(resource.displayName) could not be set \(setFailures) times: \(error)")
                    tick.events.append(.stopping(reason: "throttles cannot be set; moves in flight finish"))
                } else {
                    tick.events.append(
                        .warning("the throttle of \(resource.displayName) could not be set: \(error); no move starts"))
                }
            }
        }
        tick.changesSent = []
        return nextInTick(now: now)
    }

    /// ElectLeaders was answered; `failures` by partition (ELECTION_NOT_NEEDED is not a failure).
    public mutating func leadersElected(_ partitions: [TopicPartition], failures: [TopicPartition: String], now: Double)
        -> Step
    {
        for tp in partitions {
            guard let m = index(of: tp) else { continue }
            if runtime[m].electSince == nil { runtime[m].electSince = now }
            runtime[m].electError = failures[tp]
        }
        let ok = partitions.count - failures.count
        if ok > 0 { tick.events.append(.leadersElected(count: ok)) }
        return nextInTick(now: now)
    }

    // MARK: The poll

    func index(of tp: TopicPartition) -> Int? { moveIndex[tp.topic]?[tp.partition] }

    /// What the next read must include: the throttles the execution changed or is about to change; replica sizes
    /// while moves may start.
    mutating func readRequest() -> ReadRequest {
        // Resource numbers marked once each, then sorted by their rank (no string compared or hashed).
        let t = throttles
        var marked = [Bool](repeating: false, count: t.resources.count)
        var wanted: [Int] = []
        for r in extraReads where !marked[r] {
            marked[r] = true
            wanted.append(r)
        }
        for k in t.keys.indices where t.touched[k] && !marked[t.keyResource[k]] {
            marked[t.keyResource[k]] = true
            wanted.append(t.keyResource[k])
        }
        wanted.sort { t.resourceRank[$0] < t.resourceRank[$1] }
        asked = wanted
        let mayStart = phase == .running && !stopRequested && pendingCount > 0
        return ReadRequest(configs: wanted.map { t.resources[$0] }, logDirs: mayStart)
    }

    /// The next action of this poll, once the previous one is done; a wait (or the end) when none is left.
    mutating func nextInTick(now: Double) -> Step {
        var step = Step(action: .wait(seconds: options.timeouts.pollSeconds))
        if !tick.cancels.isEmpty {
            let c = tick.cancels
            tick.cancels = []
            for m in c where status[m] != .cancelling {
                status[m] = .cancelling
                tick.journal.append(JournalEntry(index: m, status: .cancelling, detail: runtime[m].cancelReason))
            }
            step.action = .cancelMoves(c)
            tick.events.append(.cancelRequested(c.map { moves[$0].topicPartition }))
        } else if !tick.changes.isEmpty {
            let changes = tick.changes
            let keys = tick.changeKeys
            tick.changes = []
            tick.changeKeys = []
            tick.changesSent = changes
            step.priors = recordPriors(for: keys)
            step.action = .alterThrottles(changes)
            // The brokers and topics given a value, each once (by resource number, in name order: no string hashed).
            var seen = [Bool](repeating: false, count: throttles.resources.count)
            var brokers: [Int32] = []
            var topics: [Int] = []
            for (k, change) in zip(keys, changes) where change.value != nil && !seen[throttles.keyResource[k]] {
                let r = throttles.keyResource[k]
                seen[r] = true
                switch throttles.resources[r].kind {
                case .broker: if let id = Int32(throttles.resources[r].name) { brokers.append(id) }
                case .topic: topics.append(r)
                case .brokerLogger: break
                }
            }
            if !brokers.isEmpty || !topics.isEmpty {
                topics.sort { throttles.nameRank[$0] < throttles.nameRank[$1] }
                tick.events.append(
                    .throttlesSet(
                        brokers: brokers.sorted(), topics: topics.map { throttles.resources[$0].name }))
            }
        } else if !tick.batch.isEmpty {
            for m in tick.batch { tick.journal.append(JournalEntry(index: m, status: .requested)) }
            step.action = .startMoves(tick.batch)
        } else if !tick.elections.isEmpty {
            step.action = .electLeaders(tick.elections.removeFirst())
        } else if phase == .finished {
            step.action = .finished(report())
            tick.events.append(.finished(report()))
        } else if !extraReads.isEmpty && !rereadAtOnce {
            // A batch waits for the current values of its throttles: read them now rather than a poll later (once;
            // a resource that cannot be read is tried again at the next poll).
            rereadAtOnce = true
            step.action = .read(readRequest())
        }
        if case .wait = step.action { rereadAtOnce = false }
        step.events = tick.events
        step.journal = tick.journal
        tick.events = []
        tick.journal = []
        return step
    }

    /// Priors for keys (numbers) about to change for the first time (or again after being restored), read back
    /// from this poll's observation.
    mutating func recordPriors(for keys: [Int]) -> [ThrottlePrior] {
        var out: [ThrottlePrior] = []
        for k in keys {
            guard !throttles.touched[k] else { continue }
            let before = throttles.lastRead[k]
            throttles.prior[k] = before
            throttles.touched[k] = true
            out.append(ThrottlePrior(key: throttles.keys[k], value: before))
        }
        return out
    }

    // MARK: Bookkeeping

    /// No further move starts; those in flight finish; then the execution ends failed for `reason`.
    mutating func drain(_ reason: String) {
        failure = reason
        phase = .draining(reason)
    }

    /// Whether move `m` copies data (`PlannedMove.copiesData`, without building its `added` list).
    func copiesData(_ m: Int) -> Bool { !addedBrokers[m].isEmpty }

    /// `PlannedMove.bytesToCopy` of move `m`, without building its `added` list.
    func bytesToCopy(_ m: Int) -> Int64 { moves[m].bytes * Int64(addedBrokers[m].count) }

    mutating func addLoad(_ m: Int) {
        guard !runtime[m].loaded, copiesData(m) else { return }
        runtime[m].loaded = true
        for n in addedNumbers[m] { load[Int(n)] += bytes[m] }
        let leader = Int(facts[m].oldLeader)
        if leader >= 0 { load[leader] += bytes[m] * Int64(addedBrokers[m].count) }
    }

    mutating func removeLoad(_ m: Int) {
        guard runtime[m].loaded else { return }
        runtime[m].loaded = false
        for n in addedNumbers[m] { load[Int(n)] -= bytes[m] }
        let leader = Int(facts[m].oldLeader)
        if leader >= 0 { load[leader] -= bytes[m] * Int64(addedBrokers[m].count) }
    }

    /// Broker `b`'s number, if the moves name it.
    func number(of b: Int32) -> Int? {
        guard b >= 0 && Int(b) < numberById.count else { return brokerNumbers[b] }
        let n = numberById[Int(b)]
        return n >= 0 ? Int(n) : nil
    }

    /// The in-flight slots held on broker `b`.
    func slotCount(_ b: Int32) -> Int {
        if let n = number(of: b) { return slotsByNumber[n] }
        return otherSlots[b] ?? 0
    }

    /// One more (`by` 1) or one fewer (-1) slot held on broker number `n`, keeping `freeDestinations`.
    mutating func addSlot(number n: Int, by delta: Int) {
        let cap = options.movesPerBroker
        let wasFree = slotsByNumber[n] < cap
        slotsByNumber[n] += delta
        if isDestination[n] && wasFree != (slotsByNumber[n] < cap) { freeDestinations += wasFree ? -1 : 1 }
    }

    mutating func addSlot(_ b: Int32, by delta: Int) {
        if let n = number(of: b) {
            addSlot(number: n, by: delta)
        } else {
            otherSlots[b, default: 0] += delta
        }
    }

    mutating func takeSlots(_ m: Int, leader: Int32) {
        guard !runtime[m].holdsSlots else { return }
        runtime[m].holdsSlots = true
        for n in addedNumbers[m] { addSlot(number: Int(n), by: 1) }
        if leader >= 0 && !addedBrokers[m].contains(leader) {
            runtime[m].slotLeader = leader
            addSlot(leader, by: 1)
        }
        inFlightCount += 1
    }

    mutating func releaseSlots(_ m: Int) {
        guard runtime[m].holdsSlots else { return }
        for n in addedNumbers[m] { addSlot(number: Int(n), by: -1) }
        if runtime[m].slotLeader >= 0 { addSlot(runtime[m].slotLeader, by: -1) }
        runtime[m].holdsSlots = false
        runtime[m].slotLeader = -1
        inFlightCount -= 1
    }

    /// A move reaches a final status (or `reassigned`): its slots and load go, the journal hears of it.
    mutating func finishMove(_ m: Int, _ new: MoveStatus, _ why: String = "") {
        if status[m] == .pending { pendingCount -= 1 }
        let wasMoved = status[m] == .reassigned || status[m] == .done
        if !wasMoved && (new == .reassigned || new == .done) {
            movedCount += 1
            bytesMoved += bytesToCopy(m)
        }
        if new == .skipped || new == .cancelled || new == .dropped { notDoneCount += 1 }
        status[m] = new
        detail[m] = why
        releaseSlots(m)
        removeLoad(m)
        if new == .reassigned { active.insert(m) } else if new.isTerminal { active.remove(m) }
        tick.journal.append(JournalEntry(index: m, status: new, detail: why))
        let tp = moves[m].topicPartition
        switch new {
        case .skipped: tick.events.append(.moveSkipped(tp, reason: why))
        case .cancelled: tick.events.append(.moveCancelled(tp, reason: why))
        case .reassigned: tick.events.append(.moveReassigned(tp))
        case .done: tick.events.append(.moveDone(tp))
        default: break
        }
    }

    /// A move whose start did not happen goes back to waiting, where a batch looks for it again: its brokers' queues
    /// (or the moves that copy no data).
    mutating func backToPending(_ m: Int) {
        releaseSlots(m)
        active.remove(m)
        if status[m] != .pending {
            status[m] = .pending
            pendingCount += 1
            tick.journal.append(JournalEntry(index: m, status: .pending))
        }
        schedule.requeue(m)
        if !copiesData(m) && !instant.contains(m) { instant.append(m) }
    }

    /// The expected time of a move that starts now, from its bytes and its share of the busiest broker's throttle;
    /// stuck after `stuckFactor` × that (at least the floor), cancelled after twice that.
    mutating func setDeadlines(_ m: Int, now: Double) {
        let t = options.timeouts
        let rate = options.throttleBytesPerSecond.map(Double.init) ?? t.unthrottledBytesPerSecond
        // The most moves on one of its brokers (itself included), 1 when it holds no slot.
        var most = 1
        if runtime[m].holdsSlots {
            most = 0
            for n in addedNumbers[m] { most = max(most, slotsByNumber[Int(n)]) }
            if runtime[m].slotLeader >= 0 { most = max(most, slotCount(runtime[m].slotLeader)) }
        }
        let share = Double(most)
        let copies = Double(max(1, addedBrokers[m].count))
        let expected = Double(bytes[m]) * copies * share / rate
        let stuck = max(t.stuckFloorSeconds, t.stuckFactor * expected)
        runtime[m].startedAt = now
        runtime[m].stuckAt = now + stuck
        runtime[m].cancelAt = now + 2 * stuck
        runtime[m].reportedStuck = false
    }
}
