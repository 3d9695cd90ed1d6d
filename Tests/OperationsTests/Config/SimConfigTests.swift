import AgentContract
import BallastStore
import BallastTestSupport
import KafkaAdmin
import KafkaModel
import KafkaPolicies
import KafkaSim
import Logging
import Roller
import Testing

@testable import ConfigPlanning
@testable import Operations

/// The classifier and applier against the simulator over TCP, through KafkaAdmin: what is planned dynamic is
/// accepted and verified, what is planned restart the simulator refuses live, and a second plan is empty.
@Suite(.serialized) struct SimConfigTests {
    /// The simulator, and node 1 alone as the bootstrap server.
    func startSim() async throws -> (EmbeddedSimulator, String) {
        var topo = SimTopology()
        topo.brokers = 3
        topo.racks = 3
        topo.topics = 1
        topo.partitions = 3
        let sim = try await EmbeddedSimulator.start(try topo.build())
        let port = sim.simulator.withCluster { $0.node(1)!.port }
        return (sim, "127.0.0.1:\(port)")
    }

    func snapshot(_ client: KafkaAdminConfigClient) async throws -> CurrentClusterConfig {
        let ids = try await client.brokerIDs()
        return CurrentClusterConfig(
            nodes: try await client.describeBrokerConfigs(nodes: ids),
            clusterDefault: try await client.describeClusterDefaultConfigs())
    }

    @Test func dynamicChangesApplyAndRestartChangesAreRefusedLive() async throws {
        let (sim, bootstrap) = try await startSim()
        defer { sim.cancel() }
        let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrap: bootstrap))
        let client = KafkaAdminConfigClient(admin: admin)
        let classifier = ConfigClassifier(version: KafkaVersion(major: 4, minor: 1))
        let before = try await snapshot(client)
        #expect(before.nodeIDs == [1, 2, 3])

        let desired = try DesiredConfig(
            parsing: """
                log.retention.ms=259200000
                message.max.bytes=2000000
                log.cleaner.threads=2
                num.partitions=6
                log.retention.hours=72
                """)
        let plan = classifier.plan(desired: desired, current: before)
        #expect(plan.dynamicChanges.map(\.key) == ["log.retention.ms", "message.max.bytes", "log.cleaner.threads"])
        #expect(plan.changes.filter { $0.action == .restart }.map(\.key) == ["num.partitions", "log.retention.hours"])

        let applier = ConfigApplier(
            client: client, options: .init(verifyTimeout: .seconds(10), pollInterval: .milliseconds(100)),
            logger: Logger(label: "test"))
        let report = try await applier.apply(plan, current: before)
        #expect(report.succeeded, "\(report.results)")
        let after = try await snapshot(client)
        for node: Int32 in [1, 2, 3] {
            #expect(after.entry("log.retention.ms", node: node)?.value == "259200000")
            #expect(after.entry("message.max.bytes", node: node)?.source == .dynamicDefaultBroker)
        }
        #expect(classifier.plan(desired: desired, current: after).dynamicChanges.isEmpty)

        for change in plan.changes where change.action == .restart {
            let op = PlannedAlteration(target: .broker(1), key: change.key, operation: .set(change.to ?? ""))
            let answer = try await client.incrementalAlterConfigs([.broker(1): [op]], validateOnly: true)
            #expect((answer[.broker(1)] ?? nil) != nil, "the simulator accepted \(change.key) live")
        }

        let revert = try DesiredConfig(parsing: "log.retention.ms=\nmessage.max.bytes=\nlog.cleaner.threads=")
        let revertReport = try await applier.apply(classifier.plan(desired: revert, current: after), current: after)
        #expect(revertReport.succeeded)
        let restored = try await snapshot(client)
        #expect(restored.clusterDefault["message.max.bytes"] == nil)
        await admin.shutdown()
    }
}
