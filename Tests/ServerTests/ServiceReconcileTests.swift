import BallastTestSupport
import Foundation
import KafkaSim
import Server
import ServiceContract
import Testing

@Suite("Service reconcile: configs applied live")
struct ServiceReconcileTests {
    @Test(
        "a config-only desired state is applied live with no restart; the same state again is the same operation; a state the cluster has is a no-op; a restart-only key is refused naming it"
    )
    func configsLiveAndIdempotent() async throws {
        let sim = try await SimRebalanceHarness.start(SimRebalanceHarness.model(), timeScale: 10)
        defer { Task { await sim.stop() } }
        try await ServiceHarness.with(clusters: ServiceSimTests.yaml(sim), policy: ServiceSimTests.policy()) { s in
            let desired = ReconcileRequest(configs: .init(cluster: ["log.retention.ms": "259200000"]))
            let first = try await s.post("/v1/clusters/sim/reconcile", json: desired)
            #expect(first.status == 202, "\(first.text)")
            let plan = try first.decode(ReconcileResponse.self)
            #expect(!plan.noop && !plan.existing)
            #expect(plan.plan.configChanges.map(\.action) == ["dynamic"])
            #expect(plan.plan.restartNodes.isEmpty)
            let id = try #require(plan.operationId)
            let again = try await s.post("/v1/clusters/sim/reconcile", json: desired).decode(ReconcileResponse.self)
            #expect(again.existing && again.operationId == id)
            let end = try await s.engine.finished(id)
            #expect(end.state == .succeeded, "\(end.error ?? "")")
            #expect(sim.simulator.withCluster { c in c.clusterDefaultConfigs["log.retention.ms"] } == "259200000")
            let stopped = sim.simulator.withCluster { c in c.nodes.filter { $0.state != .running }.count }
            #expect(stopped == 0, "no broker restarted")
            // Another desired state that the cluster already has: nothing to do.
            let same = ReconcileRequest(configs: .init(cluster: ["log.retention.ms": "259200000"]), kafkaVersion: "4.1")
            let noop = try await s.post("/v1/clusters/sim/reconcile", json: same)
            #expect(noop.status == 200)
            #expect(try noop.decode(ReconcileResponse.self).noop)
            let readOnly = try await s.post(
                "/v1/clusters/sim/reconcile",
                json: ReconcileRequest(configs: .init(cluster: ["log.dirs": "/data/other"])))
            #expect(readOnly.status == 422)
            #expect(readOnly.error.contains("log.dirs"), "\(readOnly.error)")
        }
    }
}
