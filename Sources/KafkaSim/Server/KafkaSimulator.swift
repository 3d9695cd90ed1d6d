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

    /// Advances the engine without doing anything else (the ticker calls this).
    public func tick() {
        withCluster { _ in () }
    }

    /// Real-time duration of `clusterMs` cluster milliseconds.
    public func realDuration(ofClusterMs clusterMs: Int64) -> Duration {
        .milliseconds(Double(clusterMs) / timeScale)
    }
}
