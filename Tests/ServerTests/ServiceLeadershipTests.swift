import BallastStore
import Foundation
import KafkaModel
import ServiceConfig
import ServiceContract
import Synchronization
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
        // A lease far longer than the test: only giving it up hands it over, never a slow machine.
        var policy = EnginePolicy()
        policy.leaseTTL = .seconds(3600)
        let a = ServiceEngine(
            configuration: configuration, store: try SQLiteOperationsStore(file: dir + "/s.sqlite"), engineId: "a",
            policy: policy)
        let b = ServiceEngine(
            configuration: configuration, store: try SQLiteOperationsStore(file: dir + "/s.sqlite"), engineId: "b",
            policy: policy)
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

@Suite("Service operations: store writes in order")
struct ServiceWriteOrderTests {
    @Test(
        "an operation's store writes land in the order they were made: a progress write the store holds back does not put a finished operation back to running"
    )
    func writesOfOneOperationLandInOrder() async throws {
        let dir = NSTemporaryDirectory() + "writes-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = HeldWritesStore(try SQLiteOperationsStore(file: dir + "/s.sqlite"))
        // Not started, so not leading: the operation stays where the test puts it.
        let engine = ServiceEngine(
            configuration: try ServiceConfiguration.parse(yaml: unreachable), store: store, engineId: "a")
        let op = try await engine.create(
            cluster: "prod", kind: .rebalance, trigger: Trigger(source: .api), job: .init(), total: 1, unit: "moves")
        // A progress write the store is slow to commit (another connection of PostgreSQL's pool, a loaded machine)…
        store.holdNextWrite()
        let progress = Task { try await engine.update(op.id) { $0.summary.progress.message = "1/1 moves done" } }
        await store.untilAWriteIsHeld()
        // …and the final state, made after it.
        let final = Task { try await engine.update(op.id) { $0.summary.state = .succeeded } }
        while await engine.live[op.id] != nil { await Task.yield() }
        // Unordered, the final write reaches the store now; ordered, it waits for the held one.
        for _ in 0..<10_000 where !store.arrived("succeeded") { await Task.yield() }
        store.releaseHeldWrite()
        _ = try await progress.value
        _ = try await final.value
        #expect(store.commits == ["pending", "pending", "succeeded"], "the store committed \(store.commits)")
        let row = try #require(try await store.serviceOperations(ServiceOperationQuery(id: op.id, limit: 1)).first)
        #expect(row.state == "succeeded")
    }
}

/// A store whose next operation write can be held back before it reaches the database, recording in which order
/// operation writes arrive and commit (their states).
final class HeldWritesStore: ServiceRecordsStore {
    struct State {
        var holdNext = false
        var held: CheckedContinuation<Void, Never>?
        var heldWaiter: CheckedContinuation<Void, Never>?
        var arrivals: [String] = []
        var commits: [String] = []
    }
    let inner: SQLiteOperationsStore
    let state = Mutex(State())
    init(_ inner: SQLiteOperationsStore) { self.inner = inner }

    var arrivals: [String] { state.withLock { $0.arrivals } }
    var commits: [String] { state.withLock { $0.commits } }
    func arrived(_ s: String) -> Bool { arrivals.contains(s) }
    func holdNextWrite() { state.withLock { $0.holdNext = true } }
    func untilAWriteIsHeld() async {
        await withCheckedContinuation { c in
            let now = state.withLock { s -> Bool in
                if s.held != nil { return true }
                s.heldWaiter = c
                return false
            }
            if now { c.resume() }
        }
    }
    func releaseHeldWrite() {
        state.withLock { s in
            defer { s.held = nil }; return s.held
        }?.resume()
    }

    func putServiceOperation(_ operation: ServiceOperationRow) async throws(StoreError) {
        let hold = state.withLock { s in
            s.arrivals.append(operation.state)
            defer { s.holdNext = false }
            return s.holdNext
        }
        if hold {
            await withCheckedContinuation { c in
                state.withLock { s in
                    s.held = c
                    return s.heldWaiter.take()
                }?.resume()
            }
        }
        try await inner.putServiceOperation(operation)
        state.withLock { $0.commits.append(operation.state) }
    }

    var location: String { inner.location }
    func begin(operationId: String, kind: OperationKind, spec: Data, at: Date) async throws(StoreError) {
        try await inner.begin(operationId: operationId, kind: kind, spec: spec, at: at)
    }
    func record(_ operationId: String, batch: Int, node: Int32?, _ kind: RollStepKind, detail: String)
        async throws(StoreError)
    { try await inner.record(operationId, batch: batch, node: node, kind, detail: detail) }
    func steps(_ operationId: String) async throws(StoreError) -> [RollStep] { try await inner.steps(operationId) }
    func latestUnfinished(kind: OperationKind) async throws(StoreError) -> String? {
        try await inner.latestUnfinished(kind: kind)
    }
    func resumeState(_ operationId: String) async throws(StoreError) -> RollResumeState {
        try await inner.resumeState(operationId)
    }
    func acquireClusterLock(cluster: String, operationId: String, at: Date) async throws(StoreError) -> String? {
        try await inner.acquireClusterLock(cluster: cluster, operationId: operationId, at: at)
    }
    func releaseClusterLock(cluster: String, operationId: String) async throws(StoreError) {
        try await inner.releaseClusterLock(cluster: cluster, operationId: operationId)
    }
    func recordItems(_ operationId: String, _ items: [ItemState]) async throws(StoreError) {
        try await inner.recordItems(operationId, items)
    }
    func items(_ operationId: String) async throws(StoreError) -> [ItemState] { try await inner.items(operationId) }
    func saveSettings(_ operationId: String, _ settings: [SavedSetting]) async throws(StoreError) {
        try await inner.saveSettings(operationId, settings)
    }
    func savedSettings(_ operationId: String) async throws(StoreError) -> [SavedSetting] {
        try await inner.savedSettings(operationId)
    }
    func heartbeat(_ operationId: String, at: Date, runner: String) async throws(StoreError) {
        try await inner.heartbeat(operationId, at: at, runner: runner)
    }
    func requestStop(_ operationId: String, at: Date) async throws(StoreError) {
        try await inner.requestStop(operationId, at: at)
    }
    func operation(_ operationId: String) async throws(StoreError) -> OperationRecord? {
        try await inner.operation(operationId)
    }
    func latestRunning(kind: OperationKind) async throws(StoreError) -> String? {
        try await inner.latestRunning(kind: kind)
    }
    func clusterLockHolder(cluster: String) async throws(StoreError) -> String? {
        try await inner.clusterLockHolder(cluster: cluster)
    }
    func acquireLease(_ name: String, holder: String, ttl: Duration, now: Date) async throws(StoreError) -> Lease {
        try await inner.acquireLease(name, holder: holder, ttl: ttl, now: now)
    }
    func releaseLease(_ name: String, holder: String) async throws(StoreError) {
        try await inner.releaseLease(name, holder: holder)
    }
    func close() async { await inner.close() }
    func serviceOperations(_ query: ServiceOperationQuery) async throws(StoreError) -> [ServiceOperationRow] {
        try await inner.serviceOperations(query)
    }
    func appendEvent(_ operationId: String, _ event: ServiceEventRow, keep: Int) async throws(StoreError) {
        try await inner.appendEvent(operationId, event, keep: keep)
    }
    func events(_ operationId: String) async throws(StoreError) -> [ServiceEventRow] {
        try await inner.events(operationId)
    }
    func recordAlerts(_ alerts: [AlertRow]) async throws(StoreError) -> [Bool] { try await inner.recordAlerts(alerts) }
    func setAlertOutcome(_ key: AlertKey, outcome: String, operationId: String?) async throws(StoreError) {
        try await inner.setAlertOutcome(key, outcome: outcome, operationId: operationId)
    }
    func alerts(cluster: String?, limit: Int) async throws(StoreError) -> [AlertRow] {
        try await inner.alerts(cluster: cluster, limit: limit)
    }
}
