import BallastTestSupport
import Foundation
import KafkaModel
import KafkaSim
import Roller
import Testing

@testable import Operations

/// Issue #15's phenomenon as whole rolls, deterministic: the cluster of `SimRollSizingTests` (6 brokers over 3 racks,
/// the miniature placement, every leader's quota 25 × a partition's write rate counting its in-sync
/// followers' bytes) rolled in process (`InProcessSim`: the roller reads the simulator and restarts its brokers
/// directly, and the cluster's time moves only while the roller sleeps). Every duration is cluster time and
/// the same on every machine, so the comparison is asserted, not printed: Ballast's roll takes no longer than the
/// careful one, never restarts the rack {1,4} together (node 2 would lead 12 partitions with 1 × the write rate left
/// for twice the lag), and the roll without catch-up-aware sizing (`catchUpAwareBatches: false`, the roller before
/// #15) does and is slower than careful. (`SimRollSizingTests` runs the same over TCP with a real client; there
/// cluster time runs on while the roller and the agent work, so it is gated as a benchmark.)
@Suite struct SimRollSizingClusterTimeTests {
    static let write = 10.0  // KiB/s per partition

    /// The cluster of the test: placement, write load and the throttles, set at cluster time 1 s (the quorum has a
    /// leader by then).
    static func cluster() throws -> SimCluster {
        let brokers = (1...6).map { ClusterModelFile.Broker(id: Int32($0), rack: "r\(($0 - 1) % 3)") }
        var partitions: [ClusterModelFile.Partition] = []
        for (i, r) in ([[1, 2, 3], [4, 2, 6], [2, 3, 5]] as [[Int32]]).enumerated() {
            for k in 0..<4 {
                partitions.append(
                    .init(id: Int32(i * 4 + k), replicas: r, load: .init(disk: 1, networkIn: write)))
            }
        }
        var topology = SimTopology()
        topology.model = ClusterModelFile(
            brokers: brokers, topics: [.init(name: "orders", minInSyncReplicas: 2, partitions: partitions)])
        var settings = SimSettings()
        settings.startupDelayMs = 2000
        var c = try topology.build(settings: settings)
        c.advance(to: c.now + 1000)
        let quota = String(Int(25 * write * 1024))
        for b in Int32(1)...6 {
            try c.alterConfigs(
                .broker(b), [.init(name: "leader.replication.throttled.rate", value: quota)], incremental: true,
                validateOnly: false, answeringBroker: b)
        }
        try c.alterConfigs(
            .topic("orders"), [.init(name: "leader.replication.throttled.replicas", value: "*")],
            incremental: true, validateOnly: false, answeringBroker: 1)
        return c
    }

    struct Measured: Equatable {
        var seconds: Double
        var batches: [[Int32]]
        var restarted: [Int32]
        /// The most partitions under min ISR, and offline, the simulator saw during the roll.
        var underMinIsr: Int
        var offline: Int
        var notPreferredAtEnd: Int
    }

    /// `Scripts/sim-roll-scale.sh`'s cluster: 60 brokers over 3 racks (nodes 1-3 combined controllers), 20 topics ×
    /// 30 partitions, RF 3, min ISR 2, rack-aware (consecutive brokers); 200 MiB per partition and 40 KiB/s of
    /// writes on each; replication into a broker limited to 20 MB/s; 30 s start-up.
    static func scaleCluster() throws -> SimCluster {
        let n = 60
        let brokers = (1...n).map { ClusterModelFile.Broker(id: Int32($0), rack: "r\(($0 - 1) % 3)") }
        var topics: [ClusterModelFile.Topic] = []
        var k = 0
        for t in 0..<20 {
            var partitions: [ClusterModelFile.Partition] = []
            for p in 0..<30 {
                let replicas = (0..<3).map { Int32((k + $0) % n + 1) }
                k += 1
                partitions.append(.init(id: Int32(p), replicas: replicas, load: .init(disk: 200, networkIn: 40)))
            }
            topics.append(.init(name: "data-\(t)", minInSyncReplicas: 2, partitions: partitions))
        }
        var topology = SimTopology()
        topology.model = ClusterModelFile(brokers: brokers, topics: topics)
        var settings = SimSettings()
        settings.startupDelayMs = 30_000
        settings.replicationBytesPerSecond = 20_000_000
        var c = try topology.build(settings: settings)
        c.advance(to: c.now + 1000)
        return c
    }

    /// Rolls every node of a fresh cluster with `options`; the roll's cluster time, batches and health.
    static func roll(_ options: RollOptions, cluster: () throws -> SimCluster = cluster) async throws -> Measured {
        let sim = InProcessSim(try cluster())
        let events = RollExecutorTests.Events()
        let start = sim.clock.now
        let restarted = try await sim.executor(options: options).run { events.add($0) }
        let seconds = start.duration(to: sim.clock.now) / .seconds(1)
        let snapshot = try await sim.snapshot()
        let health = sim.simulator.withCluster { $0.stats.health }
        return Measured(
            seconds: seconds, batches: events.batches, restarted: restarted.sorted(),
            underMinIsr: health.map(\.underMinIsr).max() ?? 0, offline: health.map(\.offline).max() ?? 0,
            notPreferredAtEnd: snapshot.allPartitions.filter { $0.leader != $0.replicas[0] }.count)
    }

    @Test func ballastRollsNoSlowerThanCarefulInClusterTimeAndTheRollWithoutCatchUpSizingIsSlower() async throws {
        var careful = RollOptions()
        careful.maxBatch = 1
        var unsized = RollOptions()
        unsized.catchUpAwareBatches = false
        let c = try await Self.roll(careful)
        let b = try await Self.roll(RollOptions())
        let u = try await Self.roll(unsized)
        print(
            "cluster time: careful \(c.seconds) s \(c.batches); ballast \(b.seconds) s \(b.batches); "
                + "unsized \(u.seconds) s \(u.batches)")
        let all: [Int32] = [1, 2, 3, 4, 5, 6]
        for m in [c, b, u] {
            #expect(m.restarted == all)
            #expect(m.underMinIsr == 0)
            #expect(m.offline == 0)
            #expect(m.notPreferredAtEnd == 0)
        }
        #expect(c.batches.count == 6)
        // With the sizing, never the starved rack together, and never slower than one at a time.
        #expect(!b.batches.contains { Set($0) == [1, 4] })
        #expect(b.seconds <= c.seconds)
        // Without it (the roller before #15): the rack {1,4} goes together, and the roll is slower than careful.
        #expect(u.batches.contains { Set($0) == [1, 4] })
        #expect(u.seconds > c.seconds)
    }

    /// Issue #15's scale target in cluster time: at 60 brokers Ballast's roll takes at most 0.15 × the careful one's.
    /// Deterministic, but a minute of CPU on a debug build (the careful roll's 60 batches), which the TCP tests running
    /// beside it in the same process cannot spare on a loaded 2-core machine: run it with `BALLAST_SIM_SCALE=1`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["BALLAST_SIM_SCALE"] != nil))
    func atSixtyBrokersBallastsRollTakesAtMostFifteenHundredthsOfCarefulsClusterTime() async throws {
        var careful = RollOptions()
        careful.maxBatch = 1
        let clock = ContinuousClock()
        let t0 = clock.now
        let c = try await Self.roll(careful, cluster: Self.scaleCluster)
        let t1 = clock.now
        let b = try await Self.roll(RollOptions(), cluster: Self.scaleCluster)
        print(
            "60 brokers, cluster time: careful \(c.seconds) s (\(c.batches.count) batches, computed in \(t0.duration(to: t1))); "
                + "ballast \(b.seconds) s \(b.batches.map(\.count)) (computed in \(t1.duration(to: clock.now))); "
                + "ratio \(b.seconds / c.seconds)")
        #expect(c.batches.count == 60)
        #expect(b.seconds <= 0.15 * c.seconds)
        #expect(b.underMinIsr == 0 && c.underMinIsr == 0)
    }

    /// The same roll twice gives the same cluster time and batches: nothing in it depends on the machine.
    @Test func aRollInClusterTimeIsDeterministic() async throws {
        let first = try await Self.roll(RollOptions())
        let second = try await Self.roll(RollOptions())
        #expect(first == second)
    }
}
