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

    /// Advances the engine without doing anything else (the ticker calls this).
    public func tick() {
        withCluster { _ in () }
    }

    /// Real-time duration of `clusterMs` cluster milliseconds.
    public func realDuration(ofClusterMs clusterMs: Int64) -> Duration {
        .milliseconds(Double(clusterMs) / timeScale)
    }
}
