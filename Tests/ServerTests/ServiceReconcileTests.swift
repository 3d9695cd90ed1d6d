import Agent
import AgentContract
import AgentSimDriver
import BallastStore
import BallastTestSupport
import Foundation
import KafkaModel
import KafkaSim
import ServiceConfig
import ServiceContract
import Synchronization
import Testing

@testable import Server

/// A sim agent driver that counts the restarts it carries out, per node: "exactly once" is read from it.
final class CountingDriver: NodeDriver {
    let driver: SimDriver
    let counts = Mutex<[Int32: Int]>([:])

    init(_ sim: EmbeddedSimulator) {
        driver = SimDriver(control: sim.controlURL, pollMilliseconds: 20, requestTimeout: .seconds(120))
    }

    func nodes() async throws -> [AgentNode] { try await driver.nodes() }
    func restart(node: Int32) async throws {
        counts.withLock { $0[node, default: 0] += 1 }
        try await driver.restart(node: node)
    }
    func pools() async throws -> [AgentPool] { try await driver.pools() }
    func scale(pool: String, replicas: Int) async throws { try await driver.scale(pool: pool, replicas: replicas) }

    var restarts: [Int32: Int] { counts.withLock { $0 } }
}

/// Reconcile against the simulator over TCP, through the sim agent over HTTP: configs applied live, rolls for
/// read-only keys and restart generations (the roll runner, its journal, alerts and the API holding it between
/// batches), and pools scaled. Operations run on real time (the simulator at time scale 10); the tests await an
/// operation's end (`ServiceEngine.finished`), and poll its event log only where they must see it hold (the API has no
/// push), with a generous deadline.
@Suite("Service reconcile", .serialized)
struct ServiceReconcileTests {
    static func policy(maxBatch: Int? = nil) -> EnginePolicy {
        var p = ServiceSimTests.policy()
        p.roll.timeouts.pollSeconds = 0.2
        p.roll.maxBatch = maxBatch
        return p
    }

    /// Runs `body` with a service whose cluster `sim` has one sim agent (counting restarts) managing every broker.
    static func withService(
        _ sim: EmbeddedSimulator, policy: EnginePolicy = policy(), min: Int = 3, max: Int = 9,
        _ body: @Sendable (ServiceHarness, CountingDriver) async throws -> Void
    ) async throws {
        let (dir, _) = try ServiceHarness.tokenFiles()
        try "agent-token".write(toFile: dir + "/agent.token", atomically: true, encoding: .utf8)
        let driver = CountingDriver(sim)
        try await withAgent(driver: driver, token: "agent-token") { agentURL in
            let yaml = """
                clusters:
                  - name: sim
                    bootstrap: \(sim.bootstrap)
                    pools: {brokers: {min: \(min), max: \(max)}}
                    agents: [{name: k8s-1, url: "\(agentURL)", tokenFile: \(dir)/agent.token}]

                """
            try await ServiceHarness.with(clusters: yaml, policy: policy) { s in try await body(s, driver) }
        }
    }

    static func events(_ s: ServiceHarness, _ id: String) async throws -> [String] {
        try await s.call(.GET, "/v1/operations/\(id)").decode(OperationDetail.self).events.map(\.message)
    }

    @Test(
        "a config-only desired state is applied live with no restart; the same state again is the same operation; a state the cluster has is a no-op; a node's own key for the whole cluster is refused naming it"
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
            #expect(plan.operation?.kind == .config)
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
            let nodeOwn = try await s.post(
                "/v1/clusters/sim/reconcile",
                json: ReconcileRequest(configs: .init(cluster: ["log.dirs": "/data/other"])))
            #expect(nodeOwn.status == 422)
            #expect(nodeOwn.error.contains("log.dirs"), "\(nodeOwn.error)")
        }
    }

    @Test(
        "a read-only change on two brokers (their server.properties edited first) rolls exactly those two, once each, with an acks=all producer seeing no failed delivery; the values are in effect afterwards; the same desired state again is the same operation"
    )
    func readOnlyChangeRollsTheAffectedBrokersOnce() async throws {
        guard AcksAllProducer.isAvailable else {
            Issue.record("python3-confluent-kafka is missing (Scripts/test.sh installs it)")
            return
        }
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        let topics = sim.simulator.withCluster { c in c.topics.map(\.name) }
        let producer = try await AcksAllProducer.start(bootstrap: sim.bootstrap, topics: topics)
        try await Self.withService(sim) { s, driver in
            // The operator changes the brokers' static configuration first; the running brokers keep the old value.
            #expect(Self.editServerProperties(sim, ["num.partitions": "3"], of: [4, 8]))
            let desired = ReconcileRequest(
                configs: .init(brokers: ["4": ["num.partitions": "3"], "8": ["num.partitions": "3"]]))
            let answer = try await s.post("/v1/clusters/sim/reconcile", json: desired)
            #expect(answer.status == 202, "\(answer.text)")
            let response = try answer.decode(ReconcileResponse.self)
            #expect(response.plan.restartNodes == [4, 8])
            #expect(response.plan.configChanges.allSatisfy { $0.action == "restart" })
            #expect(Set((response.plan.batches ?? []).flatMap { $0 }) == [4, 8], "\(response.plan)")
            #expect(response.plan.steps.contains { $0.contains("roll node(s) 4,8 for num.partitions") })
            let op = try #require(response.operation)
            #expect(op.kind == .roll && op.progress.total == 2)
            let again = try await s.post("/v1/clusters/sim/reconcile", json: desired)
            #expect(again.status == 200)
            #expect(try again.decode(ReconcileResponse.self).operationId == op.id)
            let end = try await s.engine.finished(op.id)
            #expect(end.state == .succeeded, "\(end.error ?? "")")
            #expect(end.progress.done == 2 && end.progress.total == 2)
            #expect(driver.restarts == [4: 1, 8: 1])
            // The roll went through the journal and the cluster lock like `ballast roll`.
            let steps = try await s.engine.store.steps(op.id)
            #expect(steps.filter { $0.kind == .restartRequested }.compactMap(\.node).sorted() == [4, 8])
            #expect(steps.last?.kind == .finished)
            let events = try await Self.events(s, op.id)
            #expect(events.contains { $0.hasPrefix("batch 1: restarting node(s)") }, "\(events)")
            #expect(events.contains("the desired read-only values are in effect on every broker"), "\(events)")
            #expect(Self.staticValue(sim, "num.partitions", of: [4, 8]) == ["3", "3"])
        }
        let counts = try await producer.stop()
        #expect(counts.ok > 0)
        #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
        #expect(counts.ok == counts.sent)
    }

    @Test(
        "a read-only change whose server.properties nobody edited: the roll restarts the broker, reads the value back, and fails naming broker, key, actual and expected value; the same desired state again is refused with 409 naming them, nothing restarted again"
    )
    func readOnlyValueNotInEffectFailsTheRoll() async throws {
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        try await Self.withService(sim) { s, driver in
            let desired = ReconcileRequest(configs: .init(brokers: ["4": ["num.partitions": "3"]]))
            let answer = try await s.post("/v1/clusters/sim/reconcile", json: desired)
            #expect(answer.status == 202, "\(answer.text)")
            let id = try #require(try answer.decode(ReconcileResponse.self).operationId)
            let end = try await s.engine.finished(id)
            #expect(end.state == .failed)
            let reason = end.error ?? ""
            // The simulator's default (1): the broker kept it across its restart.
            #expect(reason.contains("broker 4 reports num.partitions='1', expected '3'"), "\(reason)")
            #expect(reason.contains("server.properties"), "\(reason)")
            #expect(driver.restarts == [4: 1], "the roll itself ran: \(driver.restarts)")

            let again = try await s.post("/v1/clusters/sim/reconcile", json: desired)
            #expect(again.status == 409, "\(again.text)")
            #expect(
                again.error.contains(id) && again.error.contains("broker 4 reports num.partitions"), "\(again.error)")
            #expect(again.error.contains("higher restart.generation"), "\(again.error)")
            let rolls = try await s.engine.operations(cluster: "sim", state: nil, kind: .roll, limit: 10)
            #expect(rolls.map(\.id) == [id], "no new operation")
            #expect(driver.restarts == [4: 1])
        }
    }

    /// Edits server.properties of the simulator's nodes (read at their next start).
    static func editServerProperties(_ sim: EmbeddedSimulator, _ configs: [String: String], of ids: [Int32]) -> Bool {
        sim.simulator.withCluster { c in
            ids.allSatisfy { id in (try? c.editServerProperties(configs, of: id)) != nil }
        }
    }

    /// The static value of `key` on each node (nil: not set, the default applies).
    static func staticValue(_ sim: EmbeddedSimulator, _ key: String, of ids: [Int32]) -> [String?] {
        sim.simulator.withCluster { c in ids.map { id in c.node(id)?.staticConfigs[key] } }
    }

    @Test(
        "a new restart generation rolls every node once; the same generation again, or an older one, is a no-op once rolled"
    )
    func generationRollsEveryNodeOnce() async throws {
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        try await Self.withService(sim) { s, driver in
            let desired = ReconcileRequest(restart: .init(generation: 7, reason: "new image"))
            let answer = try await s.post("/v1/clusters/sim/reconcile", json: desired)
            #expect(answer.status == 202, "\(answer.text)")
            let response = try answer.decode(ReconcileResponse.self)
            #expect(response.plan.restartNodes == Array(1...9))
            #expect(response.plan.restartReason == "new image")
            let id = try #require(response.operationId)
            let end = try await s.engine.finished(id)
            #expect(end.state == .succeeded, "\(end.error ?? "")")
            #expect(driver.restarts == Dictionary(uniqueKeysWithValues: (1...9).map { (Int32($0), 1) }))
            for generation in [7, 6] as [Int64] {
                let later = try await s.post(
                    "/v1/clusters/sim/reconcile",
                    json: ReconcileRequest(restart: .init(generation: generation, reason: "resent by the operator")))
                #expect(later.status == 200, "\(later.text)")
                #expect(try later.decode(ReconcileResponse.self).noop)
            }
            #expect(driver.restarts.values.allSatisfy { $0 == 1 })
        }
    }

    @Test(
        "a firing pause-rollouts alert holds a running roll between batches and its resolution resumes it; a pause through the API holds it too until resumed; every node restarts once"
    )
    func alertsAndTheAPIHoldARollBetweenBatches() async throws {
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        try await Self.withService(sim, policy: Self.policy(maxBatch: 1)) { s, driver in
            let answer = try await s.post(
                "/v1/clusters/sim/reconcile", json: ReconcileRequest(restart: .init(generation: 1)))
            let id = try #require(try answer.decode(ReconcileResponse.self).operationId, "\(answer.text)")
            // Once the first batch is done, an alert pauses rolls on the cluster.
            #expect(
                try await ServiceAlertmanagerTests.eventually {
                    try await s.engine.operation(id).summary.progress.done >= 1
                })
            let pause = Alerts.alert(
                "KafkaUnderReplicated", labels: ["ballast_action": "pause-rollouts", "kafka_cluster": "sim"],
                fingerprint: "pause-1")
            #expect(try await s.post("/v1/alerts", json: Alerts.payload([pause])).status == 200)
            #expect(
                try await ServiceAlertmanagerTests.eventually {
                    try await Self.events(s, id).contains {
                        $0.hasPrefix("held between batches: alert KafkaUnderReplicated")
                    }
                })
            // Held at the gate: every batch started has ended, some nodes are left.
            let steps = try await s.engine.store.steps(id)
            #expect(steps.filter { $0.kind == .batchStarted }.count == steps.filter { $0.kind == .batchDone }.count)
            let heldAt = driver.restarts.count
            #expect(heldAt >= 1 && heldAt < 9, "\(driver.restarts)")
            #expect(try await s.engine.operation(id).summary.state == .running)

            var resolved = pause
            resolved.status = "resolved"
            resolved.endsAt = "2026-12-01T08:10:00Z"
            #expect(try await s.post("/v1/alerts", json: Alerts.payload([resolved])).status == 200)
            #expect(
                try await ServiceAlertmanagerTests.eventually {
                    try await Self.events(s, id).contains { $0.hasPrefix("nothing holds the roll any more") }
                })
            // A pause through the API: the roll holds again before its next batch, until resumed.
            let paused = try await s.call(.POST, "/v1/operations/\(id)/pause")
            #expect(paused.status == 200, "\(paused.text)")
            // The answer is the operation as GET shows it, its events included.
            let pausedDetail = try paused.decode(OperationDetail.self)
            #expect(pausedDetail.summary.state == .paused)
            #expect(pausedDetail.events.contains { $0.message.hasPrefix("paused: the roll holds") })
            #expect(
                try await ServiceAlertmanagerTests.eventually {
                    try await Self.events(s, id).contains {
                        $0.hasPrefix("held between batches: paused through the API")
                    }
                })
            #expect(driver.restarts.count < 9, "the roll held before its end: \(driver.restarts)")
            let resumed = try await s.call(.POST, "/v1/operations/\(id)/resume")
            #expect(try resumed.decode(OperationSummary.self).state == .running)
            let end = try await s.engine.finished(id)
            #expect(end.state == .succeeded, "\(end.error ?? "")")
            #expect(driver.restarts == Dictionary(uniqueKeysWithValues: (1...9).map { (Int32($0), 1) }))
        }
    }

    @Test(
        "a roll running when its engine stops is resumed from its journal by the engine that takes the lease over: every node restarted exactly once"
    )
    func takeoverResumesTheRollFromItsJournal() async throws {
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        let (dir, tokensLine) = try ServiceHarness.tokenFiles()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "agent-token".write(toFile: dir + "/agent.token", atomically: true, encoding: .utf8)
        let driver = CountingDriver(sim)
        try await withAgent(driver: driver, token: "agent-token") { agentURL in
            let configuration = try ServiceConfiguration.parse(
                yaml: """
                    \(tokensLine)
                    clusters:
                      - name: sim
                        bootstrap: \(sim.bootstrap)
                        agents: [{name: k8s-1, url: "\(agentURL)", tokenFile: \(dir)/agent.token}]
                    """)
            // A lease far longer than the test: only giving it up hands it over.
            var policy = Self.policy(maxBatch: 1)
            policy.leaseTTL = .seconds(3600)
            let a = ServiceEngine(
                configuration: configuration, store: try SQLiteOperationsStore(file: dir + "/s.sqlite"),
                engineId: "a", policy: policy)
            let b = ServiceEngine(
                configuration: configuration, store: try SQLiteOperationsStore(file: dir + "/s.sqlite"),
                engineId: "b", policy: policy)
            try await a.start()
            try await b.start()
            let (response, _) = try await a.reconcile("sim", ReconcileRequest(restart: .init(generation: 1)))
            let id = try #require(response.operationId)
            #expect(
                try await ServiceAlertmanagerTests.eventually {
                    try await a.operation(id).summary.progress.done >= 2
                })
            // The leader stops mid-roll (a restart may be under way) and gives the lease up.
            await a.stop()
            await a.yieldLeadership()
            try await a.store.releaseLease(ServiceEngine.leaseName, holder: "a")
            #expect(try await b.operation(id).summary.state == .running)
            let before = driver.restarts.count
            #expect(before < 9)
            await b.renewLease()
            let end = try await b.finished(id)
            #expect(end.state == .succeeded, "\(end.error ?? "")")
            #expect(driver.restarts == Dictionary(uniqueKeysWithValues: (1...9).map { (Int32($0), 1) }))
            let events = try await b.operation(id).events.map(\.message)
            #expect(events.contains { $0.hasPrefix("the roll resumes from its journal") }, "\(events)")
            await b.stop()
        }
    }

    @Test(
        "a roll paused through the API keeps the cluster across a takeover: a rebalance accepted by the new leader waits in the queue behind it, the resumed roll finishes (every node once), then the rebalance runs without waiting for a lock"
    )
    func pausedRollKeepsItsPlaceAcrossATakeover() async throws {
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        let (dir, tokensLine) = try ServiceHarness.tokenFiles()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "agent-token".write(toFile: dir + "/agent.token", atomically: true, encoding: .utf8)
        let driver = CountingDriver(sim)
        try await withAgent(driver: driver, token: "agent-token") { agentURL in
            let configuration = try ServiceConfiguration.parse(
                yaml: """
                    \(tokensLine)
                    clusters:
                      - name: sim
                        bootstrap: \(sim.bootstrap)
                        agents: [{name: k8s-1, url: "\(agentURL)", tokenFile: \(dir)/agent.token}]
                    """)
            var policy = Self.policy(maxBatch: 1)
            policy.leaseTTL = .seconds(3600)
            let a = ServiceEngine(
                configuration: configuration, store: try SQLiteOperationsStore(file: dir + "/s.sqlite"),
                engineId: "a", policy: policy)
            let b = ServiceEngine(
                configuration: configuration, store: try SQLiteOperationsStore(file: dir + "/s.sqlite"),
                engineId: "b", policy: policy)
            try await a.start()
            try await b.start()
            let (response, _) = try await a.reconcile("sim", ReconcileRequest(restart: .init(generation: 1)))
            let id = try #require(response.operationId)
            #expect(
                try await ServiceAlertmanagerTests.eventually { try await a.operation(id).summary.progress.done >= 1 })
            #expect(try await a.pause(id).state == .paused)
            #expect(
                try await ServiceAlertmanagerTests.eventually {
                    try await a.operation(id).events.contains {
                        $0.message.hasPrefix("held between batches: paused through the API")
                    }
                })
            // The leader stops with the roll paused (its journal open, the cluster lock its) and hands the lease over.
            await a.stop()
            await a.yieldLeadership()
            try await a.store.releaseLease(ServiceEngine.leaseName, holder: "a")
            await b.renewLease()
            #expect(
                try await ServiceAlertmanagerTests.eventually {
                    try await b.operation(id).events.filter {
                        $0.message.hasPrefix("held between batches: paused through the API")
                    }.count == 2
                })
            #expect(try await b.operation(id).summary.state == .paused)
            let restartsWhilePaused = driver.restarts
            #expect(restartsWhilePaused.count < 9)

            // A rebalance accepted by the new leader: one replica to another broker of its rack.
            let move = try #require(Self.sameRackMove(sim))
            let job = try JSONDecoder().decode(
                OperationBody.Job.self,
                from: JSONSerialization.data(withJSONObject: [
                    "mode": "rebalance",
                    "moves": [
                        [
                            "topic": move.topic, "partition": move.partition, "oldReplicas": move.old,
                            "newReplicas": move.new, "oldLeader": move.leader, "newLeader": move.new[0],
                            "dataToMoveMiB": 0, "crossCluster": false,
                        ]
                    ],
                ]))
            let rebalance = try await b.create(
                cluster: "sim", kind: .rebalance, trigger: Trigger(source: .api, detail: "test"), job: job, total: 1,
                unit: "moves")
            let held = try await b.status("sim")
            #expect(held.lockHolder == id)
            #expect(held.operations.map(\.id) == [id, rebalance.id], "the paused roll first, the rebalance behind it")
            #expect(try await b.operation(rebalance.id).summary.state == .pending)
            #expect(driver.restarts == restartsWhilePaused, "nothing restarts while paused")

            #expect(try await b.resume(id).state == .running)
            // A deadlock would leave both waiting for ever: polled with a deadline for a loaded machine, not awaited.
            #expect(try await Self.ends(b, rebalance.id, within: .seconds(600)))
            let roll = try await b.operation(id)
            #expect(roll.summary.state == .succeeded, "\(roll.summary.error ?? "")")
            #expect(driver.restarts == Dictionary(uniqueKeysWithValues: (1...9).map { (Int32($0), 1) }))
            let moved = try await b.operation(rebalance.id)
            #expect(moved.summary.state == .succeeded, "\(moved.summary.error ?? "")")
            let started = try #require(moved.events.first { $0.message.hasPrefix("started by engine b") })
            #expect(started.at >= roll.summary.updatedAt, "the rebalance started once the roll had ended")
            #expect(
                !moved.events.contains { $0.message.hasPrefix("waiting: Kafka cluster") }, "it never waited at the lock"
            )
            let placed = SimRebalanceHarness.placement(sim)[TopicPartition(move.topic, Int32(move.partition))]
            #expect(placed?.replicas.map(Int.init) == move.new)
            await b.stop()
        }
    }

    /// Polls until the operation has ended; false when the deadline passed first.
    static func ends(_ engine: ServiceEngine, _ id: String, within: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if try await engine.operation(id).summary.state.isFinal { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// A move of one partition's last replica to a broker of the same rack that does not hold it.
    static func sameRackMove(_ sim: EmbeddedSimulator) -> (
        topic: String, partition: Int, old: [Int], new: [Int], leader: Int
    )? {
        let racks = sim.simulator.withCluster { c in
            Dictionary(uniqueKeysWithValues: c.nodes.filter(\.isBroker).map { ($0.id, $0.rack ?? "") })
        }
        for (tp, p) in SimRebalanceHarness.placement(sim).sorted(by: { "\($0.key)" < "\($1.key)" }) {
            guard let last = p.replicas.last,
                let other = racks.keys.sorted().first(where: { racks[$0] == racks[last] && !p.replicas.contains($0) })
            else { continue }
            let new = p.replicas.dropLast().map(Int.init) + [Int(other)]
            return (tp.topic, Int(tp.partition), p.replicas.map(Int.init), new, Int(p.leader))
        }
        return nil
    }

    @Test("a cancel reaches a running roll between batches: it ends cancelled, its journal ended and its lock released")
    func cancelStopsARollBetweenBatches() async throws {
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        try await Self.withService(sim, policy: Self.policy(maxBatch: 1)) { s, driver in
            let answer = try await s.post(
                "/v1/clusters/sim/reconcile", json: ReconcileRequest(restart: .init(generation: 1)))
            let id = try #require(try answer.decode(ReconcileResponse.self).operationId, "\(answer.text)")
            #expect(
                try await ServiceAlertmanagerTests.eventually {
                    try await s.engine.operation(id).summary.progress.done >= 1
                })
            #expect(try await s.call(.POST, "/v1/operations/\(id)/cancel").status == 200)
            let end = try await s.engine.finished(id)
            #expect(end.state == .cancelled, "\(end.progress.message ?? "")")
            #expect(driver.restarts.count < 9 && driver.restarts.values.allSatisfy { $0 == 1 })
            #expect(try await s.engine.store.operation(id)?.status == .failed)
            let status = try await s.call(.GET, "/v1/clusters/sim").decode(ClusterStatus.self)
            #expect(status.lockHolder == nil)
        }
    }

    @Test(
        "a pools change scales up (the new broker registers and takes replicas), then back down (the broker drained to nothing before the pool shrinks), with an acks=all producer seeing no failed delivery"
    )
    func poolsScaleUpThenDown() async throws {
        // Not stopped at the end: see ServiceSimTests.upscaleThenDownscaleThroughTheSimAgent.
        let sim = try await SimRebalanceHarness.start(
            SimRebalanceHarness.model(brokers: 6, on: [1, 2, 3, 4, 5, 6]), timeScale: 10)
        guard AcksAllProducer.isAvailable else {
            Issue.record("python3-confluent-kafka is missing (Scripts/test.sh installs it)")
            return
        }
        let topics = sim.simulator.withCluster { c in c.topics.map(\.name) }
        let producer = try await AcksAllProducer.start(bootstrap: sim.bootstrap, topics: topics)
        try await Self.withService(sim) { s, _ in
            let up = try await s.post(
                "/v1/clusters/sim/reconcile", json: ReconcileRequest(pools: ["brokers": Array(1...7)]))
            #expect(up.status == 202, "\(up.text)")
            let upPlan = try up.decode(ReconcileResponse.self)
            #expect(upPlan.plan.scale == [.init(pool: "brokers", direction: "up", add: [7], remove: [])])
            #expect(upPlan.operation?.kind == .upscale)
            let upEnd = try await s.engine.finished(try #require(upPlan.operationId))
            #expect(upEnd.state == .succeeded, "\(upEnd.error ?? "")")
            #expect(SimRebalanceHarness.placement(sim).values.contains { $0.replicas.contains(7) })

            let down = try await s.post(
                "/v1/clusters/sim/reconcile", json: ReconcileRequest(pools: ["brokers": Array(1...6)]))
            #expect(down.status == 202, "\(down.text)")
            let downPlan = try down.decode(ReconcileResponse.self)
            #expect(downPlan.plan.scale == [.init(pool: "brokers", direction: "down", add: [], remove: [7])])
            let downId = try #require(downPlan.operationId)
            let downEnd = try await s.engine.finished(downId)
            #expect(downEnd.state == .succeeded, "\(downEnd.error ?? "")")
            // Its progress counts the moves that emptied broker 7, and says so.
            #expect(downEnd.progress.unit == "moves", "\(downEnd.progress)")
            #expect(!sim.simulator.withCluster { c in c.nodes.filter { !$0.removed }.map(\.id) }.contains(7))
            #expect(SimRebalanceHarness.placement(sim).values.allSatisfy { !$0.replicas.contains(7) })
            // The moves off broker 7 ended before the agent scaled the pool down.
            let events = try await Self.events(s, downId)
            let scaled = try #require(events.firstIndex { $0.hasPrefix("the agent scaled pool brokers to 6") })
            let moved = try #require(events.lastIndex { $0.hasPrefix("moveDone") || $0.contains("finished") })
            #expect(moved < scaled, "\(events)")
            // The same desired state again: the same operation.
            let again = try await s.post(
                "/v1/clusters/sim/reconcile", json: ReconcileRequest(pools: ["brokers": Array(1...6)]))
            #expect(try again.decode(ReconcileResponse.self).operationId == downId)
        }
        let counts = try await producer.stop()
        #expect(counts.ok > 0)
        #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
        #expect(counts.ok == counts.sent)
    }

    @Test(
        "pools targets that cannot be reached safely are 422 naming why: an unknown pool, beyond the limits, an addition and a removal at once, not the highest ids, a controller removed"
    )
    func invalidPoolTargetsAre422() async throws {
        let sim = try await SimRebalanceHarness.start(SimRebalanceHarness.model(), timeScale: 10)
        defer { Task { await sim.stop() } }
        try await Self.withService(sim, min: 1, max: 7) { s, _ in
            let cases: [([String: [Int]], String)] = [
                (["pool-x": [1, 2, 3]], "no agent of cluster sim manages pool pool-x"),
                (["brokers": Array(1...8)], "above the pool's maximum of 7"),
                (["brokers": [1, 2, 3, 4, 5, 7]], "at once"),
                (["brokers": [1, 2, 3, 4, 6]], "highest ids"),
                // 3, among the highest ids, is a KRaft voter (the replication factor case: `downscaleRefusals`).
                (["brokers": [1, 2]], "broker 3 is a controller"),
            ]
            for (pools, why) in cases {
                let answer = try await s.post("/v1/clusters/sim/reconcile", json: ReconcileRequest(pools: pools))
                #expect(answer.status == 422, "\(pools): \(answer.text)")
                #expect(answer.error.contains(why), "\(pools): \(answer.error)")
            }
            let bad = try await s.post(
                "/v1/clusters/sim/reconcile", json: ReconcileRequest(pools: ["brokers": [1, 1]]))
            #expect(bad.status == 400)
            let ops = try await s.engine.operations(cluster: "sim", state: nil, kind: nil, limit: 10)
            #expect(ops.isEmpty, "nothing stored")
        }
    }

    @Test("a downscale that would remove a controller, or leave fewer brokers than a replication factor, is refused")
    func downscaleRefusals() {
        let snapshot = ClusterSnapshot(
            clusterId: "c", controllerId: 3,
            brokers: (1...4).map { BrokerInfo(id: Int32($0), host: "h", port: 9092) },
            topics: [
                TopicInfo(
                    name: "t", minInSyncReplicas: 2,
                    partitions: [
                        PartitionInfo(topic: "t", partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3])
                    ])
            ])
        #expect(ServiceEngine.downscaleRefusal(snapshot, removing: [3])?.contains("controller") == true)
        #expect(ServiceEngine.downscaleRefusal(snapshot, removing: [4, 2])?.contains("replication factor") == true)
        #expect(ServiceEngine.downscaleRefusal(snapshot, removing: [4]) == nil)
    }
}
