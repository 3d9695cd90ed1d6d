import BallastStore
import Foundation
import ServiceConfig
import ServiceContract
import Testing

@testable import Server

@Suite("Service leadership: the engine lease")
struct ServiceLeadershipTests {
    @Test(
        "of two engines on one store one leads; the other serves reads as standby and takes over when the lease is given up, resuming the queue"
    )
    func standbyTakesOver() async throws {
        let dir = NSTemporaryDirectory() + "lease-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configuration = try ServiceConfiguration.parse(yaml: unreachable)
        let a = ServiceEngine(
            configuration: configuration, store: try SQLiteOperationsStore(file: dir + "/s.sqlite"), engineId: "a")
        let b = ServiceEngine(
            configuration: configuration, store: try SQLiteOperationsStore(file: dir + "/s.sqlite"), engineId: "b")
        try await a.start()
        try await b.start()
        var ra = await a.readiness()
        var rb = await b.readiness()
        #expect(ra.leader && !rb.leader)
        #expect(ra.leaderEngine == "a" && rb.leaderEngine == "a")
        #expect(rb.ready, "a standby is ready: it serves reads")
        // A standby stores what it is given (alerts, operations) but runs nothing: the operation stays pending.
        let receipt = try await b.receiveAlerts(
            Alerts.payload([Alerts.alert("Cold", labels: ["ballast_action": "downscale", "kafka_cluster": "prod"])]))
        let id = try #require(receipt.actions.first?.operationId)
        #expect(try await a.operation(id).summary.state == .pending)
        // The leader gives the lease up (as at shutdown); the standby's next renewal wins it and runs the queue.
        await a.yieldLeadership()
        try await a.store.releaseLease(ServiceEngine.leaseName, holder: "a")
        await b.renewLease()
        rb = await b.readiness()
        #expect(rb.leader && rb.leaderEngine == "b")
        #expect((rb.leaseEpoch ?? 0) > (ra.leaseEpoch ?? 0))
        let end = try await b.finished(id)
        #expect(end.state == .failed, "the cluster is unreachable: what matters is that b ran it")
        await a.renewLease()
        ra = await a.readiness()
        #expect(!ra.leader && ra.leaderEngine == "b", "the lease is b's until it expires")
    }
}
