import Synchronization

/// The simulated cluster shared by the I/O layer: the engine behind a lock, and the clock that maps real
/// time to cluster time (`timeScale` cluster seconds per real second). Every access first advances the
/// engine to the current cluster time.
public final class KafkaSimulator: Sendable {
    let state: Mutex<SimCluster>
    let clock = ContinuousClock()
    let startInstant: ContinuousClock.Instant
    let startClusterMs: Int64
    public let timeScale: Double
    /// Deferred replies waiting for the cluster (`KafkaDeferredReply`).
    let waiters = Mutex<[Waiter]>([])

    struct Waiter: Sendable {
        var poll: KafkaDeferredReply.Poll
        var done: @Sendable (KafkaReply) -> Void
    }

    public init(cluster: SimCluster, timeScale: Double = 1) {
        startClusterMs = cluster.now
        state = Mutex(cluster)
        startInstant = clock.now
        self.timeScale = timeScale
    }

    /// Cluster milliseconds now.
    public func clusterNow() -> Int64 {
        let elapsed = clock.now - startInstant
        let (s, atto) = elapsed.components
        let ms = (Double(s) + Double(atto) / 1e18) * 1000 * timeScale
        return startClusterMs + Int64(ms)
    }

    /// Runs `body` on the engine after advancing it to the current cluster time.
    public func withCluster<T: Sendable, E: Error>(_ body: (inout SimCluster) throws(E) -> T) throws(E) -> T {
        let now = clusterNow()
        return try state.withLock { (cluster: inout SimCluster) throws(E) -> T in
            cluster.advance(to: max(now, cluster.now))
            return try body(&cluster)
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
