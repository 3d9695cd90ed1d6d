import Agent
import AgentSimDriver
import BallastTestSupport
import Foundation
import KafkaModel
import KafkaSim
import Server
import ServiceContract
import Testing

/// `ballast serve` against the simulator over TCP: the Kafka protocol for the cluster, the agent HTTP API (sim
/// driver) for the pool. The operations run on real time (the simulator at time scale 10); tests await the
/// operation's end (`ServiceEngine.finished`), never a fixed time.
@Suite("Service against the simulator")
struct ServiceSimTests {
    static func policy() -> EnginePolicy {
        var p = EnginePolicy()
        p.rebalance.timeouts.pollSeconds = 0.2
        p.pollInterval = .milliseconds(100)
        p.scaleCooldown = .seconds(3600)
        return p
    }

    static func yaml(_ sim: EmbeddedSimulator, agent: String? = nil, tokenFile: String? = nil, max: Int = 9) -> String {
        var y = """
            clusters:
              - name: sim
                bootstrap: \(sim.bootstrap)
                pools: {brokers: {min: 3, max: \(max)}}

            """
        if let agent, let tokenFile {
            y += "    agents: [{name: k8s-1, url: \"\(agent)\", tokenFile: \(tokenFile)}]\n"
        }
        return y
    }

    @Test("a dry run answers the proposal and its hash; executing by that hash moves exactly those partitions")
    func rebalanceDryRunThenExecuteByHash() async throws {
        let sim = try await SimRebalanceHarness.start(SimRebalanceHarness.model(), timeScale: 10)
        defer { Task { await sim.stop() } }
        try await ServiceHarness.with(clusters: Self.yaml(sim), policy: Self.policy()) { s in
            let before = SimRebalanceHarness.placement(sim)
            let dry = try await s.post("/v1/clusters/sim/rebalance", json: RebalanceRequest())
            #expect(dry.status == 200)
            let proposal = try dry.decode(RebalanceResponse.self)
            #expect(proposal.dryRun && proposal.operationId == nil)
            #expect(!proposal.proposal.moves.isEmpty)
            #expect(SimRebalanceHarness.placement(sim).mapValues(\.replicas) == before.mapValues(\.replicas))
            let run = try await s.post(
                "/v1/clusters/sim/rebalance", json: RebalanceRequest(dryRun: false, proposalHash: proposal.hash))
            #expect(run.status == 202)
            let started = try run.decode(RebalanceResponse.self)
            #expect(started.hash == proposal.hash)
            let id = try #require(started.operationId)
            let end = try await s.engine.finished(id)
            #expect(end.state == .succeeded, "\(end.error ?? "")")
            #expect(end.progress.done == proposal.proposal.moves.count)
            let after = SimRebalanceHarness.placement(sim)
            for m in proposal.proposal.moves {
                #expect(after[TopicPartition(m.topic, Int32(m.partition))]?.replicas.map(Int.init) == m.newReplicas)
            }
            #expect(SimRebalanceHarness.throttleConfigs(sim).isEmpty)
            let detail = try await s.call(.GET, "/v1/operations/\(id)").decode(OperationDetail.self)
            #expect(detail.events.contains { $0.message.hasPrefix("created by api") })
        }
    }

    @Test(
        "an upscale alert adds a broker through the sim agent and moves replicas onto it; a downscale alert drains it and removes it"
    )
    func upscaleThenDownscaleThroughTheSimAgent() async throws {
        // Six brokers with data everywhere: the upscale adds broker 7, the downscale removes it again.
        // The simulator is not stopped at the end: when a scale failed (a loaded machine), the agent's own scale
        // operation may still poll the simulator's control API, and a Hummingbird server shut down while a
        // connection arrives traps (NIOAsyncWriter deinited without finish). It ends with the test process.
        let sim = try await SimRebalanceHarness.start(
            SimRebalanceHarness.model(brokers: 6, on: [1, 2, 3, 4, 5, 6]), timeScale: 10)
        let (dir, _) = try ServiceHarness.tokenFiles()
        try "agent-token".write(toFile: dir + "/agent.token", atomically: true, encoding: .utf8)
        try await withAgent(driver: SimDriver(control: sim.controlURL), token: "agent-token") { agentURL in
            let yaml = Self.yaml(sim, agent: agentURL, tokenFile: dir + "/agent.token")
            try await ServiceHarness.with(clusters: yaml, policy: Self.policy()) { s in
                let up = Alerts.payload([
                    Alerts.alert(
                        "Hot", labels: ["ballast_action": "upscale", "kafka_cluster": "sim"], fingerprint: "u")
                ])
                let receipt = try await s.post("/v1/alerts", json: up).decode(AlertsReceipt.self)
                let upId = try #require(receipt.actions.first?.operationId)
                let upEnd = try await s.engine.finished(upId)
                #expect(upEnd.state == .succeeded, "\(upEnd.error ?? "")")
                let brokers = sim.simulator.withCluster { c in c.nodes.map(\.id) }
                #expect(brokers.contains(7))
                let onSeven = SimRebalanceHarness.placement(sim).values.filter { $0.replicas.contains(7) }.count
                #expect(onSeven > 0)

                let down = Alerts.payload([
                    Alerts.alert(
                        "Cold", labels: ["ballast_action": "downscale", "kafka_cluster": "sim"], fingerprint: "d")
                ])
                let downReceipt = try await s.post("/v1/alerts", json: down).decode(AlertsReceipt.self)
                let downId = try #require(downReceipt.actions.first?.operationId)
                let downEnd = try await s.engine.finished(downId)
                #expect(downEnd.state == .succeeded, "\(downEnd.error ?? "")")
                #expect(!sim.simulator.withCluster { c in c.nodes.filter { !$0.removed }.map(\.id) }.contains(7))
                #expect(SimRebalanceHarness.placement(sim).values.allSatisfy { !$0.replicas.contains(7) })
                // A resend of the upscale alert (Alertmanager repeats) does nothing.
                let resend = try await s.post("/v1/alerts", json: up).decode(AlertsReceipt.self)
                #expect(resend.duplicates == 1 && resend.actions.allSatisfy { $0.outcome == .duplicate })
            }
        }
    }
}
