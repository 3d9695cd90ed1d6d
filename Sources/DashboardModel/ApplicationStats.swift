import Synchronization

/// What the built-in applications report: the producer's sends, acknowledgements and failures, the consumer's
/// receipts, per key and sequence number so that a lost message (acknowledged, never consumed) is found. Shared by
/// the producer's and the consumer's threads behind one lock; `sample(nowMs:)` turns the counters into the
/// chart's rate points. Time is passed in.
public final class ApplicationStats: Sendable {
    struct State {
        var sent = 0
        var acknowledged = 0
        var failed = 0
        var consumed = 0
        var duplicates = 0
        var consumeErrors = 0
        var rebalances = 0
        var errors: [String: Int] = [:]
        /// Per key: acknowledged sequence numbers not yet consumed.
        var unconfirmed: [String: Set<Int>] = [:]
        var unconfirmedCount = 0
        /// Per key: sequence numbers consumed (to count duplicates and to confirm acknowledgements that arrive
        /// after the message was already read).
        var seen: [String: Set<Int>] = [:]
        var points: [ApplicationPoint] = []
        var last: (timeMs: Int64, sent: Int, consumed: Int, failed: Int, consumeErrors: Int)?
    }

    let state = Mutex(State())
    /// How many points the chart keeps.
    public let capacity: Int

    public init(capacity: Int = 300) { self.capacity = capacity }

    public func sent() { state.withLock { $0.sent += 1 } }

    public func acknowledged(key: String, sequence: Int) {
        state.withLock { s in
            s.acknowledged += 1
            if s.seen[key]?.contains(sequence) != true {
                s.unconfirmed[key, default: []].insert(sequence)
                s.unconfirmedCount += 1
            }
        }
    }

    public func failed(error: String) {
        state.withLock { s in
            s.failed += 1
            s.errors[error, default: 0] += 1
        }
    }

    public func consumed(key: String, sequence: Int) {
        state.withLock { s in
            s.consumed += 1
            if !s.seen[key, default: []].insert(sequence).inserted { s.duplicates += 1 }
            if s.unconfirmed[key]?.remove(sequence) != nil { s.unconfirmedCount -= 1 }
        }
    }

    public func consumeError(_ error: String) {
        state.withLock { s in
            s.consumeErrors += 1
            s.errors["consume: " + error, default: 0] += 1
        }
    }

    public func rebalanced() { state.withLock { $0.rebalances += 1 } }

    public var totals: ApplicationTotals {
        state.withLock { s in
            ApplicationTotals(
                sent: s.sent, acknowledged: s.acknowledged, failed: s.failed, consumed: s.consumed,
                unconfirmed: s.unconfirmedCount, duplicates: s.duplicates, consumeErrors: s.consumeErrors,
                rebalances: s.rebalances)
        }
    }

    /// Error messages by count (delivery failures and consumer errors).
    public var errors: [String: Int] { state.withLock { $0.errors } }

    /// Adds a point: the rates since the previous sample (none on the first call).
    public func sample(nowMs: Int64) {
        state.withLock { s in
            defer { s.last = (nowMs, s.sent, s.consumed, s.failed, s.consumeErrors) }
            guard let last = s.last, nowMs > last.timeMs else { return }
            let seconds = Double(nowMs - last.timeMs) / 1000
            s.points.append(
                ApplicationPoint(
                    timeMs: nowMs, produced: Double(s.sent - last.sent) / seconds,
                    consumed: Double(s.consumed - last.consumed) / seconds,
                    produceErrors: Double(s.failed - last.failed) / seconds,
                    consumeErrors: Double(s.consumeErrors - last.consumeErrors) / seconds))
            if s.points.count > capacity { s.points.removeFirst(s.points.count - capacity) }
        }
    }

    public var view: ApplicationsView {
        let points = state.withLock { $0.points }
        return ApplicationsView(points: points, totals: totals)
    }
}
