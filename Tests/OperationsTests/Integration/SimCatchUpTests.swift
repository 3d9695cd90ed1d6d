import Agent
import AgentSimDriver
import BallastTestSupport
import Foundation
import KafkaModel
import KafkaSim
import Roller
import Testing

@testable import Operations

/// The issue's stall against the simulator over TCP: a leader replication throttle below what the leaders already
/// send to their in-sync followers (Kafka counts those bytes in the quota) leaves nothing for a restarted broker to
/// catch up with. The roll measures replica sizes (DescribeLogDirs) and the throttles (DescribeConfigs) through
/// KafkaAdmin, reports the stalled replica with the throttle as its cause, and its timeout says so.
@Suite(.serialized) struct SimCatchUpTests {
    @Test func aThrottleSpentOnInSyncFollowersStallsCatchUpAndTheRollNamesItAsTheCause() async throws {
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        let topics = sim.simulator.withCluster { c in c.topics.map(\.name) }
        // ~300 KB/s (real) over 18 partitions: at time scale 10, ~1.7 KB per cluster second into each partition, so
        // a leader of two partitions sends ~6.7 KB/s to its in-sync followers, more than its 5 KB/s quota.
        let producer = try await AcksAllProducer.start(bootstrap: sim.bootstrap, topics: topics)
        sim.simulator.withCluster { c in
            for b in Int32(1)...9 {
                try? c.alterConfigs(
                    .broker(b), [.init(name: "leader.replication.throttled.rate", value: "5000")], incremental: true,
                    validateOnly: false, answeringBroker: b)
            }
            for t in topics {
                try? c.alterConfigs(
                    .topic(t), [.init(name: "leader.replication.throttled.replicas", value: "*")], incremental: true,
                    validateOnly: false, answeringBroker: 1)
            }
        }
        var options = RollOptions()
        options.timeouts.pollSeconds = 0.2
        options.timeouts.stallSeconds = 3
        options.timeouts.catchUpSeconds = 12
        let events = RollExecutorTests.Events()
        let result = try await SimRollHarness.roll(
            sim, driver: SimDriver(control: sim.controlURL, pollMilliseconds: 20, requestTimeout: .seconds(60)),
            options: options
        ) { events.add($0) }
        _ = try await producer.stop()
        let stalls = events.all.compactMap { if case .stalled(let d) = $0 { d } else { nil } }
        #expect(!stalls.isEmpty)
        let first = try #require(stalls.first)
        #expect(first.cause.contains("node \(first.leader)'s leader.replication.throttled.rate is 5 KB/s"))
        #expect(first.cause.contains("in-sync followers"))
        #expect(first.lagBytes > 0)
        guard case .failure(let failure) = result else {
            Issue.record("the roll finished although catch-up could not")
            return
        }
        #expect(failure.code == .nodeDidNotRecover)
        #expect(failure.message.contains("leader.replication.throttled.rate"))
        // The batch stalled is the first one: nothing else was restarted.
        #expect(events.batches.count == 1)
    }
}
