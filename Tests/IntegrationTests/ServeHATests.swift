import AgentSimDriver
import BallastTestSupport
import Foundation
import KafkaModel
import KafkaSim
import ServiceContract
import Testing

/// Two `ballast serve` processes on one real PostgreSQL database (Debian's `postgresql`, `initdb` in a temp
/// directory by `TestPostgres`) and one simulated Kafka cluster over TCP: the leader is killed with SIGKILL in the
/// middle of a throttled rebalance, the standby takes the `engine` lease and finishes the operation from the
/// journal; the same in the middle of a roll (reconcile's restart generation, the agent in the test process over
/// HTTP with the sim driver). The engines are other processes and announce nothing the test can await but their HTTP API, so the test
/// polls it (every 100 ms; deadlines of minutes only because a debug build on a loaded 2-core machine is slow).
@Suite(
    .serialized, .enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"),
    .enabled(if: TestPostgres.isAvailable, Comment(rawValue: TestPostgres.skipReason)))
struct ServeHATests {
    /// The simulator runs 10 cluster seconds per real second; throttles are cluster bytes per second.
    static let timeScale = 10.0

    static func yaml(engine: String, store: String, sim: EmbeddedSimulator, agent: String? = nil, dir: String = "")
        -> String
    {
        """
        listen: 127.0.0.1:0
        store: \(store)
        engineId: \(engine)
        leaseSeconds: 3
        clusters:
          - name: sim
            bootstrap: \(sim.bootstrap)
            pools: {brokers: {min: 3, max: 9}}

        """ + (agent.map { "    agents: [{name: k8s-1, url: \"\($0)\", tokenFile: \(dir)/agent.token}]\n" } ?? "")
    }

    @Test(
        "the leader killed with SIGKILL mid-rebalance: the standby takes the lease and finishes it, every move started once, no throttle left"
    )
    func sigkillMidRebalance() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try await postgres.createDatabase()
        let store = postgres.url(database: database)
        // Data on brokers 1-3 only; add-brokers 4,5,6 at a 300 kB/s throttle: more moves per destination broker than
        // the executor runs at once (5), so the kill leaves moves done, in flight and not started.
        let sim = try await SimRebalanceHarness.start(
            SimRebalanceHarness.model(on: [1, 2, 3], partitions: 16, mib: 2), timeScale: Self.timeScale)
        defer { sim.cancel() }
        let dir = NSTemporaryDirectory() + "serve-ha-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let a = try await ServeProcess.start(
            Self.yaml(engine: "engine-a", store: store, sim: sim), in: dir, name: "a")
        defer { if a.child.process.isRunning { a.child.kill9() } }
        #expect(try await eventually { try await a.call(.GET, "/readyz").decode(Readiness.self).leader })
        let b = try await ServeProcess.start(
            Self.yaml(engine: "engine-b", store: store, sim: sim), in: dir, name: "b")
        defer { if b.child.process.isRunning { b.child.kill9() } }
        let standby = try await b.call(.GET, "/readyz").decode(Readiness.self)
        #expect(!standby.leader && standby.leaderEngine == "engine-a", "\(standby)")

        let started = try await a.post(
            "/v1/clusters/sim/rebalance",
            json: RebalanceRequest(
                dryRun: false, mode: "add-brokers", brokers: [4, 5, 6], throttleBytesPerSecond: 300_000))
        #expect(started.status == 202, "\(started.text)")
        let response = try started.decode(RebalanceResponse.self)
        let id = try #require(response.operationId)
        let moves = response.proposal.moves
        #expect(moves.count > 15, "enough moves that the kill lands mid-run")

        // Killed once a move is done while others are in flight (the simulator lists them) and others not started.
        #expect(
            try await eventually {
                let p = try await b.call(.GET, "/v1/operations/\(id)").decode(OperationDetail.self).summary.progress
                let inFlight = sim.simulator.withCluster { $0.listReassignments().count }
                return p.done >= 1 && inFlight >= 1 && p.done + inFlight < moves.count
            }, "the rebalance reached a point with moves done, in flight and not started")
        a.child.kill9()
        let killedAt = ContinuousClock.now
        await a.child.exit()
        let atKill = try await b.call(.GET, "/v1/operations/\(id)").decode(OperationDetail.self).summary.progress
        let inFlight = sim.simulator.withCluster { $0.listReassignments().count }

        // The standby takes the lease once the dead leader's expires (leaseSeconds 3, renewed every second).
        #expect(try await eventually { try await b.call(.GET, "/readyz").decode(Readiness.self).leader })
        let takeover = ContinuousClock.now - killedAt
        let lease = try await b.call(.GET, "/readyz").decode(Readiness.self)
        #expect(lease.leaderEngine == "engine-b" && (lease.leaseEpoch ?? 0) >= 2, "\(lease)")
        print(
            "serve HA: SIGKILL at \(atKill.done)/\(atKill.total) moves done (\(inFlight) in flight); engine-b led "
                + "\(takeover) after the kill (leaseSeconds 3)")
        #expect(takeover < .seconds(60), "takeover took \(takeover)")

        #expect(
            try await finishes(id, on: b), "the standby finished the operation")
        let detail = try await b.call(.GET, "/v1/operations/\(id)").decode(OperationDetail.self)
        #expect(detail.summary.state == .succeeded, "\(detail.summary.error ?? "") \(b.child.stderr.suffix(3000))")
        #expect(detail.summary.progress.done == moves.count)
        #expect(detail.events.contains { $0.message == "started by engine engine-a" })
        #expect(detail.events.contains { $0.message == "started by engine engine-b" })

        // Every move applied once: the simulator counts each AlterPartitionReassignments that started (or replaced)
        // a partition's reassignment, and the journal holds each move done once.
        let submitted = sim.simulator.withCluster { $0.stats.reassignmentsStarted }
        #expect(submitted.values.allSatisfy { $0 == 1 }, "a move was submitted twice: \(submitted)")
        #expect(Set(submitted.keys) == Set(moves.map { TopicPartition($0.topic, Int32($0.partition)) }))
        let journal = try await postgres.psql(
            database: database, "SELECT state, count(*) FROM ballast_items WHERE operation_id = '\(id)' GROUP BY state")
        #expect(journal.trimmingCharacters(in: .whitespacesAndNewlines) == "done|\(moves.count)", "\(journal)")
        let placement = SimRebalanceHarness.placement(sim)
        for m in moves {
            let tp = TopicPartition(m.topic, Int32(m.partition))
            #expect(placement[tp]?.replicas.map(Int.init) == m.newReplicas, "\(tp)")
        }
        #expect(SimRebalanceHarness.throttleConfigs(sim).isEmpty, "\(SimRebalanceHarness.throttleConfigs(sim))")
        #expect(sim.simulator.withCluster { $0.listReassignments() }.isEmpty)
        await b.stop()
    }

    /// Starts asked of each node since the simulator began (a restart is one).
    static func starts(_ sim: EmbeddedSimulator) -> [Int32: Int] {
        sim.simulator.withCluster { c in Dictionary(uniqueKeysWithValues: c.nodes.map { ($0.id, $0.starts) }) }
    }

    @Test(
        "the leader killed with SIGKILL mid-roll: the standby takes the lease and resumes the roll from its journal, every broker restarted exactly once"
    )
    func sigkillMidRoll() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try await postgres.createDatabase()
        let store = postgres.url(database: database)
        let sim = try await SimRollHarness.start()
        defer { sim.cancel() }
        let dir = NSTemporaryDirectory() + "serve-ha-roll-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "agent-token".write(toFile: dir + "/agent.token", atomically: true, encoding: .utf8)
        let before = Self.starts(sim)
        try await withAgent(
            driver: SimDriver(control: sim.controlURL, pollMilliseconds: 20, requestTimeout: .seconds(120)),
            token: "agent-token"
        ) { agent in
            let a = try await ServeProcess.start(
                Self.yaml(engine: "engine-a", store: store, sim: sim, agent: agent, dir: dir), in: dir, name: "a")
            defer { if a.child.process.isRunning { a.child.kill9() } }
            #expect(try await eventually { try await a.call(.GET, "/readyz").decode(Readiness.self).leader })
            let b = try await ServeProcess.start(
                Self.yaml(engine: "engine-b", store: store, sim: sim, agent: agent, dir: dir), in: dir, name: "b")
            defer { if b.child.process.isRunning { b.child.kill9() } }

            let answer = try await a.post(
                "/v1/clusters/sim/reconcile", json: ReconcileRequest(restart: .init(generation: 1, reason: "new image"))
            )
            #expect(answer.status == 202, "\(answer.text)")
            let id = try #require(try answer.decode(ReconcileResponse.self).operationId, "\(answer.text)")
            // Killed once a batch is done and others are not.
            #expect(
                try await eventually {
                    let p = try await b.call(.GET, "/v1/operations/\(id)").decode(OperationDetail.self).summary.progress
                    return p.done >= 1 && p.done < p.total
                }, "the roll restarted some brokers")
            a.child.kill9()
            let killedAt = ContinuousClock.now
            await a.child.exit()
            let atKill = try await b.call(.GET, "/v1/operations/\(id)").decode(OperationDetail.self).summary.progress
            let restartedAtKill = Self.starts(sim).filter { $0.value > before[$0.key] ?? 0 }.count

            #expect(try await eventually { try await b.call(.GET, "/readyz").decode(Readiness.self).leader })
            let takeover = ContinuousClock.now - killedAt
            print(
                "serve HA roll: SIGKILL at \(atKill.done)/\(atKill.total) nodes done (\(restartedAtKill) brokers asked "
                    + "to restart by then); engine-b led \(takeover) after the kill (leaseSeconds 3)")
            #expect(
                try await finishes(id, on: b), "the standby finished the roll")
            let detail = try await b.call(.GET, "/v1/operations/\(id)").decode(OperationDetail.self)
            #expect(detail.summary.state == .succeeded, "\(detail.summary.error ?? "") \(b.child.stderr.suffix(3000))")
            #expect(detail.events.contains { $0.message == "started by engine engine-a" })
            #expect(detail.events.contains { $0.message == "started by engine engine-b" })
            // Every broker restarted exactly once: the simulator counts the starts asked of each node.
            let after = Self.starts(sim)
            let restarted = after.map { ($0.key, $0.value - (before[$0.key] ?? 0)) }
            #expect(restarted.allSatisfy { $0.1 == 1 }, "starts per node: \(restarted.sorted { $0.0 < $1.0 })")
            #expect(restarted.count == 9)
            await b.stop()
        }
    }
}
