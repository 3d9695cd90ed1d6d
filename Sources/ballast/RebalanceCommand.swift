import ArgumentParser
import BallastStore
import Foundation
import KafkaAdmin
import KafkaModel
import Logging
import Operations
import Planner
import Rebalancer
import ServiceContract
import Synchronization

/// `ballast rebalance`: plans (or reads a proposal) and, with `--execute`, carries it out with throttles, bounded
/// batches, a journal, `--resume` and `--stop`.
struct RebalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebalance",
        abstract: "Plan a placement proposal and, with --execute, carry it out on the live cluster.",
        discussion: """
            Without --execute it is a dry run: the proposal, its hash and its cost (data to move, time at the \
            throttle, cross-cluster data). --proposal FILE executes exactly that proposal (its hash is printed). \
            Moves start in batches bounded per broker and cluster-wide, throttled, each checked against the live \
            cluster first (stale or unsafe moves are refused with a reason); stuck moves and moves whose \
            destination left are cancelled; throttles are restored exactly. Steps are journaled under --state-dir: \
            --resume continues after a crash, --stop cancels the moves in flight and restores throttles.
            Exit codes: 0 done; 1 failed, stopped, refused for safety or not everything done; 2 bad usage or input.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup(title: "What to plan (without --proposal)") var planning: PlanningOptions
    @OptionGroup(title: "Live load (without --proposal)") var liveLoad: LiveLoadOptions
    @Option(help: "Execute exactly this proposal (JSON of `ballast plan --json`) instead of planning.")
    var proposal: String?
    @Flag(help: "Carry the proposal out; without it, only print it and its cost.") var execute = false
    @Option(help: "Replication throttle in bytes per second on the brokers and replicas taking part.")
    var throttle: Int64?
    @Option(name: .customLong("moves-per-broker"), help: "In-flight moves touching one broker (default 5).")
    var movesPerBroker: Int?
    @Option(name: .customLong("max-moves"), help: "In-flight moves in the whole cluster (default 1250).")
    var maxMoves: Int?
    @Option(name: .customLong("leader-moves"), help: "Partitions per preferred leader election (default 1000).")
    var leaderMoves: Int?
    @Option(help: "Seconds between polls of the cluster (default 5).") var poll: Double?
    @Option(help: "Rebalance settings file (default: the built-in policies/rebalance.json values).")
    var policy: String?
    @Option(help: "Where the journal lives.") var stateDir: String = "~/.ballast"
    @Flag(help: "Continue the most recent running rebalance (or --operation-id) after a crash.") var resume = false
    @Flag(help: "Stop the running rebalance (or --operation-id): cancel its moves in flight, restore throttles.")
    var stop = false
    @Option(help: "The rebalance's operation id (new executions get a fresh one).") var operationId: String?
    @Flag(help: "One JSON event per line.") var json = false
    @Option(
        help:
            "Ask a ballast serve engine (its base URL) instead of the cluster: a dry run, or with --execute an operation."
    )
    var server: String?
    @Option(help: "With --server: the cluster's name in the engine's configuration.") var cluster: String?
    @Option(help: "With --server: a file holding the bearer token (default: the BALLAST_TOKEN environment variable).")
    var tokenFile: String?
    @Option(help: "With --server --execute: execute exactly the dry run that answered this hash.") var hash: String?

    func run() async throws {
        do {
            try await dispatch()
        } catch let error as RebalanceUsageError {
            fail(error.message)
            throw BallastExit.badInput
        } catch let error as RebalanceSpecError {
            fail(error.message)
            throw BallastExit.badInput
        } catch let error as PlanCommandError {
            fail(error.message)
            throw error.exit
        } catch let error as StoreError {
            fail(error.message)
            throw error.code == .notFound ? BallastExit.badInput : BallastExit.failed
        } catch let error as ExitCode {
            throw error
        } catch {
            fail("\(error)")
            throw BallastExit.failed
        }
    }

    func fail(_ message: String) {
        FileHandle.standardError.write(Data("ballast rebalance: \(message)\n".utf8))
    }

    func dispatch() async throws {
        if let server { return try await viaServer(server) }
        if cluster != nil || tokenFile != nil || hash != nil {
            throw RebalanceUsageError("--cluster, --token-file and --hash go with --server")
        }
        if resume && stop { throw RebalanceUsageError("give --resume or --stop, not both") }
        if (resume || stop) && proposal != nil {
            throw RebalanceUsageError("--proposal starts a new execution; it does not go with --resume or --stop")
        }
        if stop && execute { throw RebalanceUsageError("--stop does not go with --execute") }
        if let url = liveLoad.prometheus {
            if resume || stop || proposal != nil {
                throw RebalanceUsageError(
                    "--prometheus feeds the planner; it does not go with --proposal, --resume or --stop")
            }
            do throws(PrometheusError) { _ = try PrometheusTopicRates(url: url) } catch {
                throw RebalanceUsageError("--prometheus: \(error.message)")
            }
        }
        let options = try options()
        if !resume && !stop { try planning.check() }
        if stop { return try await stopExecution() }
        if resume { return try await resumeExecution() }
        try await planAndExecute(options)
    }

    func options() throws -> RebalanceOptions {
        var o = RebalanceOptions()
        if let policy {
            guard let data = FileManager.default.contents(atPath: policy) else {
                throw RebalanceUsageError("the rebalance policy file \(policy) could not be read")
            }
            do { o = try JSONDecoder().decode(RebalanceOptions.self, from: data) } catch {
                throw RebalanceUsageError("the rebalance policy file \(policy) is not valid: \(error)")
            }
        }
        if let throttle { o.throttleBytesPerSecond = throttle }
        if let movesPerBroker { o.movesPerBroker = movesPerBroker }
        if let maxMoves { o.maxMoves = maxMoves }
        if let leaderMoves { o.leaderMoves = leaderMoves }
        if let poll { o.timeouts.pollSeconds = poll }
        if let problem = o.problem { throw RebalanceUsageError(problem) }
        return o
    }

    func openStore() throws -> SQLiteOperationsStore {
        try SQLiteOperationsStore(directory: (stateDir as NSString).expandingTildeInPath)
    }

    func connect(bootstrap: String) throws -> KafkaAdmin {
        try connection.check()
        let configuration: KafkaAdminConfiguration
        do { configuration = try connection.adminConfiguration(bootstrap: bootstrap) } catch {
            throw RebalanceUsageError(ConnectionOptions.message(for: error))
        }
        do { return try KafkaAdmin(configuration: configuration) } catch {
            throw RebalanceUsageError("the cluster at \(bootstrap) cannot be reached: \(error)")
        }
    }

    /// Runs `body` with an admin client, shutting it down after.
    func withAdmin<T>(_ bootstrap: String, _ body: (KafkaAdmin) async throws -> T) async throws -> T {
        let admin = try connect(bootstrap: bootstrap)
        let result: Result<T, any Error>
        do { result = .success(try await body(admin)) } catch { result = .failure(error) }
        await admin.shutdown()
        return try result.get()
    }

    // MARK: Plan, dry run, execute

    func planAndExecute(_ options: RebalanceOptions) async throws {
        try connection.check(requireBootstrap: true)
        let bootstrap = connection.bootstrap!
        let file = try readProposalFile()
        try await withAdmin(bootstrap) { admin in
            let snapshot = try await admin.snapshot()
            let moves: [Proposal.Move]
            let mode: String
            var unmetGoal: String?
            if let file {
                moves = file.moves
                mode = file.mode
            } else {
                var model = ClusterModel(
                    snapshot: snapshot, logDirs: try await admin.describeLogDirs(),
                    rackCluster: try planning.rackClusterMap())
                try await liveLoad.apply(to: &model, command: "rebalance")
                let proposal = try planning.plan(model, policy: .default)
                if !json { print(proposal.text()) }
                moves = proposal.moves
                mode = proposal.mode
                unmetGoal = proposal.firstFailedHardGoal.map { "\($0.name): \($0.detail ?? "not satisfied")" }
            }
            let hash = Proposal.canonicalHash(moves)
            let planned = Proposal.plannedMoves(moves)
            let cost = ExecutionCost(moves: planned, throttleBytesPerSecond: options.throttleBytesPerSecond)
            let refused = RebalanceStateMachine.preflight(
                planned, snapshot: snapshot, reassignments: try await admin.listPartitionReassignments())
            printPlan(mode: mode, hash: hash, cost: cost, moves: moves, refused: refused, options: options)

            if let unmetGoal {
                throw PlanCommandError.infeasible(
                    "hard goal \(unmetGoal); \(execute ? "the proposal is not executed" : "it cannot be executed")")
            }
            guard execute else {
                if !refused.isEmpty {
                    throw PlanCommandError.infeasible(
                        "\(refused.count) move(s) would be refused (first: \(refused[0].topicPartition): "
                            + "\(refused[0].reason))")
                }
                return
            }
            if planned.isEmpty {
                if !json { print("nothing to move") }
                return
            }
            let store = try openStore()
            let opId = operationId ?? RebalanceSpec.newOperationId()
            let cluster = ClusterLock.name(clusterId: snapshot.clusterId, bootstrap: bootstrap)
            let spec = RebalanceSpec(
                bootstrap: bootstrap, cluster: cluster, mode: mode, hash: hash, moves: planned, options: options)
            try await store.begin(operationId: opId, kind: .rebalance, spec: try spec.encoded(), at: Date())
            do {
                try await ClusterLock.acquire(store, cluster: cluster, operationId: opId, what: "this rebalance")
            } catch {
                try? await store.record(opId, batch: 0, node: nil, .failed, detail: "\(error)")
                throw error
            }
            try await executeAndReport(spec, operationId: opId, store: store, resume: nil, admin: admin)
        }
    }

    /// The `--proposal` file: its moves, checked, with the hash it states checked against them.
    func readProposalFile() throws -> ProposalFile? {
        guard let path = proposal else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RebalanceUsageError("--proposal: cannot read \(path)")
        }
        let file = try ProposalFile.read(data, name: path)
        if let problem = Proposal.executionProblem(file.moves) { throw RebalanceUsageError("\(path): \(problem)") }
        let hash = Proposal.canonicalHash(file.moves)
        if let stated = file.statedHash, stated != hash {
            throw RebalanceUsageError(
                "\(path) states hash \(stated) but its moves hash to \(hash): the moves were changed after planning")
        }
        return file
    }

    func printPlan(
        mode: String, hash: String, cost: ExecutionCost, moves: [Proposal.Move],
        refused: [RebalanceReport.MoveProblem], options: RebalanceOptions
    ) {
        if json {
            var o: [String: any Sendable] = [
                "event": "proposal", "mode": mode, "hash": hash, "moves": cost.moves, "replicaMoves": cost.replicaMoves,
                "bytesToCopy": Int(cost.bytesToCopy), "crossClusterBytes": Int(cost.crossClusterBytes),
                "busiestBrokerBytes": Int(cost.busiestBrokerBytes),
                "refused": refused.map { ["partition": $0.topicPartition.description, "reason": $0.reason] },
            ]
            if let b = cost.busiestBroker { o["busiestBroker"] = Int(b) }
            if let s = cost.secondsAtThrottle { o["secondsAtThrottle"] = s }
            if let t = options.throttleBytesPerSecond { o["throttle"] = Int(t) }
            let data = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data()
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("proposal \(hash) (mode \(mode)): \(cost.moves) move(s), \(cost.replicaMoves) copying data")
        print("data to move \(mib(cost.bytesToCopy)), across Kubernetes clusters \(mib(cost.crossClusterBytes))")
        if let busiest = cost.busiestBroker {
            let time =
                cost.secondsAtThrottle.map {
                    "at least \(duration($0)) at \(options.throttleBytesPerSecond!) bytes/s"
                } ?? "no --throttle: as fast as the cluster replicates"
            print("busiest broker \(busiest): \(mib(cost.busiestBrokerBytes)) in or out; \(time)")
        }
        for m in moves.prefix(20) {
            print(
                "  \(m.topic)-\(m.partition): \(m.oldReplicas) -> \(m.newReplicas), leader \(m.oldLeader) -> "
                    + "\(m.newLeader)\(m.dataToMoveMiB > 0 ? String(format: ", %.1f MiB", m.dataToMoveMiB) : "")"
                    + (m.crossCluster ? ", cross-cluster" : ""))
        }
        if moves.count > 20 { print("  ... and \(moves.count - 20) more") }
        for r in refused { print("refused: \(r.topicPartition): \(r.reason)") }
    }

    // MARK: Resume, stop

    func resumeExecution() async throws {
        let store = try openStore()
        let state = try await RebalanceResumeState.load(from: store, operationId: operationId)
        guard state.record.status == .running else {
            throw RebalanceSpecError("rebalance \(state.operationId) already ended (\(state.record.status.rawValue))")
        }
        if RebalanceStop.runnerIsAlive(state.record, pollSeconds: state.spec.options.timeouts.pollSeconds) {
            throw RebalanceSpecError(
                "rebalance \(state.operationId) is still running (its runner wrote a heartbeat "
                    + "\(Int(Date().timeIntervalSince(state.record.heartbeatAt!))) s ago)")
        }
        try await withAdmin(state.spec.bootstrap) { admin in
            try await ClusterLock.acquire(
                store, cluster: state.spec.cluster, operationId: state.operationId, what: "this rebalance")
            try await executeAndReport(
                state.spec, operationId: state.operationId, store: store, resume: state, admin: admin)
        }
    }

    func stopExecution() async throws {
        let store = try openStore()
        var state = try await RebalanceResumeState.load(from: store, operationId: operationId)
        guard state.record.status == .running else {
            if !json { print("rebalance \(state.operationId) already ended (\(state.record.status.rawValue))") }
            return
        }
        try await store.requestStop(state.operationId, at: Date())
        let poll = state.spec.options.timeouts.pollSeconds
        if RebalanceStop.runnerIsAlive(state.record, pollSeconds: poll) {
            if !json { print("asked rebalance \(state.operationId) to stop; waiting for it") }
            if let ended = try await RebalanceStop.awaitEnd(
                store, operationId: state.operationId, pollSeconds: poll, clock: ContinuousClock())
            {
                let ours = try await withAdmin(state.spec.bootstrap) { admin in
                    RebalanceStop.ours(in: try await admin.listPartitionReassignments(), moves: state.spec.moves)
                }
                let detail = try await store.steps(state.operationId).last?.detail ?? ""
                if !json { print("rebalance \(state.operationId) ended (\(ended.status.rawValue)): \(detail)") }
                if !ours.isEmpty {
                    fail(
                        "\(ours.count) reassignment(s) of rebalance \(state.operationId) are still in flight in Kafka: "
                            + ours.prefix(5).map(\.description).joined(separator: ", "))
                    throw BallastExit.failed
                }
                return
            }
            if !json { print("the runner of rebalance \(state.operationId) stopped answering; taking it over") }
        }
        // No live runner: this process carries the stop out.
        state = try await RebalanceResumeState.load(from: store, operationId: state.operationId)
        try await withAdmin(state.spec.bootstrap) { admin in
            try await ClusterLock.acquire(
                store, cluster: state.spec.cluster, operationId: state.operationId, what: "this rebalance")
            try await executeAndReport(
                state.spec, operationId: state.operationId, store: store, resume: state, admin: admin,
                stopping: true)
        }
    }

    // MARK: Running

    func executeAndReport(
        _ spec: RebalanceSpec, operationId: String, store: any OperationsStore, resume: RebalanceResumeState?,
        admin: KafkaAdmin, stopping: Bool = false
    ) async throws {
        let executor = RebalanceExecutor(
            operationId: operationId, moves: spec.moves, hash: spec.hash, options: spec.options,
            cluster: KafkaAdminRebalanceCluster(admin: admin), store: store, resume: resume,
            logger: Logger(label: "ballast.rebalance"))
        let view = RebalanceProgressView(json: json, terminal: isatty(1) == 1)
        let report: RebalanceReport
        do {
            report = try await executor.run { view.show($0) }
            view.end()
        } catch {
            view.end()
            throw error
        }
        if stopping {
            // `--stop` succeeded when nothing of ours is left in flight and every throttle is back.
            guard report.leftInFlight.isEmpty && report.throttlesNotRestored.isEmpty else {
                fail(report.summary)
                throw BallastExit.failed
            }
            return
        }
        if !report.isClean {
            fail(report.summary)
            throw BallastExit.failed
        }
    }
}

extension RebalanceCommand {
    /// `--server`: the engine plans (dry run) or creates a rebalance operation; prints the answer.
    func viaServer(_ server: String) async throws {
        guard let cluster else { throw RebalanceUsageError("--server needs --cluster NAME") }
        if resume || stop || proposal != nil {
            throw RebalanceUsageError("--resume, --stop and --proposal work on a local journal, not with --server")
        }
        if hash != nil && !execute { throw RebalanceUsageError("--hash executes a proposal: it needs --execute") }
        try planning.check()
        let token: String
        do { token = try ServiceClient.token(file: tokenFile) } catch { throw RebalanceUsageError("\(error)") }
        let brokers = try planning.brokers?.split(separator: ",").map { s in
            guard let id = Int(s.trimmingCharacters(in: .whitespaces)) else {
                throw RebalanceUsageError("--brokers: \(s) is not a broker id")
            }
            return id
        }
        let request = RebalanceRequest(
            dryRun: !execute, mode: planning.mode, brokers: brokers,
            goals: planning.goals?.split(separator: ",").map(String.init), proposalHash: hash,
            throttleBytesPerSecond: throttle)
        let path =
            "/v1/clusters/\(cluster.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cluster)/rebalance"
        let (status, data) = try await ServiceClient(server: server, token: token).call(
            .POST, path, body: try ServiceJSON.encoder().encode(request))
        guard (200..<300).contains(status) else {
            let message =
                (try? ServiceJSON.decoder().decode(ServiceErrorBody.self, from: data))?.error ?? "HTTP \(status)"
            fail(message)
            throw status == 400 || status == 404 ? BallastExit.badInput : BallastExit.failed
        }
        if json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let answer = try ServiceJSON.decoder().decode(RebalanceResponse.self, from: data)
        print(answer.proposal.text())
        print("hash \(answer.hash)")
        if let id = answer.operationId {
            print("operation \(id) created (ballast operations --server \(server) show \(id))")
        } else {
            print("dry run: execute exactly this with --execute --hash \(answer.hash)")
        }
    }
}

struct RebalanceUsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

func mib(_ bytes: Int64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded(.up))
    return s >= 3600
        ? String(format: "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60)
        : s >= 60 ? String(format: "%dm%02ds", s / 60, s % 60) : "\(s) s"
}

/// The live terminal view (moves done of all, in flight, pending, bytes, elapsed) or JSON lines.
final class RebalanceProgressView: Sendable {
    let json: Bool
    let terminal: Bool
    let started = Date()
    let drawn = Mutex(false)

    init(json: Bool, terminal: Bool) {
        self.json = json
        self.terminal = terminal
    }

    func show(_ event: RebalanceEvent) {
        if json {
            print(event.jsonLine())
            fflush(nil)
            return
        }
        var line: String?
        var status: String?
        switch event {
        case .started(let id, let moves, let hash, let resumed):
            line = "\(resumed ? "resuming" : "executing") \(moves) move(s) of proposal \(hash), operation \(id)"
        case .warning(let message): line = "warning: \(message)"
        case .waiting(let reason): line = "waiting: \(reason)"
        case .throttlesSet(let brokers, let topics):
            let on = brokers.isEmpty ? [] : ["broker(s) \(brokers.map(String.init).joined(separator: ","))"]
            line = "throttle set on " + (on + ["\(topics.count) topic(s)"]).joined(separator: " and ")
        case .throttlesRestored(let keys): line = "\(keys.count) throttle config(s) restored"
        case .moveSkipped(let tp, let reason): line = "not started: \(tp): \(reason)"
        case .moveStuck(let tp, let seconds): line = "stuck: \(tp) not done after \(Int(seconds)) s"
        case .moveCancelled(let tp, let reason): line = "cancelled: \(tp): \(reason)"
        case .moveAdopted(let tp): line = "in flight from before: \(tp) (followed, not started again)"
        case .stopping(let reason): line = "stopping: \(reason)"
        case .finished(let report):
            line =
                report.isClean ? "done: \(report.done) move(s)" : "ended \(report.outcome.rawValue): \(report.summary)"
        case .progress(let p):
            let elapsed = Int(Date().timeIntervalSince(started))
            let time = String(format: "%02d:%02d:%02d", elapsed / 3600, elapsed / 60 % 60, elapsed % 60)
            status =
                "moves \(p.done)/\(p.done + p.inFlight + p.pending + p.notDone) done · \(p.inFlight) in flight · "
                + "\(p.pending) pending · \(mib(p.bytesDone)) of \(mib(p.bytesTotal)) · \(time)"
        default: break
        }
        if terminal {
            if let line { print("\r\u{1B}[K" + line) }
            if let status {
                print("\r\u{1B}[K" + status, terminator: "")
                drawn.withLock { $0 = true }
            }
            fflush(nil)
        } else if let line {
            print(line)
        }
    }

    func end() {
        if terminal && !json && drawn.withLock({ $0 }) { print("") }
    }
}
