import BallastTestSupport
import Foundation
import KafkaModel
import KafkaSim
import Testing

/// `ballast rebalance` as a process against the simulator over TCP, with a real acks=all client (librdkafka,
/// retries off) producing to every partition throughout: add-brokers, remove-brokers, a full rebalance and
/// fix-offline carried out exactly; a kill -9 then `--resume`; `--stop` from another process; a destination
/// broker killed; a stale proposal; and bad usage.
@Suite(
    .serialized, .enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"),
    .enabled(if: AcksAllProducer.isAvailable, "needs python3-confluent-kafka (Scripts/test.sh installs it)"))
struct RebalanceCLITests {
    /// The simulator runs 10 cluster seconds per real second; the throttle is in cluster bytes per second.
    static let timeScale = 10.0

    struct Run {
        let sim: EmbeddedSimulator
        let dir: String

        static func start(_ model: ClusterModelFile) async throws -> Run {
            let dir = NSTemporaryDirectory() + "ballast-rebalance-cli-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return Run(sim: try await SimRebalanceHarness.start(model, timeScale: timeScale), dir: dir)
        }

        func end() {
            sim.cancel()
            try? FileManager.default.removeItem(atPath: dir)
        }

        var topics: [String] { sim.simulator.withCluster { c in c.liveTopics.map(\.name) } }

        /// Writes a rebalance policy file (fast polls; the rest as given) and returns the flags that use it.
        func policy(_ json: String = "{}") throws -> [String] {
            let path = dir + "/policy-\(UUID().uuidString).json"
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            return ["--policy", path, "--poll", "0.1"]
        }

        // Every command gets `--timeout 60`: success is what is tested, and a debug build on a loaded 2-core
        // machine can take seconds to answer.

        /// `ballast plan --json` to a file: the proposal and its hash.
        func plan(_ flags: [String]) async throws -> (path: String, hash: String, moves: [[String: Any]]) {
            let r = try await ballast(["plan", "--bootstrap", sim.bootstrap, "--timeout", "60", "--json"] + flags)
            #expect(r.status == 0, "plan: \(r.stderr)")
            let path = dir + "/proposal-\(UUID().uuidString).json"
            try Data(r.stdout.utf8).write(to: URL(fileURLWithPath: path))
            let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            return (path, try #require(o["hash"] as? String), try #require(o["moves"] as? [[String: Any]]))
        }

        func rebalance(_ flags: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ballast(
                ["rebalance", "--bootstrap", sim.bootstrap, "--timeout", "60", "--state-dir", dir] + flags)
        }

        /// Each proposed move's partition now has the proposed replicas, in order, and the proposed leader.
        func expectPlacement(_ moves: [[String: Any]], except: Set<String> = []) {
            let placement = SimRebalanceHarness.placement(sim)
            for m in moves {
                let tp = TopicPartition(m["topic"] as! String, Int32(m["partition"] as! Int))
                guard !except.contains(tp.description) else { continue }
                let want = (m["newReplicas"] as! [Int]).map(Int32.init)
                #expect(placement[tp]?.replicas == want, "\(tp)")
                #expect(placement[tp]?.leader == want[0], "\(tp)")
            }
        }
    }

    static func events(_ stdout: String, _ name: String) -> [[String: Any]] {
        stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }.filter { $0["event"] as? String == name }
    }

    static func isEvent(_ name: String) -> @Sendable (String) -> Bool {
        { $0.contains("\"event\":\"\(name)\"") }
    }

    // MARK: The four modes, under load

    @Test func addBrokersMovesDataOntoThreeEmptyBrokersExactlyAsProposedWithoutOneFailedDelivery() async throws {
        let run = try await Run.start(SimRebalanceHarness.model(on: [1, 2, 3], mib: 1))
        defer { run.end() }
        let producer = try await AcksAllProducer.start(bootstrap: run.sim.bootstrap, topics: run.topics)
        let proposal = try await run.plan(["--mode", "add-brokers", "--brokers", "4,5,6"])
        let r = try await run.rebalance(
            ["--proposal", proposal.path, "--execute", "--throttle", "1000000"] + (try run.policy()))
        let counts = try await producer.stop()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(proposal.hash))
        #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
        #expect(counts.ok > 0)
        run.expectPlacement(proposal.moves)
        let held = SimRebalanceHarness.placement(run.sim).values.flatMap(\.replicas)
        for b: Int32 in [4, 5, 6] { #expect(held.contains(b)) }
        #expect(SimRebalanceHarness.throttleConfigs(run.sim).isEmpty)
    }

    @Test func removeBrokersLeavesTheRemovedBrokerWithNothingAndNoThrottle() async throws {
        let run = try await Run.start(SimRebalanceHarness.model(on: [1, 2, 3, 4, 5, 6], mib: 1))
        defer { run.end() }
        let producer = try await AcksAllProducer.start(bootstrap: run.sim.bootstrap, topics: run.topics)
        // Planned live by `rebalance` itself, as an operator would run it.
        let r = try await run.rebalance(
            ["--mode", "remove-brokers", "--brokers", "6", "--execute", "--throttle", "1000000", "--json"]
                + (try run.policy()))
        let counts = try await producer.stop()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
        let placement = SimRebalanceHarness.placement(run.sim)
        #expect(!placement.values.contains { $0.replicas.contains(6) })
        #expect(placement.values.allSatisfy { $0.leader == $0.replicas[0] })
        #expect(SimRebalanceHarness.throttleConfigs(run.sim).isEmpty)
        let finished = try #require(Self.events(r.stdout, "finished").first)
        #expect(finished["outcome"] as? String == "completed")
    }

    @Test func aFullRebalanceIsCarriedOutExactlyAsProposed() async throws {
        let run = try await Run.start(SimRebalanceHarness.model(on: [1, 2, 3, 4], mib: 1))
        defer { run.end() }
        let producer = try await AcksAllProducer.start(bootstrap: run.sim.bootstrap, topics: run.topics)
        let proposal = try await run.plan(["--mode", "rebalance"])
        #expect(!proposal.moves.isEmpty)
        let r = try await run.rebalance(
            ["--proposal", proposal.path, "--execute", "--throttle", "1000000"] + (try run.policy()))
        let counts = try await producer.stop()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
        run.expectPlacement(proposal.moves)
        #expect(SimRebalanceHarness.throttleConfigs(run.sim).isEmpty)
    }

    @Test func fixOfflineMovesTheReplicasOfADeadBrokerAsProposed() async throws {
        var model = SimRebalanceHarness.model(on: [1, 2, 3, 4, 5, 6], mib: 1)
        model.brokers[5].state = .dead
        let run = try await Run.start(model)
        defer { run.end() }
        let producer = try await AcksAllProducer.start(bootstrap: run.sim.bootstrap, topics: run.topics)
        let proposal = try await run.plan(["--mode", "fix-offline"])
        #expect(proposal.moves.contains { ($0["oldReplicas"] as! [Int]).contains(6) })
        let r = try await run.rebalance(
            ["--proposal", proposal.path, "--execute", "--throttle", "1000000"] + (try run.policy()))
        let counts = try await producer.stop()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
        run.expectPlacement(proposal.moves)
        #expect(!SimRebalanceHarness.placement(run.sim).values.contains { $0.replicas.contains(6) })
        #expect(SimRebalanceHarness.throttleConfigs(run.sim).isEmpty)
    }

    // MARK: Crash, stop, failures

    @Test func aKilledExecutionIsResumedWithoutStartingAMoveTwiceAndRestoresEveryThrottle() async throws {
        let run = try await Run.start(SimRebalanceHarness.model(on: [1, 2, 3], mib: 2))
        defer { run.end() }
        // Throttles an operator set before the rebalance, on a broker and a topic the rebalance uses.
        try run.sim.simulator.withCluster { c in
            try c.alterConfigs(
                .broker(4), [.init(name: "follower.replication.throttled.rate", value: "123456")], incremental: true,
                validateOnly: false, answeringBroker: 4)
            try c.alterConfigs(
                .topic("topic-0"), [.init(name: "leader.replication.throttled.replicas", value: "0:9")],
                incremental: true, validateOnly: false, answeringBroker: 1)
        }
        let before = SimRebalanceHarness.throttleConfigs(run.sim)
        let producer = try await AcksAllProducer.start(bootstrap: run.sim.bootstrap, topics: run.topics)
        let proposal = try await run.plan(["--mode", "add-brokers", "--brokers", "4,5,6"])
        let policy = try run.policy(#"{"movesPerBroker": 2}"#)
        let first = try ChildProcess(
            ballastBinary!,
            [
                "rebalance", "--bootstrap", run.sim.bootstrap, "--timeout", "60", "--state-dir", run.dir,
                "--proposal", proposal.path,
                "--execute", "--throttle", "300000", "--json",
            ] + policy)
        // Killed right after it started a batch, once a move is done: moves done, in flight and pending.
        #expect(await first.firstLine(where: Self.isEvent("moveDone")) != nil, "\(first.stderr)")
        #expect(await first.firstLine(from: first.lines.count, where: Self.isEvent("movesStarted")) != nil)
        first.kill9()
        await first.exit()
        let inFlight = Set(
            run.sim.simulator.withCluster { c in c.listReassignments().map { "\($0.topic)-\($0.partition)" } })
        #expect(!inFlight.isEmpty, "the kill should leave moves in flight")

        // While it is down, the cluster stays locked: a roll is refused, naming the rebalance.
        let roll = try await ballast(
            ["roll", "--bootstrap", run.sim.bootstrap, "--agent", "http://127.0.0.1:1", "--state-dir", run.dir],
            environment: ["BALLAST_AGENT_TOKEN": "t"])
        #expect(roll.status == 1)
        #expect(roll.stderr.contains("locked by rebalance"), "\(roll.stderr)")

        let resumed = try await run.rebalance(["--resume", "--json"])
        let counts = try await producer.stop()
        #expect(resumed.status == 0, "\(resumed.stderr)")
        // Each move in flight at the kill is followed to its end, never started again: adopted if Kafka still lists
        // it when the resume first reads, or found reassigned if Kafka finished it while no Ballast ran (the
        // simulator runs at 10x real time: on a loaded machine a 2 MiB move can end before the resume starts).
        let adopted = Set(Self.events(resumed.stdout, "moveAdopted").compactMap { $0["partition"] as? String })
        let reassigned = Set(
            Self.events(resumed.stdout, "moveReassigned").compactMap { $0["partition"] as? String })
        #expect(adopted.isSubset(of: inFlight), "adopted \(adopted), in flight at the kill \(inFlight)")
        #expect(inFlight.isSubset(of: adopted.union(reassigned)), "\(resumed.stdout)")
        let started = run.sim.simulator.withCluster { $0.stats.reassignmentsStarted }
        #expect(started.values.allSatisfy { $0 == 1 }, "a move was started twice: \(started)")
        run.expectPlacement(proposal.moves)
        #expect(SimRebalanceHarness.throttleConfigs(run.sim) == before)
        #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
    }

    @Test func stopFromAnotherProcessRevertsTheMovesInFlightKeepsTheDoneOnesAndRestoresThrottles() async throws {
        let run = try await Run.start(SimRebalanceHarness.model(on: [1, 2, 3], mib: 2))
        defer { run.end() }
        let producer = try await AcksAllProducer.start(bootstrap: run.sim.bootstrap, topics: run.topics)
        let before = SimRebalanceHarness.placement(run.sim)
        let proposal = try await run.plan(["--mode", "add-brokers", "--brokers", "4,5,6"])
        let policy = try run.policy(#"{"movesPerBroker": 2}"#)
        let executing = try ChildProcess(
            ballastBinary!,
            [
                "rebalance", "--bootstrap", run.sim.bootstrap, "--timeout", "60", "--state-dir", run.dir,
                "--proposal", proposal.path,
                "--execute", "--throttle", "100000", "--json",
            ] + policy)
        #expect(await executing.firstLine(where: Self.isEvent("moveDone")) != nil, "\(executing.stderr)")
        #expect(await executing.firstLine(from: executing.lines.count, where: Self.isEvent("movesStarted")) != nil)
        // 100 kB/s: the batch's moves share a broker's rate, so a 2 MiB move takes about 40 s of cluster time (4 s of
        // real time at the simulator's 10x) and is still in flight when the stop arrives from a process slow to start
        // on a loaded machine (at 300 kB/s, at load 12, every move had ended before it did; at 30 kB/s, below the
        // producer's rate, the moves crawled and the test took 157 s).
        let stop = try await ballast(["rebalance", "--stop", "--state-dir", run.dir])
        let status = await executing.exit()
        let counts = try await producer.stop()
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(status == 1)
        #expect(executing.stderr.contains("stopped by request"), "\(executing.stderr)")
        #expect(run.sim.simulator.withCluster { $0.listReassignments() }.isEmpty)
        let after = SimRebalanceHarness.placement(run.sim)
        var done = 0
        var reverted = 0
        for m in proposal.moves {
            let tp = TopicPartition(m["topic"] as! String, Int32(m["partition"] as! Int))
            let now = after[tp]?.replicas
            if now == (m["newReplicas"] as! [Int]).map(Int32.init) {
                done += 1
            } else {
                #expect(now == before[tp]?.replicas, "\(tp) is neither done nor reverted: \(now ?? [])")
                reverted += 1
            }
        }
        #expect(done >= 1 && reverted >= 1)
        let cancelled = Self.events(executing.stdout, "moveCancelled")
        #expect(!cancelled.isEmpty && cancelled.allSatisfy { $0["reason"] as? String == "stopped by request" })
        #expect(SimRebalanceHarness.throttleConfigs(run.sim).isEmpty)
        #expect(counts.failed == 0, "failed deliveries: \(counts.errors)")
    }

    @Test func aDestinationBrokerKilledMidRunCancelsOnlyItsMovesAndTheRestFinish() async throws {
        let run = try await Run.start(SimRebalanceHarness.model(on: [1, 2, 3], mib: 2))
        defer { run.end() }
        let proposal = try await run.plan(["--mode", "add-brokers", "--brokers", "4,5,6"])
        let toSix = Set(
            proposal.moves.filter {
                ($0["newReplicas"] as! [Int]).contains(6) && !($0["oldReplicas"] as! [Int]).contains(6)
            }.map { "\($0["topic"] as! String)-\($0["partition"] as! Int)" })
        #expect(!toSix.isEmpty)
        // The dead broker is given 1 s (real) of grace, enough for the simulator to fence it (0.9 s).
        let policy = try run.policy(#"{"movesPerBroker": 2, "timeouts": {"deadBrokerSeconds": 1}}"#)
        let executing = try ChildProcess(
            ballastBinary!,
            [
                "rebalance", "--bootstrap", run.sim.bootstrap, "--timeout", "60", "--state-dir", run.dir,
                "--proposal", proposal.path,
                "--execute", "--throttle", "300000", "--json",
            ] + policy)
        let started = await executing.firstLine { line in
            toSix.contains { line.contains("\"movesStarted\"") && line.contains("\"\($0)\"") }
        }
        #expect(started != nil, "\(executing.stderr)")
        try run.sim.simulator.withCluster { try $0.kill(6) }
        let status = await executing.exit()
        #expect(status == 1)
        let cancelled = Set(Self.events(executing.stdout, "moveCancelled").compactMap { $0["partition"] as? String })
        let notDone = cancelled.union(
            Self.events(executing.stdout, "moveSkipped").compactMap { $0["partition"] as? String })
        // Only moves that need broker 6 are not done; those that had finished before the kill stay done.
        #expect(!cancelled.isEmpty)
        #expect(notDone.isSubset(of: toSix), "cancelled or refused: \(notDone), needing broker 6: \(toSix)")
        #expect(executing.stderr.contains("destination broker 6"), "\(executing.stderr)")
        #expect(executing.stderr.contains(cancelled.sorted()[0]), "\(executing.stderr)")
        run.expectPlacement(proposal.moves, except: notDone)
        #expect(run.sim.simulator.withCluster { $0.listReassignments() }.isEmpty)
        // Broker 6 is down, so its own rate cannot be restored: only that may be left, and it is reported.
        #expect(SimRebalanceHarness.throttleConfigs(run.sim).keys.allSatisfy { $0.hasPrefix("broker 6 ") })
    }

    @Test func aStaleProposalIsRefusedMoveByMoveWithReasons() async throws {
        let run = try await Run.start(SimRebalanceHarness.model(on: [1, 2, 3], mib: 1))
        defer { run.end() }
        let proposal = try await run.plan(["--mode", "add-brokers", "--brokers", "4,5,6"])
        let first = try #require(proposal.moves.first)
        let tp = "\(first["topic"] as! String)-\(first["partition"] as! Int)"
        // The partition changes after planning: someone reorders its replicas.
        let old = (first["oldReplicas"] as! [Int]).map(Int32.init)
        try run.sim.simulator.withCluster { c in
            try c.alterReassignment(
                topic: first["topic"] as! String, partition: Int32(first["partition"] as! Int),
                target: Array(old.reversed()))
        }
        let dry = try await run.rebalance(["--proposal", proposal.path])
        #expect(dry.status == 1)
        #expect(dry.stdout.contains("refused: \(tp): stale"), "\(dry.stdout)")
        let r = try await run.rebalance(
            ["--proposal", proposal.path, "--execute", "--throttle", "1000000", "--json"] + (try run.policy()))
        #expect(r.status == 1)
        let skipped = Self.events(r.stdout, "moveSkipped")
        #expect(skipped.count == 1)
        #expect(skipped.first?["partition"] as? String == tp)
        #expect((skipped.first?["reason"] as? String)?.contains("stale: its replicas are") == true)
        #expect(r.stderr.contains(tp))
        run.expectPlacement(proposal.moves, except: [tp])
        #expect(SimRebalanceHarness.throttleConfigs(run.sim).isEmpty)
    }

    // MARK: Usage

    @Test func aProposalWhoseMovesWereEditedAfterPlanningIsRefused() async throws {
        let run = try await Run.start(SimRebalanceHarness.model(on: [1, 2, 3], mib: 1))
        defer { run.end() }
        let proposal = try await run.plan(["--mode", "add-brokers", "--brokers", "4,5,6"])
        // Someone swaps the first two new replicas of one move, keeping the hash the planner wrote.
        var object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: proposal.path)))
                as? [String: Any])
        var moves = try #require(object["moves"] as? [[String: Any]])
        var replicas = try #require(moves[0]["newReplicas"] as? [Int])
        replicas.swapAt(0, 1)
        moves[0]["newReplicas"] = replicas
        moves[0]["newLeader"] = replicas[0]
        object["moves"] = moves
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: proposal.path))
        let r = try await run.rebalance(["--proposal", proposal.path, "--execute"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("the moves were changed after planning"), "\(r.stderr)")
        #expect(run.sim.simulator.withCluster { $0.stats.reassignmentsStarted }.isEmpty)
    }

    // MARK: Live load

    /// A fixture Prometheus HTTP API (`GET /api/v1/query`): per-topic byte rates for the default queries and for
    /// the overrides `my_bytesin` / `my_bytesout`; any other query is refused as Prometheus refuses bad PromQL.
    /// Prints its port.
    static let prometheusAPI = #"""
        import http.server, json, signal, urllib.parse
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        rates = {"in": {"hot": 600 * 1024, "cold": 6 * 1024}, "out": {"hot": 1500 * 1024, "cold": 0}}
        known = {
            'sum by (topic) (rate(kafka_server_brokertopicmetrics_bytesin_total{topic!=""}[5m]))': "in",
            'sum by (topic) (rate(kafka_server_brokertopicmetrics_bytesout_total{topic!=""}[5m]))': "out",
            "my_bytesin": "in", "my_bytesout": "out"}
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(url.query).get("query", [""])[0]
                kind = known.get(query) if url.path == "/api/v1/query" else None
                if kind is None:
                    code, body = 400, {"status": "error", "errorType": "bad_data", "error": "parse error"}
                else:
                    result = [{"metric": {"topic": t}, "value": [1, str(v)]} for t, v in rates[kind].items()]
                    code, body = 200, {"status": "success", "data": {"resultType": "vector", "result": result}}
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

    @Test func prometheusRatesFeedTheNetworkGoalsOfALivePlanAndItsQueriesCanBeOverridden() async throws {
        // Disk and replica counts balanced; one topic, on brokers 1-3, takes almost all the traffic.
        let racks = ["rack-a", "rack-b", "rack-c"]
        let brokers = (1...6).map { id in
            ClusterModelFile.Broker(
                id: Int32(id), rack: racks[(id - 1) % 3], cluster: "k8s-1", state: .alive,
                capacity: .init(disk: 100_000))
        }
        let topics = [("hot", [Int32(1), 2, 3]), ("cold", [4, 5, 6])].map { name, replicas in
            ClusterModelFile.Topic(
                name: name, minInSyncReplicas: 2,
                partitions: (0..<6).map { p in
                    let r: [Int32] = (0..<3).map { replicas[(p + $0) % 3] }
                    return ClusterModelFile.Partition(id: Int32(p), replicas: r, leader: r[0], load: .init(disk: 1))
                })
        }
        let run = try await Run.start(ClusterModelFile(brokers: brokers, topics: topics))
        defer { run.end() }
        let prometheus = try ChildProcess("/usr/bin/python3", ["-c", Self.prometheusAPI])
        defer { prometheus.kill9() }
        let port = try #require(await prometheus.firstLine { Int($0) != nil })
        let url = "http://127.0.0.1:\(port)"
        let goals = ["--goals", "NetworkInDistribution,NetworkOutDistribution"]

        // Without live load the network goals see nothing to do.
        let blind = try await run.rebalance(goals)
        #expect(blind.status == 0, "\(blind.stderr)")
        #expect(blind.stdout.contains(": 0 move(s)"), "\(blind.stdout)")

        for flags in [
            ["--prometheus", url],
            [
                "--prometheus", url, "--prometheus-bytes-in-query", "my_bytesin", "--prometheus-bytes-out-query",
                "my_bytesout",
            ],
        ] {
            let informed = try await run.rebalance(goals + flags)
            #expect(informed.status == 0, "\(flags): \(informed.stderr)")
            let netIn = informed.stdout.split(separator: "\n").first { $0.hasPrefix("NetworkInDistribution") }
            #expect(netIn?.contains("FAIL    ok") == true, "\(flags): \(informed.stdout)")
            #expect(!informed.stdout.contains(": 0 move(s)"), "\(flags): \(informed.stdout)")
            #expect(informed.stdout.contains("  hot-"), "\(flags): \(informed.stdout)")
        }

        // A query Prometheus refuses fails the command (exit 1), quoting the query.
        let refused = try await run.rebalance(goals + ["--prometheus", url, "--prometheus-bytes-in-query", "sum by ("])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("sum by ("), "\(refused.stderr)")
        #expect(run.sim.simulator.withCluster { $0.stats.reassignmentsStarted }.isEmpty)
    }

    @Test(arguments: [
        (["--throttle", "0"], "--throttle"),
        (["--moves-per-broker", "0"], "--moves-per-broker"),
        (["--max-moves", "0"], "--max-moves"),
        (["--leader-moves", "0"], "--leader-moves"),
        (["--poll", "0"], "--poll"),
        (["--resume", "--stop"], "--resume or --stop"),
        (["--stop", "--execute"], "--stop"),
        (["--mode", "sideways"], "--mode sideways"),
        (["--prometheus", "prometheus:9090"], "--prometheus"),
        (["--prometheus", "http://127.0.0.1:9090", "--resume"], "--prometheus"),
    ])
    func badUsageIsExitTwoWithOneLineNamingIt(flags: [String], named: String) async throws {
        let dir = NSTemporaryDirectory() + "ballast-rebalance-usage-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try await ballast(["rebalance", "--bootstrap", "127.0.0.1:1", "--state-dir", dir] + flags)
        #expect(r.status == 2, "\(flags): \(r.stderr)")
        #expect(r.stderr.contains(named), "\(flags): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(flags): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/roller.sqlite"))
    }
}
