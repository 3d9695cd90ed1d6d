public import KafkaSim

/// The simulated cluster's own time as a `Clock`: `now` is its cluster time, and a sleep lasts until the cluster has
/// reached the deadline (real time ÷ the time scale). A roll driven by it measures, polls and times out in cluster
/// time, so its durations compare with the cluster's start-up, shutdown and replication times whatever the time scale
/// and however slowly a loaded machine runs the simulator.
public struct SimClusterClock: Clock, Sendable {
    public let simulator: KafkaSimulator

    public init(_ simulator: KafkaSimulator) { self.simulator = simulator }

    public var now: TestInstant { TestInstant(offset: .milliseconds(simulator.withCluster { $0.now })) }
    public var minimumResolution: Duration { .milliseconds(1) }

    public func sleep(until deadline: TestInstant, tolerance: Duration? = nil) async throws {
        while true {
            let left = now.duration(to: deadline)
            if left <= .zero { return }
            let ms = Int64(left / .milliseconds(1)) + 1
            try await Task.sleep(for: simulator.realDuration(ofClusterMs: ms))
        }
    }
}
