import BallastTestSupport
import Foundation
import KafkaModel
import KafkaWire
import Testing

@testable import KafkaSim

/// The "never comes back" fault: a node whose start fails dies at the end of the start-up delay instead of
/// registering, as combined nodes of Kafka 4.1.0 did while replaying an all-topics ClearElrRecord.
@Suite struct FaultTests {
    @Test func aNodeMarkedToFailItsStartGoesFromStartingToStoppedAndNeverRegisters() throws {
        var c = try smallCluster()
        try c.setFailStarts(1, of: 2)
        try c.stop(2)
        c.advance(to: c.settings.shutdownDurationMs)
        try c.start(2)
        c.advance(to: c.now + c.settings.startupDelayMs - 1)
        #expect(c.node(2)!.state == .starting)
        c.advance(to: c.now + 1)
        #expect(c.node(2)!.state == .stopped)
        #expect(c.node(2)!.fenced)
        #expect(c.node(2)!.failStarts == 0 && c.node(2)!.failedStarts == 1 && c.node(2)!.starts == 1)
        c.advance(to: c.now + 60_000)
        #expect(c.node(2)!.state == .stopped, "a dead process stays dead")
        #expect(c.partitions.allSatisfy { !$0.isr.contains(2) && $0.leader != 2 })
        #expect(c.healthCounts().offline == 0)
    }

    @Test func theFaultCoversOnlyTheGivenNumberOfStarts() throws {
        var c = try smallCluster()
        try c.setFailStarts(2, of: 3)
        try c.kill(3)
        for _ in 0..<2 {
            try c.start(3)
            c.advance(to: c.now + c.settings.startupDelayMs)
            #expect(c.node(3)!.state == .stopped)
        }
        try c.start(3)
        c.advance(to: c.now + c.settings.startupDelayMs)
        #expect(c.node(3)!.state == .running)
        #expect(c.node(3)!.starts == 3 && c.node(3)!.failedStarts == 2)
    }

    @Test func zeroClearsTheFaultAndANegativeCountOrUnknownNodeIsRefused() throws {
        var c = try smallCluster()
        try c.setFailStarts(1, of: 1)
        try c.setFailStarts(0, of: 1)
        try c.kill(1)
        try c.start(1)
        c.advance(to: c.now + c.settings.startupDelayMs)
        #expect(c.node(1)!.state == .running)
        #expect(throws: SimFailure.self) { try c.setFailStarts(-1, of: 1) }
        #expect(throws: SimFailure.self) { try c.setFailStarts(1, of: 42) }
    }

    /// Three combined nodes: one dead at start-up and one more down lose the quorum, which is why a roller must
    /// stop at the first node that does not come back.
    @Test func aCombinedNodeThatFailsToStartStaysOutOfTheQuorum() throws {
        var c = try cluster3()
        try c.setFailStarts(1, of: 1)
        try c.stop(1)
        c.advance(to: c.settings.shutdownDurationMs)
        try c.start(1)
        c.advance(to: c.now + c.settings.startupDelayMs)
        #expect(c.node(1)!.state == .stopped)
        #expect(c.quorum.hasLeader(in: c))
        try c.stop(2)
        c.advance(to: c.now + c.settings.shutdownDurationMs)
        #expect(!c.quorum.hasLeader(in: c))
    }

    @Test func theControlApiSetsTheFaultAndListsTheFailedStartAsStopped() async throws {
        var settings = SimSettings()
        settings.startupDelayMs = 500
        settings.shutdownDurationMs = 200
        var topo = SimTopology()
        topo.brokers = 3
        topo.racks = 3
        topo.topics = 1
        topo.partitions = 3
        let clock = ManualClock()
        let sim = try await RunningSim.start(try topo.build(settings: settings), timeScale: 10, clock: clock)
        let port = sim.controlPort
        var r = try await http("POST", port: port, "/v1/brokers/2/faults", body: #"{"failStarts": 1}"#)
        #expect(r.status == 200)
        #expect(r.body.contains(#""failStarts":1"#))
        r = try await http("POST", port: port, "/v1/brokers/9/faults", body: #"{"failStarts": 1}"#)
        #expect(r.status == 404)
        r = try await http("POST", port: port, "/v1/brokers/2/faults", body: #"{"failStarts": -1}"#)
        #expect(r.status == 409)
        r = try await http("POST", port: port, "/v1/brokers/2/kill")
        #expect(r.status == 200)
        r = try await http("POST", port: port, "/v1/brokers/2/start")
        #expect(r.body.contains(#""state":"starting""#))
        // The 500 ms (cluster) start-up delay: 50 ms of the clock at scale 10.
        clock.advance(by: .milliseconds(100))
        r = try await http("GET", port: port, "/v1/brokers")
        let listed = try JSONDecoder().decode(ControlAPI.NodeList.self, from: Data(r.body.utf8)).brokers
        let two = try #require(listed.first { $0.id == 2 })
        #expect(two.state == "stopped" && two.failedStarts == 1 && two.failStarts == 0 && two.starts == 1)
        #expect(sim.simulator.withCluster { $0.node(2)!.state } == .stopped)
        #expect(throws: (any Error).self) { try sim.client(2).request(ApiVersionsRequest(), version: 0) }
        await sim.stop()
    }
}

/// The model of Kafka 4.1.0's ClearElrRecord start-up crash (`SimCluster+ClearElrCrash.swift`), following
/// Scripts/realkafka-repro-clearelr.sh: create t2, delete it, change the cluster-default min.insync.replicas,
/// restart a node.
@Suite struct ClearElrCrashTests {
    static func reproSteps(_ c: inout SimCluster, deleteTopic: Bool = true) throws {
        try c.createTopic(name: "t2", partitions: 1, replicationFactor: 3)
        if deleteTopic { try c.deleteTopic(name: "t2") }
        try c.alterConfigs(
            .clusterDefault, [ConfigAlteration(name: "min.insync.replicas", value: "2")], incremental: true,
            validateOnly: false, answeringBroker: 1)
    }

    static func restart(_ c: inout SimCluster, _ id: Int32) throws {
        try c.stop(id)
        c.advance(to: c.now + c.settings.shutdownDurationMs)
        try c.start(id)
        c.advance(to: c.now + c.settings.startupDelayMs + 10_000)
    }

    @Test func aCombinedNodeRestartedAfterADeletionAndAClusterMinIsrChangeDiesAtStartUpEveryTime() throws {
        var c = try cluster3()
        try Self.reproSteps(&c)
        try Self.restart(&c, 1)
        #expect(c.node(1)!.state == .stopped && c.node(1)!.failedStarts == 1)
        // It cannot snapshot while down: the next start fails too, even an hour later.
        c.advance(to: c.now + 3_700_000)
        try c.start(1)
        c.advance(to: c.now + c.settings.startupDelayMs)
        #expect(c.node(1)!.state == .stopped && c.node(1)!.failedStarts == 2)
    }

    @Test func aBrokerOnlyNodeStaysUpWithoutEverRegistering() throws {
        var c = try smallCluster()
        try Self.reproSteps(&c)
        try Self.restart(&c, 2)
        c.advance(to: c.now + 60_000)
        #expect(c.node(2)!.state == .starting && c.node(2)!.failedStarts == 1)
        #expect(!c.node(2)!.isAliveInMetadata && !c.node(2)!.isServing)
        #expect(c.partitions.allSatisfy { !$0.isr.contains(2) })
        // It can still be stopped (the operator's way out).
        try c.stop(2)
        c.advance(to: c.now + c.settings.shutdownDurationMs)
        #expect(c.node(2)!.state == .stopped)
    }

    @Test func withoutTheDeletedTopicOrAfterAMetadataSnapshotTheRestartIsFine() throws {
        var noDelete = try cluster3()
        try Self.reproSteps(&noDelete, deleteTopic: false)
        try Self.restart(&noDelete, 1)
        #expect(noDelete.node(1)!.state == .running)

        var snapshotted = try cluster3()
        try Self.reproSteps(&snapshotted)
        snapshotted.advance(to: snapshotted.now + 3_600_000)
        try Self.restart(&snapshotted, 1)
        #expect(snapshotted.node(1)!.state == .running)
    }

    @Test func theSnapshotIntervalCountsFromTheNodesLastSnapshotNotFromTheDeletion() throws {
        var c = try cluster3()
        c.advance(to: 3_000_000)
        try Self.reproSteps(&c)
        // The node snapshotted at 0 and takes its next one at 3 600 000: after that the restart is fine.
        c.advance(to: 3_599_000)
        #expect(c.node(2)!.clearElrCrashOnStart)
        c.advance(to: 3_600_000)
        #expect(!c.node(2)!.clearElrCrashOnStart)
        try Self.restart(&c, 2)
        #expect(c.node(2)!.state == .running)
    }

    @Test func otherVersionsAndTheSettingTurnTheModelOff() throws {
        var topology = SimTopology()
        topology.brokers = 3
        topology.topics = 1
        var off = SimSettings()
        off.modelClearElrStartupCrash = false
        let clusters = [
            try topology.build(catalog: SimConfigCatalog.kafka("3.9")!), try topology.build(settings: off),
        ]
        for var c in clusters {
            #expect(!c.modelsClearElrStartupCrash)
            try Self.reproSteps(&c)
            try Self.restart(&c, 1)
            #expect(c.node(1)!.state == .running)
        }
    }
}
