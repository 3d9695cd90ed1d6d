import AgentContract
import BallastStore
import BallastTestSupport
import KafkaAdmin
import KafkaModel
import KafkaPolicies
import Logging
import Roller
import Synchronization
import Testing

@testable import ConfigPlanning
@testable import Operations

/// A fake broker-config store that answers like Kafka: per-broker > cluster default > static > default, and
/// IncrementalAlterConfigs rejects what Kafka rejects (read-only keys, store configs without a listener prefix,
/// per-broker keys at the cluster default, thread pools beyond half..double).
final class FakeConfigAdmin: ConfigAdminClient, Sendable {
    struct State {
        var base: CurrentClusterConfig
        var defaults: [String: String] = [:]
        var perBroker: [Int32: [String: String]] = [:]
        var calls: [(validateOnly: Bool, targets: [ConfigResourceTarget])] = []
        /// Real (not validate-only) alters of these resources fail once, to test roll-back.
        var failRealApplyOn: Set<ConfigResourceTarget> = []
        /// Real alters of these resources are applied, then the answer is lost (a transport error), once.
        var loseAnswerOn: Set<ConfigResourceTarget> = []
        /// When set, alters succeed but describe keeps showing the old values.
        var ignoreWrites = false
    }

    let state: Mutex<State>
    let catalog = ConfigCatalog.broker(version: KafkaVersion(major: 4, minor: 1))

    init(_ base: CurrentClusterConfig) {
        state = Mutex(State(base: base))
    }

    func describeBrokerConfigs(nodes: [Int32]) async throws -> [Int32: [String: ConfigEntry]] {
        state.withLock { s in
            var out: [Int32: [String: ConfigEntry]] = [:]
            for node in nodes { out[node] = Self.effective(s, node: node) }
            return out
        }
    }

    func describeClusterDefaultConfigs() async throws -> [String: ConfigEntry] {
        state.withLock { s in s.defaults.mapValues { ConfigEntry(value: $0, source: .dynamicDefaultBroker) } }
    }

    static func effective(_ s: State, node: Int32) -> [String: ConfigEntry] {
        var configs = s.base.nodes[node] ?? [:]
        guard !s.ignoreWrites else { return configs }
        for (k, v) in s.defaults where configs[k]?.source != .dynamicBroker {
            configs[k] = ConfigEntry(value: v, source: .dynamicDefaultBroker)
        }
        for (k, v) in s.perBroker[node] ?? [:] { configs[k] = ConfigEntry(value: v, source: .dynamicBroker) }
        return configs
    }

    var current: CurrentClusterConfig {
        state.withLock { s in
            var c = s.base
            for node in c.nodeIDs { c.nodes[node] = Self.effective(s, node: node) }
            c.clusterDefault = s.defaults.mapValues { ConfigEntry(value: $0, source: .dynamicDefaultBroker) }
            return c
        }
    }

    struct LostAnswer: Error {}

    func incrementalAlterConfigs(_ resources: [ConfigResourceTarget: [PlannedAlteration]], validateOnly: Bool)
        async throws -> [ConfigResourceTarget: ConfigAlterError?]
    {
        let answer = alter(resources, validateOnly: validateOnly)
        let lose = state.withLock { s in
            !validateOnly && resources.keys.contains { s.loseAnswerOn.remove($0) != nil }
        }
        if lose { throw LostAnswer() }
        return answer
    }

    func alter(_ resources: [ConfigResourceTarget: [PlannedAlteration]], validateOnly: Bool)
        -> [ConfigResourceTarget: ConfigAlterError?]
    {
        state.withLock { s in
            s.calls.append((validateOnly, resources.keys.sorted()))
            var out: [ConfigResourceTarget: ConfigAlterError?] = [:]
            for (target, ops) in resources {
                if let e = validate(s, target, ops) {
                    out[target] = .some(e)
                    continue
                }
                if !validateOnly, s.failRealApplyOn.remove(target) != nil {
                    out[target] = .some(ConfigAlterError(code: 7, message: "Timed out"))
                    continue
                }
                out[target] = .some(nil)
                guard !validateOnly else { continue }
                for op in ops {
                    switch (target, op.operation) {
                    case (.clusterDefault, .set(let v)): s.defaults[op.key] = v
                    case (.clusterDefault, .delete): s.defaults[op.key] = nil
                    case (.broker(let id), .set(let v)): s.perBroker[id, default: [:]][op.key] = v
                    case (.broker(let id), .delete): s.perBroker[id]?[op.key] = nil
                    }
                }
            }
            return out
        }
    }

    func validate(_ s: State, _ target: ConfigResourceTarget, _ ops: [PlannedAlteration]) -> ConfigAlterError? {
        for op in ops {
            let base = ListenerPrefixedKey(op.key)?.base ?? op.key
            let mode = catalog[base]?.updateMode ?? .clusterWide
            if op.key == base, mode == .readOnly {
                return ConfigAlterError(code: 40, message: "Cannot update these configs dynamically: Set(\(op.key))")
            }
            if op.key == base, KafkaConfigRules.sslStoreConfigs.contains(op.key) {
                return ConfigAlterError(
                    code: 40,
                    message:
                        "These security configs can be dynamically updated only per-listener using the listener prefix")
            }
            if target == .clusterDefault, mode == .perBroker,
                !KafkaConfigRules.clusterLevelListenerConfigs.contains(base)
            {
                return ConfigAlterError(
                    code: 40,
                    message: "Cannot update these configs at default cluster level, broker id must be specified")
            }
            if case .set(let v) = op.operation, let def = catalog[base], ValueCheck.problem(v, for: def) != nil {
                return ConfigAlterError(code: 40, message: "Invalid value \(v) for configuration \(op.key)")
            }
            if case .set(let v) = op.operation, KafkaConfigRules.boundedThreadPools.contains(base),
                case .broker(let id) = target,
                let cur = Self.effective(s, node: id)[op.key]?.value.flatMap({ Int($0) }),
                let new = Int(v), new > cur * 2
            {
                return ConfigAlterError(
                    code: 40, message: "Dynamic thread count update validation failed for \(op.key)=\(v)")
            }
        }
        return nil
    }
}

@Suite struct ConfigApplierTests {
    let logger = Logger(label: "test")
    let fast = ConfigApplier.Options(verifyTimeout: .milliseconds(300), pollInterval: .milliseconds(20))

    func plan(_ text: String, _ admin: FakeConfigAdmin, nodes: [Int32]? = nil) throws -> ConfigChangePlan {
        try ConfigClassifier(version: KafkaVersion("4.1")!).plan(
            desired: DesiredConfig(parsing: text), current: admin.current, nodes: nodes)
    }

    @Test func appliesValidatesFirstVerifiesAndIsIdempotent() async throws {
        let admin = FakeConfigAdmin(ConfigFixture.cluster())
        admin.state.withLock { $0.perBroker[2] = ["message.max.bytes": "5"] }
        let desired = "message.max.bytes=2000000\nlistener.name.ssl.ssl.keystore.location=/k.jks\nnum.partitions=3"
        let p = try plan(desired, admin)
        let report = try await ConfigApplier(client: admin, options: fast, logger: logger).apply(
            p, current: admin.current)
        #expect(report.succeeded)
        #expect(report.results.map(\.key) == ["message.max.bytes", "listener.name.ssl.ssl.keystore.location"])
        #expect(report.restartNodes == [1, 2, 3])
        let calls = admin.state.withLock { $0.calls }
        #expect(calls.first?.validateOnly == true)
        #expect(calls.dropFirst().allSatisfy { !$0.validateOnly })
        #expect(calls.dropFirst().first?.targets == [.clusterDefault])
        for node: Int32 in [1, 2, 3] {
            #expect(admin.current.entry("message.max.bytes", node: node)?.value == "2000000")
            #expect(admin.current.entry("listener.name.ssl.ssl.keystore.location", node: node)?.value == "/k.jks")
        }
        // The shadowing override of node 2 is gone, the default carries the value.
        #expect(admin.current.entry("message.max.bytes", node: 2)?.source == .dynamicDefaultBroker)

        let again = try plan(desired, admin)
        #expect(again.dynamicChanges.isEmpty)
        let second = try await ConfigApplier(client: admin, options: fast, logger: logger).apply(
            again, current: admin.current)
        #expect(second.results.isEmpty)
    }

    @Test func aKeyKafkaRejectsIsReportedWithKafkasMessageAndNothingIsAppliedForIt() async throws {
        let admin = FakeConfigAdmin(ConfigFixture.cluster())
        // Plan as if 8 -> 16 were fine, then make node 2 report 4 threads so Kafka's check fails there.
        let p = try plan("num.io.threads=16\nmessage.max.bytes=2000000", admin, nodes: [1, 2, 3])
        admin.state.withLock { $0.base.nodes[2]?["num.io.threads"] = ConfigFixture.entry("4", .staticBroker) }
        let report = try await ConfigApplier(client: admin, options: fast, logger: logger).apply(
            p, current: admin.current)
        #expect(!report.succeeded)
        let rejected = try #require(report.results.first { $0.key == "num.io.threads" })
        #expect(rejected.status == .rejected)
        #expect(rejected.message?.contains("Dynamic thread count update validation failed") == true)
        for node: Int32 in [1, 3] { #expect(admin.current.entry("num.io.threads", node: node)?.value == "8") }
        #expect(report.results.first { $0.key == "message.max.bytes" }?.status == .applied)
        #expect(admin.current.entry("message.max.bytes", node: 2)?.value == "2000000")
    }

    @Test func aKeyThatFailsPartWayIsRolledBackAndReported() async throws {
        let admin = FakeConfigAdmin(
            ConfigFixture.cluster(perNode: [1: ["message.max.bytes": ConfigFixture.entry("7", .dynamicBroker)]]))
        let p = try plan("message.max.bytes=2000000", admin, nodes: [1, 2, 3])
        admin.state.withLock { $0.failRealApplyOn = [.broker(2)] }
        let report = try await ConfigApplier(client: admin, options: fast, logger: logger).apply(
            p, current: admin.current)
        let r = try #require(report.results.first)
        #expect(r.status == .failed)
        #expect(r.message?.contains("rolled back on broker 1") == true)
        #expect(admin.current.entry("message.max.bytes", node: 1)?.value == "7")
        #expect(admin.current.entry("message.max.bytes", node: 2)?.value == "1048588")
        #expect(admin.current.entry("message.max.bytes", node: 3)?.value == "1048588")
    }

    @Test func aLostAnswerPartWayIsTreatedAsAFailureAndRolledBackEverywhere() async throws {
        let admin = FakeConfigAdmin(ConfigFixture.cluster())
        let p = try plan("message.max.bytes=2000000\nlog.retention.ms=1000", admin, nodes: [1, 2, 3])
        admin.state.withLock { $0.loseAnswerOn = [.broker(2)] }
        let report = try await ConfigApplier(client: admin, options: fast, logger: logger).apply(
            p, current: admin.current)
        #expect(report.results.map(\.status) == [.failed, .failed])
        #expect(report.results.first?.message?.contains("no answer from Kafka") == true)
        for node: Int32 in [1, 2, 3] {
            #expect(admin.current.entry("message.max.bytes", node: node)?.source == .defaultConfig)
            #expect(admin.current.entry("log.retention.ms", node: node)?.source == .defaultConfig)
        }
    }

    @Test func aChangeNoNodeReportsIsUnverified() async throws {
        let admin = FakeConfigAdmin(ConfigFixture.cluster())
        admin.state.withLock { $0.ignoreWrites = true }
        let p = try plan("log.retention.ms=1000", admin)
        let report = try await ConfigApplier(client: admin, options: fast, logger: logger).apply(
            p, current: admin.current)
        #expect(report.results.map(\.status) == [.unverified])
        #expect(report.results.first?.nodes == [1, 2, 3])
    }

    @Test func removingAnOverrideIsVerifiedBySource() async throws {
        let admin = FakeConfigAdmin(ConfigFixture.cluster())
        admin.state.withLock { $0.perBroker[2] = ["message.max.bytes": "5"] }
        let p = try plan("message.max.bytes=", admin)
        #expect(p.dynamicChanges.first?.nodes == [2])
        let report = try await ConfigApplier(client: admin, options: fast, logger: logger).apply(
            p, current: admin.current)
        #expect(report.succeeded)
        #expect(admin.current.entry("message.max.bytes", node: 2)?.source == .defaultConfig)
    }
}
