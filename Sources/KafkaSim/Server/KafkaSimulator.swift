public import KafkaModel
import Synchronization

/// The simulated cluster shared by the I/O layer: the engine behind a lock, and the clock that maps real
/// time to cluster time (`timeScale` cluster seconds per real second). Every access first advances the
/// engine to the current cluster time.
///
/// The clock is injected: tests pass a manual clock and move cluster time themselves. With `stallLimit` set
/// (`ballast sim`, `EmbeddedSimulator`), real time the process lost to a stall (a loaded machine starving it of
/// CPU) beyond that limit is not replayed as cluster time: the whole simulated cluster pauses, as every broker
/// of a real cluster would if they all stalled, instead of jumping seconds ahead at once and expiring shutdowns
/// and timers faster than its clients can react.
public final class KafkaSimulator: Sendable {
    struct State {
        var cluster: SimCluster
        /// Cluster milliseconds not replayed after stalls.
        var skippedMs: Int64 = 0
    }
    let state: Mutex<State>
    let clock: AnyClock
    let startClusterMs: Int64
    public let timeScale: Double
    /// Deferred replies waiting for the cluster (`KafkaDeferredReply`).
    let waiters = Mutex<[Waiter]>([])

    struct Waiter: Sendable {
        var poll: KafkaDeferredReply.Poll
        var done: @Sendable (KafkaReply) -> Void
    }
    /// The longest real time replayed in one step; nil: all of it.
    public let stallLimit: Duration?
    /// What `ballast sim` and `EmbeddedSimulator` use on the real clock: ten times the server's tick interval.
    public static let defaultStallLimit: Duration = .milliseconds(200)

    public init(
        cluster: SimCluster, timeScale: Double = 1, clock: AnyClock = AnyClock(ContinuousClock()),
        stallLimit: Duration? = nil
    ) {
        startClusterMs = cluster.now
        state = Mutex(State(cluster: cluster))
        self.clock = clock
        self.timeScale = timeScale
        self.stallLimit = stallLimit
    }

    /// Cluster milliseconds now (before any stall is skipped).
    public func clusterNow() -> Int64 {
        startClusterMs + Int64(clock.elapsed.seconds * 1000 * timeScale) - state.withLock { $0.skippedMs }
    }

    /// Runs `body` on the engine after advancing it to the current cluster time.
    public func withCluster<T: Sendable, E: Error>(_ body: (inout SimCluster) throws(E) -> T) throws(E) -> T {
        let real = startClusterMs + Int64(clock.elapsed.seconds * 1000 * timeScale)
        let limitMs = stallLimit.map { Int64($0.seconds * 1000 * timeScale) }
        return try state.withLock { (s: inout State) throws(E) -> T in
            var target = real - s.skippedMs
            if let limitMs, target - s.cluster.now > limitMs {
                s.skippedMs += target - s.cluster.now - limitMs
                target = s.cluster.now + limitMs
            }
            s.cluster.advance(to: max(target, s.cluster.now))
            return try body(&s.cluster)
        }
    }

    /// Advances the engine and answers the deferred replies that are ready or due (the ticker calls this).
    public func tick() {
        withCluster { _ in () }
        wakeWaiters()
    }

    func addWaiter(_ poll: @escaping KafkaDeferredReply.Poll, _ done: @escaping @Sendable (KafkaReply) -> Void) {
        waiters.withLock { $0.append(Waiter(poll: poll, done: done)) }
        // The cluster may have changed since the responder looked: look again now that nothing can be missed.
        wakeWaiters()
    }

    /// Polls every deferred reply once; those that are ready are encoded and sent outside the engine lock.
    public func wakeWaiters() {
        let pending = waiters.withLock { w in
            let all = w
            w.removeAll()
            return all
        }
        guard !pending.isEmpty else { return }
        let (ready, still) = withCluster { c in
            var ready: [(Waiter, @Sendable () -> KafkaReply)] = []
            var still: [Waiter] = []
            for w in pending {
                if let encode = w.poll(&c) { ready.append((w, encode)) } else { still.append(w) }
            }
            return (ready, still)
        }
        if !still.isEmpty { waiters.withLock { $0.append(contentsOf: still) } }
        for (w, encode) in ready { w.done(encode()) }
    }

    /// Real-time duration of `clusterMs` cluster milliseconds.
    public func realDuration(ofClusterMs clusterMs: Int64) -> Duration {
        .milliseconds(Double(clusterMs) / timeScale)
    }
}
