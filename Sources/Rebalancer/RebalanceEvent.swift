public import KafkaModel

/// What a rebalance reports as it goes: the terminal view, `--json` lines and logs are all made from these.
public enum RebalanceEvent: Sendable, Hashable {
    case started(operationId: String, moves: Int, hash: String, resumed: Bool)
    case warning(String)
    /// No new move starts: `reason` names the partition or rule that holds them.
    case waiting(reason: String)
    /// Throttle configs were set (rates on these brokers, replica lists on these topics).
    case throttlesSet(brokers: [Int32], topics: [String])
    /// Throttle configs went back to what they were before the execution.
    case throttlesRestored([ThrottleKey])
    case movesStarted([TopicPartition])
    /// A reassignment a previous run started was found in flight and is followed, not started again.
    case moveAdopted(TopicPartition)
    /// The replicas are in place and in sync; leadership may still have to move.
    case moveReassigned(TopicPartition)
    case moveDone(TopicPartition)
    /// Not started: the partition changed since the proposal, or the move would be unsafe.
    case moveSkipped(TopicPartition, reason: String)
    /// Past its expected time; it is cancelled if it is still running after as long again.
    case moveStuck(TopicPartition, seconds: Double)
    case cancelRequested([TopicPartition])
    /// Reverted by Kafka (its replicas are the old ones again).
    case moveCancelled(TopicPartition, reason: String)
    case leadersElected(count: Int)
    case progress(RebalanceProgress)
    /// No further move starts; those in flight are cancelled (stop) or finish (drain).
    case stopping(reason: String)
    case finished(RebalanceReport)
}

/// Where the execution stands.
public struct RebalanceProgress: Sendable, Hashable, Codable {
    public var done: Int
    public var inFlight: Int
    public var pending: Int
    public var notDone: Int
    public var bytesDone: Int64
    public var bytesTotal: Int64

    public init(done: Int, inFlight: Int, pending: Int, notDone: Int, bytesDone: Int64, bytesTotal: Int64) {
        self.done = done
        self.inFlight = inFlight
        self.pending = pending
        self.notDone = notDone
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
    }
}

/// How an execution ended, and everything it did not do, each with a reason.
public struct RebalanceReport: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// Every move done, every leader as proposed, every throttle restored.
        case completed
        /// It ran to the end, but something listed below was not done.
        case incomplete
        /// `--stop`: moves in flight were cancelled, pending ones dropped.
        case stopped
        /// It stopped starting moves for the reason in `failure`; those in flight finished or were cancelled.
        case failed
    }

    public struct MoveProblem: Sendable, Hashable, Codable {
        public var topicPartition: TopicPartition
        public var reason: String

        public init(topicPartition: TopicPartition, reason: String) {
            self.topicPartition = topicPartition
            self.reason = reason
        }
    }

    public struct ThrottleProblem: Sendable, Hashable, Codable {
        public var key: ThrottleKey
        public var reason: String

        public init(key: ThrottleKey, reason: String) {
            self.key = key
            self.reason = reason
        }
    }

    public var outcome: Outcome
    public var failure: String?
    public var done: Int
    public var skipped: [MoveProblem]
    public var cancelled: [MoveProblem]
    /// Moves never started because the execution was stopped or failed.
    public var dropped: Int
    /// Reassignments of Ballast's that are still in Kafka at the end (their cancellation was unsafe or failed).
    public var leftInFlight: [MoveProblem]
    public var leadersNotMoved: [MoveProblem]
    public var throttlesNotRestored: [ThrottleProblem]

    public init(
        outcome: Outcome, failure: String? = nil, done: Int = 0, skipped: [MoveProblem] = [],
        cancelled: [MoveProblem] = [], dropped: Int = 0, leftInFlight: [MoveProblem] = [],
        leadersNotMoved: [MoveProblem] = [], throttlesNotRestored: [ThrottleProblem] = []
    ) {
        self.outcome = outcome
        self.failure = failure
        self.done = done
        self.skipped = skipped
        self.cancelled = cancelled
        self.dropped = dropped
        self.leftInFlight = leftInFlight
        self.leadersNotMoved = leadersNotMoved
        self.throttlesNotRestored = throttlesNotRestored
    }

    /// Everything proposed was carried out and nothing was left behind.
    public var isClean: Bool {
        outcome == .completed && skipped.isEmpty && cancelled.isEmpty && dropped == 0 && leftInFlight.isEmpty
            && leadersNotMoved.isEmpty && throttlesNotRestored.isEmpty
    }

    /// One sentence for stderr when the execution did not end clean: what was not done, naming the first few.
    public var summary: String {
        var parts: [String] = []
        if let failure { parts.append(failure) }
        if outcome == .stopped { parts.append("stopped by request") }
        func names(_ list: [MoveProblem]) -> String {
            let shown = list.prefix(5).map { "\($0.topicPartition) (\($0.reason))" }.joined(separator: "; ")
            return list.count > 5 ? shown + "; and \(list.count - 5) more" : shown
        }
        if !skipped.isEmpty { parts.append("\(skipped.count) move(s) not started: \(names(skipped))") }
        if !cancelled.isEmpty { parts.append("\(cancelled.count) move(s) cancelled: \(names(cancelled))") }
        if dropped > 0 { parts.append("\(dropped) move(s) never started") }
        if !leftInFlight.isEmpty {
            parts.append("\(leftInFlight.count) reassignment(s) still in flight in Kafka: \(names(leftInFlight))")
        }
        if !leadersNotMoved.isEmpty {
            parts.append("\(leadersNotMoved.count) leader(s) not as proposed: \(names(leadersNotMoved))")
        }
        if !throttlesNotRestored.isEmpty {
            let shown = throttlesNotRestored.prefix(5).map { "\($0.key) (\($0.reason))" }.joined(separator: "; ")
            parts.append("\(throttlesNotRestored.count) throttle config(s) not restored: \(shown)")
        }
        return "\(done) move(s) done; " + (parts.isEmpty ? "nothing left undone" : parts.joined(separator: "; "))
    }
}
