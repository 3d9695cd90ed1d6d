import Agent
import AgentSimDriver
import BallastStore
import BallastTestSupport
import Foundation
import KafkaAdmin
import KafkaModel
import KafkaSim
import Logging
import Rebalancer
import Roller
import Synchronization
import Testing

@testable import Operations

/// The issue's stall against the simulator over TCP: a leader replication throttle below what the leaders already
/// send to their in-sync followers (Kafka counts those bytes in the quota) leaves nothing for a restarted broker to
/// catch up with. The roll measures replica sizes (DescribeLogDirs) and the throttles (DescribeConfigs) through
/// KafkaAdmin, reports the stalled replica with the throttle as its cause, and its timeout says so.
@Suite(.serialized) struct SimCatchUpTests {
    /// ~300 KB/s (real) over 18 partitions: at time scale 10, ~1.7 KB per cluster second into each partition, so a
    /// leader of two partitions sends ~6.7 KB/s to its in-sync followers (~5 KB/s with a rack down), more than its
    /// 3 KB/s quota, set at each broker's own level (broker 9's comes from the cluster-wide default instead, so one
    /// key the remedy changes was not set before it), with every replica throttled (`*`).
    static func throttled(_ sim: EmbeddedSimulator) -> [String] {
        let topics = sim.simulator.withCluster { c in c.topics.map(\.name) }
        sim.simulator.withCluster { c in
            for b in Int32(1)...8 {
                try? c.alterConfigs(
                    .broker(b), [.init(name: "leader.replication.throttled.rate", value: "3000")], incremental: true,
                    validateOnly: false, answeringBroker: b)
            }
            try? c.alterConfigs(
                ConfigResource(kind: .broker, name: ""),
                [.init(name: "leader.replication.throttled.rate", value: "3000")], incremental: true,
                validateOnly: false, answeringBroker: 1)
            for t in topics {
                try? c.alterConfigs(
                    .topic(t), [.init(name: "leader.replication.throttled.replicas", value: "*")], incremental: true,
                    validateOnly: false, answeringBroker: 1)
            }
        }
        return topics
    }

    static func options(_ remedy: CatchUpThrottle?) -> RollOptions {
        var options = RollOptions()
        options.timeouts.pollSeconds = 0.2
        options.timeouts.stallSeconds = 3
        // Generous: stall detection needs a few replication samples, which a loaded machine delivers slowly.
        options.timeouts.catchUpSeconds = 90
        options.catchUpThrottle = remedy
        return options
    }

    /// Every throttle config of every broker and topic not at Kafka's default, as Kafka describes them over the wire:
    /// `resource key` → `value (source)`.
    static func throttleConfigs(_ sim: EmbeddedSimulator, topics: [String]) async throws -> [String: String] {
        let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrap: sim.bootstrap))
        defer { Task { await admin.shutdown() } }
        var out: [String: String] = [:]
        let resources = (1...9).map { ConfigResource.broker(Int32($0)) } + topics.map(ConfigResource.topic)
        for r in resources {
            let names = ThrottleConfig.keys(of: r)
            for rc in try await admin.describeConfigs([r], names: names) {
                for e in rc.entries where names.contains(e.name) && e.source != .defaultConfig {
                    out["\(r.displayName) \(e.name)"] = "\(e.value ?? "-") (\(e.source))"
                }
            }
        }
        return out
    }

    @Test func aThrottleSpentOnInSyncFollowersStallsCatchUpAndTheRollNamesItAsTheCause() async throws {
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        let topics = Self.throttled(sim)
        let producer = try await AcksAllProducer.start(bootstrap: sim.bootstrap, topics: topics)
        let options = Self.options(nil)
        let events = RollExecutorTests.Events()
        let result = try await SimRollHarness.roll(
            sim, driver: SimDriver(control: sim.controlURL, pollMilliseconds: 20, requestTimeout: .seconds(60)),
            options: options
        ) { events.add($0) }
        _ = try await producer.stop()
        let stalls = events.all.compactMap { if case .stalled(let d) = $0 { d } else { nil } }
        #expect(!stalls.isEmpty)
        let first = try #require(stalls.first)
        #expect(first.cause.contains("node \(first.leader)'s leader.replication.throttled.rate is 3 KB/s"))
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

    /// The same stall with `--catch-up-throttle lift`: each batch's leaders get their rate lifted while it catches up,
    /// the roll finishes with every node restarted, the client loses nothing, and every throttle config is afterwards
    /// exactly what it was before (broker 9's, not set at its own level before, deleted again).
    @Test func withTheCatchUpThrottleLiftedTheRollFinishesAndEveryThrottleConfigIsAsBefore() async throws {
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        let topics = Self.throttled(sim)
        let before = try await Self.throttleConfigs(sim, topics: topics)
        #expect(before["broker 1 leader.replication.throttled.rate"] == "3000 (dynamicBroker)")
        #expect(before["broker 9 leader.replication.throttled.rate"]?.hasSuffix("(dynamicDefaultBroker)") == true)
        let producer = try await AcksAllProducer.start(bootstrap: sim.bootstrap, topics: topics)
        let events = RollExecutorTests.Events()
        let result = try await SimRollHarness.roll(
            sim, driver: SimDriver(control: sim.controlURL, pollMilliseconds: 20, requestTimeout: .seconds(60)),
            options: Self.options(.lift)
        ) { events.add($0) }
        let summary = try await producer.stop()
        if case .failure(let f) = result { Issue.record("the roll failed: \(f.message)") }
        #expect(try result.get().sorted() == (1...9).map { Int32($0) })
        let lifted: [ThrottleChange] = events.all.flatMap { e -> [ThrottleChange] in
            if case .throttlesLifted(let c) = e { c } else { [] }
        }
        let restored: [ThrottleKey] = events.all.flatMap { e -> [ThrottleKey] in
            if case .throttlesRestored(let k) = e { k } else { [] }
        }
        #expect(!lifted.isEmpty)
        #expect(lifted.allSatisfy { $0.key.key == ThrottleConfig.leaderRate && $0.value == CatchUpThrottle.unlimited })
        #expect(Set(restored) == Set(lifted.map(\.key)))
        #expect(summary.failed == 0, "\(summary.errors)")
        #expect(try await Self.throttleConfigs(sim, topics: topics) == before)
    }

    /// A roller that dies while the throttle is lifted (nothing it does reaches the cluster any more, so it cannot
    /// put it back on its way out) leaves the prior in the journal; `--resume` puts it back before anything else and
    /// the configs end as they were.
    @Test func aRollThatDiesWithTheThrottleLiftedIsResumedAndTheJournalPutsItBack() async throws {
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        let topics = Self.throttled(sim)
        let before = try await Self.throttleConfigs(sim, topics: topics)
        let dir = NSTemporaryDirectory() + "ballast-throttle-resume-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try SQLiteOperationsStore(directory: dir)
        let opId = "roll-throttle"
        try await journal.begin(operationId: opId, spec: Data("{}".utf8))
        let driver = SimDriver(control: sim.controlURL, pollMilliseconds: 20, requestTimeout: .seconds(60))
        let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrap: sim.bootstrap))
        defer { Task { await admin.shutdown() } }
        let dying = DyingReader(KafkaAdminClusterReader(admin: admin))
        let events = RollExecutorTests.Events()
        // Writes, so that restarted replicas have something to catch up.
        let producer = try await AcksAllProducer.start(bootstrap: sim.bootstrap, topics: topics)
        try await withAgent(driver: driver) { url in
            let agent = HTTPAgentClient(endpoint: url, token: "t", timeoutSeconds: 60)
            func executor(_ reader: any ClusterReader, resume: RollResumeState?) -> RollExecutor<ContinuousClock> {
                RollExecutor(
                    operationId: opId, nodes: nil, options: Self.options(.lift), cluster: reader, agents: [agent],
                    journal: journal, resume: resume, logger: Logger(label: "test.roll"))
            }
            let first = Task { try await executor(dying, resume: nil).run() }
            dying.onDeath { first.cancel() }
            await #expect(throws: CancellationError.self) { try await first.value }
            #expect(dying.died)
            // Dead with the rate lifted: the cluster shows it, the journal holds what to put back.
            let during = try await Self.throttleConfigs(sim, topics: topics)
            #expect(during != before)
            #expect(during.values.contains { $0.hasPrefix(CatchUpThrottle.unlimited) })
            let saved = try await journal.savedSettings(opId)
            #expect(!saved.isEmpty)
            let state = try await journal.resumeState(opId)
            let restarted = try await executor(KafkaAdminClusterReader(admin: admin), resume: state).run {
                events.add($0)
            }
            #expect(Set(restarted).union(state.completed).count == 9)
        }
        let summary = try await producer.stop()
        #expect(summary.failed == 0, "\(summary.errors)")
        // The resumed run's first change puts back what the dead one lifted.
        let firstChange = events.all.first {
            switch $0 {
            case .throttlesLifted, .throttlesRestored: true
            default: false
            }
        }
        guard case .throttlesRestored(let keys) = firstChange else {
            Issue.record(
                "the resumed roll did not begin by putting the throttle back: \(String(describing: firstChange))")
            return
        }
        #expect(!keys.isEmpty)
        #expect(try await Self.throttleConfigs(sim, topics: topics) == before)
    }
}

/// A cluster reader whose process "dies" right after its first catch-up throttle lift went through: from then on
/// nothing reaches the cluster (reads throw, changes fail), as for a killed roller.
final class DyingReader: ClusterReader {
    let inner: KafkaAdminClusterReader
    let state = Mutex<(dead: Bool, onDeath: (@Sendable () -> Void)?)>((false, nil))

    init(_ inner: KafkaAdminClusterReader) { self.inner = inner }

    var died: Bool { state.withLock { $0.dead } }
    func onDeath(_ body: @escaping @Sendable () -> Void) { state.withLock { $0.onDeath = body } }

    struct Dead: Error {}

    func snapshot() async throws -> ClusterSnapshot {
        if died { throw Dead() }
        return try await inner.snapshot()
    }

    func electPreferredLeaders(_ partitions: [TopicPartition]) async throws {
        if died { throw Dead() }
        try await inner.electPreferredLeaders(partitions)
    }

    func replication(brokers: [Int32], at: Double) async -> ReplicationSample? {
        died ? nil : await inner.replication(brokers: brokers, at: at)
    }

    func alterThrottles(_ changes: [ThrottleChange]) async -> [ConfigResource: String] {
        if died { return Dictionary(changes.map { ($0.key.resource, "dead") }) { a, _ in a } }
        let failures = await inner.alterThrottles(changes)
        if changes.contains(where: { $0.value == CatchUpThrottle.unlimited }) && failures.isEmpty {
            let body = state.withLock { s in
                s.dead = true
                return s.onDeath
            }
            body?()
        }
        return failures
    }
}
