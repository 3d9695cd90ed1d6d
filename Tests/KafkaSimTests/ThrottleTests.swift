import KafkaModel
import KafkaWire
import Testing

@testable import KafkaSim

/// The replication throttle as Kafka applies it to reassignments: per-broker rates, the replicas each topic lists,
/// and what becomes of a reassignment whose destination dies or that is cancelled.
@Suite struct ThrottleTests {
    static func cluster(brokers: Int = 6) throws -> SimCluster {
        var topo = SimTopology()
        topo.brokers = brokers
        topo.topics = 0
        var c = try topo.build()
        try c.createTopic(
            name: "t", partitions: 1, replicationFactor: 3, assignment: [[1, 2, 3]], baseBytes: [10_000_000])
        return c
    }

    static func set(_ c: inout SimCluster, broker: Int32, _ key: String, _ value: String) throws {
        try c.alterConfigs(
            .broker(broker), [.init(name: key, value: value)], incremental: true, validateOnly: false,
            answeringBroker: broker)
    }

    static func set(_ c: inout SimCluster, topic: String, _ key: String, _ value: String) throws {
        try c.alterConfigs(
            .topic(topic), [.init(name: key, value: value)], incremental: true, validateOnly: false,
            answeringBroker: 1)
    }

    /// Kafka's quotas cap a broker's total throttled bytes: a follower held back by its own throttle leaves the
    /// rest of the leader's rate to the other follower (the simulator once split it evenly and wasted it).
    @Test func aReplicaHeldBackByItsOwnThrottleLeavesTheLeadersRateToTheOthers() throws {
        var c = try Self.cluster()
        try Self.set(&c, broker: 1, "leader.replication.throttled.rate", "1000000")
        try Self.set(&c, broker: 5, "follower.replication.throttled.rate", "200000")
        try Self.set(&c, topic: "t", "leader.replication.throttled.replicas", "0:1,0:2,0:3")
        try Self.set(&c, topic: "t", "follower.replication.throttled.replicas", "0:4,0:5")
        try c.alterReassignment(topic: "t", partition: 0, target: [4, 5, 3])
        // Broker 4 gets 800 KB/s, broker 5 200 KB/s: 10 MB takes 12.5 s for 4 (20 s if split evenly).
        c.advance(to: 12_400)
        #expect(!part(c).isr.contains(4))
        c.advance(to: 12_600)
        #expect(part(c).isr.contains(4))
        #expect(!part(c).isr.contains(5))
        c.advance(to: 50_100)
        #expect(c.listReassignments().isEmpty)
        #expect(part(c).replicas == [4, 5, 3])
    }

    /// Kafka's leader quota records the bytes sent to in-sync followers of throttled partitions (never throttling
    /// them): only what is left goes to a replica catching up. Broker 1 leads `busy` (300 KB/s to each of two
    /// in-sync followers) and `t`; with a 1 MB/s leader rate, broker 4 copies t's 10 MB at 400 KB/s: 25 s, not 10 s.
    @Test func inSyncFollowerTrafficOfThrottledPartitionsCountsAgainstTheLeaderQuota() throws {
        var c = try Self.cluster()
        try c.createTopic(
            name: "busy", partitions: 1, replicationFactor: 3, assignment: [[1, 2, 3]], loadBytesPerMs: [300])
        try Self.set(&c, broker: 1, "leader.replication.throttled.rate", "1000000")
        try Self.set(&c, topic: "t", "leader.replication.throttled.replicas", "*")
        try Self.set(&c, topic: "busy", "leader.replication.throttled.replicas", "*")
        try c.alterReassignment(topic: "t", partition: 0, target: [4, 2, 3])
        c.advance(to: 24_500)
        #expect(!part(c).isr.contains(4))
        c.advance(to: 25_600)
        #expect(part(c).isr.contains(4))
    }

    /// In-sync traffic above the quota leaves nothing for catch-up (the stall); lifting the throttle ends it.
    @Test func inSyncTrafficAboveTheLeaderQuotaStallsCatchUpUntilTheThrottleIsLifted() throws {
        var c = try Self.cluster()
        try c.createTopic(
            name: "busy", partitions: 1, replicationFactor: 3, assignment: [[1, 2, 3]], loadBytesPerMs: [600])
        try Self.set(&c, broker: 1, "leader.replication.throttled.rate", "1000000")
        try Self.set(&c, topic: "t", "leader.replication.throttled.replicas", "*")
        try Self.set(&c, topic: "busy", "leader.replication.throttled.replicas", "*")
        try c.alterReassignment(topic: "t", partition: 0, target: [4, 2, 3])
        c.advance(to: 100_000)
        #expect(c.replicaBytes[ReplicaKey(partition: 0, broker: 4)] == 0)
        #expect(!part(c).isr.contains(4))
        try Self.set(&c, broker: 1, "leader.replication.throttled.rate", "100000000")
        c.advance(to: 101_000)
        #expect(part(c).isr.contains(4))
    }

    /// A replica catching up under a steady write load (the model's `networkIn`) rejoins the ISR: the step's target
    /// is the leader's size at the end of the step, not at its start (which a replica could never reach).
    @Test func aReplicaCatchingUpUnderASteadyLoadRejoinsTheIsr() throws {
        var c = try Self.cluster()
        try c.createTopic(
            name: "loaded", partitions: 1, replicationFactor: 3, assignment: [[1, 2, 3]], loadBytesPerMs: [100])
        try c.alterReassignment(topic: "loaded", partition: 0, target: [4, 2, 3])
        c.advance(to: 1_000)
        #expect(c.listReassignments().isEmpty)
        #expect(part(c, topic: "loaded").isr.contains(4))
    }

    /// Produce traffic competes with catch-up for a follower broker's replication throughput.
    @Test func inSyncFetchTrafficLeavesLessOfTheFollowersThroughputForCatchUp() throws {
        var topo = SimTopology()
        topo.brokers = 6
        topo.topics = 0
        var settings = SimSettings()
        settings.replicationBytesPerSecond = 1_000_000
        var c = try topo.build(settings: settings)
        try c.createTopic(
            name: "t", partitions: 1, replicationFactor: 3, assignment: [[1, 2, 3]], baseBytes: [10_000_000])
        // Broker 4 follows `busy` in sync at 500 KB/s: 500 KB/s are left to copy t's 10 MB (20 s, not 10 s).
        try c.createTopic(
            name: "busy", partitions: 1, replicationFactor: 3, assignment: [[5, 4, 6]], loadBytesPerMs: [500])
        try c.alterReassignment(topic: "t", partition: 0, target: [4, 2, 3])
        c.advance(to: 19_500)
        #expect(!part(c).isr.contains(4))
        c.advance(to: 20_600)
        #expect(part(c).isr.contains(4))
    }

    @Test func onlyTheListedReplicasAreThrottled() throws {
        var c = try Self.cluster()
        try Self.set(&c, broker: 1, "leader.replication.throttled.rate", "1000000")
        try Self.set(&c, broker: 4, "follower.replication.throttled.rate", "1000000")
        // The leader side lists the current replicas, the follower side only broker 5: broker 4 is not throttled
        // as a follower, but its leader is.
        try Self.set(&c, topic: "t", "leader.replication.throttled.replicas", "0:1,0:2,0:3")
        try Self.set(&c, topic: "t", "follower.replication.throttled.replicas", "0:5")
        try c.alterReassignment(topic: "t", partition: 0, target: [4, 2, 3])
        c.advance(to: 9_900)
        #expect(!part(c).isr.contains(4))
        c.advance(to: 10_100)
        #expect(c.listReassignments().isEmpty)
        // Without any list the rates throttle nothing: 10 MB at the 100 MiB/s replication rate.
        var d = try Self.cluster()
        try Self.set(&d, broker: 1, "leader.replication.throttled.rate", "1000")
        try d.alterReassignment(topic: "t", partition: 0, target: [4, 2, 3])
        d.advance(to: 200)
        #expect(d.listReassignments().isEmpty)
    }

    @Test(arguments: ["0:1,1:2", "*", "", " 0:1 , 1:2 ", "0:1,"])
    func aThrottledReplicaListOfPartitionBrokerPairsOrStarIsAccepted(value: String) throws {
        var c = try Self.cluster()
        try Self.set(&c, topic: "t", "leader.replication.throttled.replicas", value)
        #expect(c.topic(named: "t")?.configs["leader.replication.throttled.replicas"] == value)
    }

    @Test(arguments: ["abc", "0-1", "0:1,*", "1:", ":2", "0:1:2", "a:1"])
    func anyOtherThrottledReplicaListIsRefusedAsKafkaDoes(value: String) throws {
        var c = try Self.cluster()
        #expect {
            try Self.set(&c, topic: "t", "follower.replication.throttled.replicas", value)
        } throws: { error in
            guard let e = error as? SimFailure else { return false }
            return e.code == .invalidConfig
                && e.message.contains(
                    "follower.replication.throttled.replicas must be the literal '*' or a list of replicas in the "
                        + "following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...")
        }
        #expect(c.topic(named: "t")?.configs["follower.replication.throttled.replicas"] == nil)
    }

    /// A destination that dies holds the reassignment: Kafka lists it until it is cancelled, which reverts it.
    @Test func aReassignmentToADeadBrokerStallsUntilCancelledAndTheCancelRevertsIt() throws {
        var c = try Self.cluster()
        try Self.set(&c, broker: 4, "follower.replication.throttled.rate", "1000000")
        try Self.set(&c, topic: "t", "follower.replication.throttled.replicas", "0:4")
        try c.alterReassignment(topic: "t", partition: 0, target: [4, 2, 3])
        c.advance(to: 2_000)
        try c.kill(4)
        c.advance(to: 120_000)
        #expect(c.listReassignments().count == 1)
        #expect(c.listReassignments()[0].copiedBytes < 10_000_000)
        try c.alterReassignment(topic: "t", partition: 0, target: nil)
        #expect(c.listReassignments().isEmpty)
        #expect(part(c).replicas == [1, 2, 3])
        #expect(part(c).isr == [1, 2, 3])
        #expect(c.replicaBytes[ReplicaKey(partition: 0, broker: 4)] == nil)
    }
}
