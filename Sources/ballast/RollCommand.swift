import AgentContract
import ArgumentParser
import AsyncHTTPClient
import BallastStore
import Foundation
import KafkaAdmin
import KafkaModel
import Logging
import Operations
import Roller
import Synchronization

struct RollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roll",
        abstract: "Safe rolling restart through agents: the largest batch the live cluster proves safe, one at a time.",
        discussion: """
            Before every batch the gate reads a fresh snapshot: no offline partition, every partition with a \
            replica in the batch keeps at least min.insync.replicas + headroom in sync, one controller per batch \
            with a caught-up quorum majority left, the active controller last, down nodes first. After each batch \
            it waits for the agents, for re-registration and for every replica back in ISR, then restores \
            preferred leaders. Steps are journaled under --state-dir; --resume continues a crashed roll.
            Exit codes: 0 done; 1 the roll failed or was refused for safety; 2 bad usage or input.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .customLong("agent"), help: "An agent base URL (repeat for several Kubernetes clusters).")
    var agents: [String] = []
    @Option(help: "Only these node ids (comma-separated); default: every node the agents manage.") var nodes: String?
    @Option(help: "At most this many nodes per batch.") var maxBatch: Int?
    @Option(help: "In-sync replicas to keep above min.insync.replicas.") var headroom: Int?
    @Option(help: "The roll waits while more rollout-blocking signals than this are active.") var failureThreshold: Int?
    @Option(help: "Rollout-blocking signals active now (alerts will feed this later).") var blockingSignals: Int = 0
    @Flag(help: "Roll even while partitions are offline (loudly logged).") var allowOfflinePartitions = false
    @Flag(help: "Let a batch span zones (placement is still checked partition by partition).")
    var batchAcrossZones = false
    @Option(help: "Seconds to pause after each batch.") var postRestartDelay: Double?
    @Option(help: "Seconds the gate may hold the roll before it fails.") var gateTimeout: Double?
    @Option(help: "Seconds an agent may take to restart a node.") var restartTimeout: Double?
    @Option(help: "Seconds a restarted broker may take to re-register.") var registerTimeout: Double?
    @Option(help: "Seconds the replicas of a batch may take to be back in ISR.") var catchUpTimeout: Double?
    @Option(help: "Seconds between polls of the cluster and the agents.") var poll: Double?
    @Option(
        help: ArgumentHelp(
            "lift|BYTES_PER_S: while a batch catches up, lift (or raise to this rate) the replication throttle rates "
                + "that hold its replicas back (their leaders' leader rate, the restarted brokers' follower rate), "
                + "journaled, and put back exactly afterwards. Default: throttles are left alone."))
    var catchUpThrottle: String?
    @Option(
        help: ArgumentHelp(
            "Seconds an agent may go without answering (its nodes wait meanwhile, the others go on) before the roll "
                + "fails."))
    var agentUnreachableTimeout: Double?
    @Option(help: "Rollout settings file (default: the built-in policies/rollout.json values).") var policy: String?
    @Flag(help: "Print the batches and why each other node waits; restart nothing.") var dryRun = false
    @Option(help: "With --dry-run: read the snapshot from this JSON file instead of the cluster.")
    var snapshotFile: String?
    @Flag(help: "One JSON event per line.") var json = false
    @Option(help: "Where the roll journal lives.") var stateDir: String = "~/.ballast"
    @Flag(help: "Continue the most recent unfinished roll (or --operation-id).") var resume = false
    @Option(help: "The roll's operation id (new rolls get a fresh one).") var operationId: String?
    @Option(help: "Agent bearer token (default: $BALLAST_AGENT_TOKEN).") var token: String?
    @Option(
        name: .customLong("agent-token-file"),
        help: ArgumentHelp(
            "URL=FILE: that agent's own bearer token, read from FILE (repeatable; one token per Kubernetes "
                + "cluster's agent; agents without one use --token or $BALLAST_AGENT_TOKEN)."))
    var agentTokenFiles: [String] = []
    @Option(help: "PEM CA that signed the agents' certificates (https agents; default: the system's store).")
    var agentCa: String?
    @Option(help: "PEM client certificate for agents that require mutual TLS (with --agent-key).")
    var agentCert: String?
    @Option(help: "PEM private key of --agent-cert.") var agentKey: String?

    func run() async throws {
        do {
            try await execute()
        } catch let failure as RollFailure {
            fail(failure.message)
            throw BallastExit.failed
        } catch let error as RollUsageError {
            fail(error.message)
            throw BallastExit.badInput
        } catch let error as RollSpecError {
            fail(error.message)
            throw BallastExit.badInput
        } catch let error as ExitCode {
            throw error
        } catch {
            fail("\(error)")
            throw BallastExit.failed
        }
    }

    func fail(_ message: String) {
        FileHandle.standardError.write(Data("ballast roll: \(message)\n".utf8))
    }

    func options() throws -> RollOptions {
        var o = RollOptions()
        if let policy {
            guard let data = FileManager.default.contents(atPath: policy) else {
                throw RollUsageError("the rollout policy file \(policy) could not be read")
            }
            do { o = try JSONDecoder().decode(RollOptions.self, from: data) } catch {
                throw RollUsageError("the rollout policy file \(policy) is not valid: \(error)")
            }
        }
        if let maxBatch { o.maxBatch = maxBatch }
        if let headroom { o.headroom = headroom }
        if let failureThreshold { o.failureThreshold = failureThreshold }
        if allowOfflinePartitions { o.allowOfflinePartitions = true }
        if batchAcrossZones { o.batchWithinZone = false }
        if let postRestartDelay { o.timeouts.postRestartDelaySeconds = postRestartDelay }
        if let gateTimeout { o.timeouts.gateSeconds = gateTimeout }
        if let restartTimeout { o.timeouts.restartSeconds = restartTimeout }
        if let registerTimeout { o.timeouts.registerSeconds = registerTimeout }
        if let catchUpTimeout { o.timeouts.catchUpSeconds = catchUpTimeout }
        if let poll { o.timeouts.pollSeconds = poll }
        if let agentUnreachableTimeout { o.timeouts.agentUnreachableSeconds = agentUnreachableTimeout }
        if let catchUpThrottle {
            guard let remedy = CatchUpThrottle(parsing: catchUpThrottle) else {
                throw RollUsageError(
                    "--catch-up-throttle must be lift or a positive number of bytes per second, got '\(catchUpThrottle)'"
                )
            }
            o.catchUpThrottle = remedy
        }
        if let problem = o.problem { throw RollUsageError(problem) }
        return o
    }

    func nodeList() throws -> [Int32]? {
        guard let nodes else { return nil }
        let ids = nodes.split(separator: ",").map { Int32($0.trimmingCharacters(in: .whitespaces)) }
        guard !ids.isEmpty, ids.allSatisfy({ $0 != nil }) else {
            throw RollUsageError("--nodes must be comma-separated node ids, got '\(nodes)'")
        }
        return ids.map { $0! }
    }

    /// Each agent's bearer token: its own from `--agent-token-file`, else the common one. Tokens are never
    /// journaled: a resumed roll takes them from its own command line.
    func agentTokens(_ agents: [String]) throws -> [String: String] {
        var own: [String: String] = [:]
        for entry in agentTokenFiles {
            guard let eq = entry.lastIndex(of: "="), eq != entry.startIndex else {
                throw RollUsageError("--agent-token-file must be URL=FILE, got '\(entry)'")
            }
            let url = String(entry[..<eq]).trimmingSuffix("/")
            let file = String(entry[entry.index(after: eq)...])
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            else { throw RollUsageError("the token file \(file) of agent \(url) could not be read or is empty") }
            guard agents.contains(where: { $0.trimmingSuffix("/") == url }) else {
                throw RollUsageError("--agent-token-file names \(url), which is not one of the roll's --agent URLs")
            }
            own[url] = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var common: String?
        if let token, !token.isEmpty {
            common = token
        } else if let env = ProcessInfo.processInfo.environment["BALLAST_AGENT_TOKEN"], !env.isEmpty {
            common = env
        }
        var out: [String: String] = [:]
        for agent in agents {
            guard let t = own[agent.trimmingSuffix("/")] ?? common else {
                throw RollUsageError(
                    "no token for the agent at \(agent): pass --agent-token-file, --token or set BALLAST_AGENT_TOKEN")
            }
            out[agent] = t
        }
        return out
    }

    /// The agent clients, each with its token, with `--agent-ca`/`--agent-cert`/`--agent-key` when given (then on an
    /// HTTP client of their own, shut down with `done`).
    func agentClients(_ urls: [String], tokens: [String: String]) throws -> (
        clients: [HTTPAgentClient], done: @Sendable () async -> Void
    ) {
        guard agentCa != nil || agentCert != nil || agentKey != nil else {
            return (urls.map { HTTPAgentClient(endpoint: $0, token: tokens[$0] ?? "") }, {})
        }
        let http: HTTPClient
        do {
            http = try AgentClientTLS(caFile: agentCa, certificateFile: agentCert, keyFile: agentKey).makeHTTPClient()
        } catch {
            throw RollUsageError(error.message)
        }
        return (
            urls.map { HTTPAgentClient(endpoint: $0, token: tokens[$0] ?? "", client: http) },
            { try? await http.shutdown() }
        )
    }

    func execute() async throws {
        let stateDir = (self.stateDir as NSString).expandingTildeInPath
        var spec: RollSpec
        var resumeState: RollResumeState?
        var store: (any OperationsStore)?
        let opId: String

        if resume {
            let s = try SQLiteOperationsStore(directory: stateDir)
            (spec, resumeState) = try await RollSpec.resume(from: s, operationId: operationId)
            store = s
            opId = resumeState!.operationId
        } else {
            spec = RollSpec(
                bootstrap: connection.bootstrap, agents: agents, nodes: try nodeList(), options: try options(),
                blockingSignals: blockingSignals)
            opId = operationId ?? RollSpec.newOperationId()
        }

        if dryRun {
            try await printDryRun(spec)
            return
        }
        guard !spec.agents.isEmpty else { throw RollUsageError("give at least one --agent URL") }
        guard let bootstrap = spec.bootstrap else { throw RollUsageError("give --bootstrap") }
        let tokens = try agentTokens(spec.agents)
        let admin = try RollLiveCluster.connect(connection, bootstrap: bootstrap)
        let result: Result<Void, any Error>
        do {
            try await roll(
                spec, operationId: opId, store: store, resumeState: resumeState, tokens: tokens, admin: admin)
            result = .success(())
        } catch {
            result = .failure(error)
        }
        await admin.shutdown()
        try result.get()
    }

    func roll(
        _ spec: RollSpec, operationId opId: String, store existing: (any OperationsStore)?,
        resumeState: RollResumeState?, tokens: [String: String], admin: KafkaAdmin
    ) async throws {
        let store: any OperationsStore
        if let existing {
            store = existing
        } else {
            store = try SQLiteOperationsStore(directory: (stateDir as NSString).expandingTildeInPath)
            try await store.begin(operationId: opId, spec: try spec.encoded())
        }
        // A roll and a rebalance never run at once on one cluster (a resumed roll gets its lock back).
        let clusterId = try await admin.describeCluster().clusterId
        let lock = ClusterLock.name(clusterId: clusterId, bootstrap: spec.bootstrap ?? "")
        do {
            try await ClusterLock.acquire(store, cluster: lock, operationId: opId, what: "this roll")
        } catch {
            if existing == nil { try? await store.record(opId, batch: 0, node: nil, .failed, detail: "\(error)") }
            throw error
        }
        if spec.options.allowOfflinePartitions {
            fail("WARNING: offline partitions are allowed by override; this roll may restart nodes of a broken cluster")
        }
        let signals = spec.blockingSignals
        let (agentClients, closeAgents) = try agentClients(spec.agents, tokens: tokens)
        let executor = RollExecutor(
            operationId: opId, nodes: spec.nodes.map(Set.init), options: spec.options,
            cluster: KafkaAdminClusterReader(admin: admin), agents: agentClients, journal: store,
            resume: resumeState, activeSignals: { signals }, logger: Logger(label: "ballast.roll"))
        let view = RollProgressView(json: json, terminal: isatty(1) == 1)
        do {
            try await executor.run { view.show($0) }
            view.end()
            await closeAgents()
        } catch let failure as RollFailure {
            view.end()
            await closeAgents()
            // Ended, as far as the journal knows (also when it failed before its first batch): the lock goes.
            try? await store.record(opId, batch: 0, node: failure.node, .failed, detail: failure.message)
            throw failure
        } catch {
            view.end()
            await closeAgents()
            throw error
        }
    }

    func printDryRun(_ spec: RollSpec) async throws {
        let snapshot: ClusterSnapshot
        var prediction: CatchUpModel?
        if let snapshotFile {
            guard let data = FileManager.default.contents(atPath: snapshotFile) else {
                throw RollUsageError("the snapshot file \(snapshotFile) could not be read")
            }
            do { snapshot = try JSONDecoder().decode(ClusterSnapshot.self, from: data) } catch {
                throw RollUsageError("the snapshot file \(snapshotFile) is not a cluster snapshot: \(error)")
            }
        } else {
            guard let bootstrap = spec.bootstrap else { throw RollUsageError("give --bootstrap or --snapshot-file") }
            let admin = try RollLiveCluster.connect(connection, bootstrap: bootstrap)
            let read: Result<ClusterSnapshot, KafkaAdminError>
            do { read = .success(try await admin.snapshot()) } catch { read = .failure(error) }
            if case .success(let snap) = read, spec.options.catchUpAwareBatches {
                // Two replication samples a few seconds apart give the write rates the catch-up prediction needs.
                let reader = KafkaAdminClusterReader(admin: admin)
                let brokers = snap.brokers.map(\.id)
                let start = ContinuousClock.now
                func at() -> Double { start.duration(to: .now).seconds }
                if let first = await reader.replication(brokers: brokers, at: at()) {
                    try await Task.sleep(for: .seconds(3))
                    if let second = await reader.replication(brokers: brokers, at: at()) {
                        // With --catch-up-throttle the batch catches up with the throttles lifted or raised.
                        prediction = CatchUpModel(
                            snapshot: snap, sample: spec.options.catchUpThrottle?.applied(to: second) ?? second,
                            writeRates: CatchUpModel.writeRates(from: first, to: second, snapshot: snap),
                            unthrottledRate: nil)
                    }
                }
            }
            await admin.shutdown()
            snapshot = try read.get()
        }
        var inventory: [NodeInfo]
        if spec.agents.isEmpty {
            // Without agents: the brokers in the snapshot, zone = rack.
            inventory = snapshot.brokers.map { NodeInfo(id: $0.id, roles: [.broker], zone: $0.rack) }
        } else {
            let (clients, closeAgents) = try agentClients(spec.agents, tokens: try agentTokens(spec.agents))
            inventory = []
            do {
                for client in clients { inventory += try await client.nodes().map(\.nodeInfo) }
            } catch {
                await closeAgents()
                throw error
            }
            await closeAgents()
        }
        let ids = Set(spec.nodes ?? inventory.map(\.id))
        let planner = BatchPlanner(
            snapshot: snapshot, nodes: inventory, options: spec.options,
            nowMillis: Int64(Date().timeIntervalSince1970 * 1000))
        let plan = planner.plan(nodes: ids, activeSignals: spec.blockingSignals)
        // The live roll sizes each batch when it starts; the dry run shows that decision for the first one.
        let sizing = plan.batches.first.flatMap { b in
            b.nodes.count > 1
                ? prediction?.size(of: b.nodes, restartSeconds: spec.options.restartEstimateSeconds) : nil
        }
        if json {
            print(RollEvent.planned(done: 0, batches: plan.batches.map(\.nodes)).jsonLine(at: Date()))
            if let sizing, let first = plan.batches.first {
                print(RollEvent.batchSized(sizing, planned: first.nodes).jsonLine(at: Date()))
            }
            for w in plan.warnings { print(RollEvent.warning(w).jsonLine(at: Date())) }
            if !plan.heldFromFirst.isEmpty || !plan.blocked.isEmpty {
                print(RollEvent.waiting(reasons: plan.blocked, held: plan.heldFromFirst).jsonLine(at: Date()))
            }
            return
        }
        for w in plan.warnings { print("warning: \(w)") }
        for r in plan.blocked { print("blocked: \(r)") }
        print("\(plan.batches.count) batch(es) for \(ids.count) node(s):")
        for (i, b) in plan.batches.enumerated() {
            let where_ = [b.zone.isEmpty ? nil : "zone \(b.zone)", b.cluster.isEmpty ? nil : "cluster \(b.cluster)"]
                .compactMap { $0 }.joined(separator: ", ")
            print(
                "  batch \(i + 1): nodes \(b.nodes.map(String.init).joined(separator: ","))"
                    + (where_.isEmpty ? "" : " (\(where_))") + (b.isDownNode ? " [down node]" : ""))
        }
        if let sizing {
            let t = sizing.predicted.seconds
            print(
                "catch-up of batch 1 predicted: \(t.isFinite ? "\(Int(t.rounded())) s" : "never (writes outrun it)")"
                    + " after a \(Int(sizing.restartSeconds)) s restart, against \(Int(sizing.oneByOneSeconds)) s one "
                    + "at a time; limit: \(sizing.predicted.bottleneck)")
            if let first = plan.batches.first, sizing.nodes.count < first.nodes.count {
                print(
                    "  the roll would restart only nodes \(sizing.nodes.map(String.init).joined(separator: ",")) first")
            }
        }
        if !plan.heldFromFirst.isEmpty {
            print("not in the next batch:")
            for (node, reason) in plan.heldFromFirst.sorted(by: { $0.key < $1.key }) {
                print("  node \(node): \(reason)")
            }
        }
        if !plan.unplanned.isEmpty {
            print("cannot be planned yet:")
            for (node, reason) in plan.unplanned.sorted(by: { $0.key < $1.key }) { print("  node \(node): \(reason)") }
        }
        if !plan.blocked.isEmpty || !plan.unplanned.isEmpty { throw BallastExit.failed }
    }
}

struct RollUsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// How the roll reaches the cluster: KafkaAdmin's snapshot (the librdkafka read path) and ElectLeaders.
enum RollLiveCluster {
    /// `bootstrap` is the roll's (a resumed roll keeps its cluster); TLS and SASL come from this command line, so
    /// no secret is written to the journal. The caller shuts the admin client down.
    static func connect(_ connection: ConnectionOptions, bootstrap: String) throws -> KafkaAdmin {
        try connection.check()
        let configuration: KafkaAdminConfiguration
        do { configuration = try connection.adminConfiguration(bootstrap: bootstrap) } catch {
            throw RollUsageError(ConnectionOptions.message(for: error))
        }
        do {
            return try connection.makeAdmin(configuration)
        } catch {
            throw RollUsageError("the cluster at \(bootstrap) cannot be reached: \(error)")
        }
    }
}

/// The live terminal view (batch i of n, nodes, phase, replicas catching up, elapsed) or JSON lines.
final class RollProgressView: Sendable {
    struct State {
        var batch = 0
        var total = 0
        var nodes: [Int32] = []
        var phase = "starting"
        var inSync = 0
        var replicas = 0
        var drawn = false
    }
    let json: Bool
    let terminal: Bool
    let started = Date()
    let state = Mutex(State())

    init(json: Bool, terminal: Bool) {
        self.json = json
        self.terminal = terminal
    }

    func show(_ event: RollEvent) {
        if json {
            print(event.jsonLine(at: Date()))
            fflush(nil)
            return
        }
        let line: String? = state.withLock { s in
            var message: String?
            switch event {
            case .started(let id, let nodes, let resumed):
                message = "\(resumed ? "resuming" : "rolling") \(nodes.count) node(s), operation \(id)"
            case .planned(let done, let batches):
                s.total = done + batches.count
            case .warning(let w):
                message = "warning: \(w)"
            case .waiting(let reasons, let held):
                s.phase =
                    "waiting for the gate: "
                    + (reasons.first?.description
                        ?? held.sorted { $0.key < $1.key }.first.map { "node \($0.key): \($0.value)" } ?? "")
            case .batchStarted(let index, let nodes, let zone, _, let down):
                s.batch = index
                s.total = max(s.total, index)
                s.nodes = nodes
                s.phase = "restarting"
                s.inSync = 0
                s.replicas = 0
                message =
                    "batch \(index): nodes \(nodes.map(String.init).joined(separator: ","))"
                    + (zone.isEmpty ? "" : " (zone \(zone))") + (down ? " [down node first]" : "")
            case .restartRequested:
                s.phase = "waiting for the agents"
            case .restarted:
                s.phase = "waiting for re-registration"
            case .registered:
                s.phase = "catching up"
            case .catchingUp(_, let inSync, let total):
                s.phase = "catching up"
                s.inSync = inSync
                s.replicas = total
            case .batchSized(let sizing, let planned):
                let t = sizing.predicted.seconds
                message =
                    "catch-up predicted \(t.isFinite ? "\(Int(t.rounded())) s" : "never (writes outrun it)") for nodes "
                    + "\(sizing.nodes.map(String.init).joined(separator: ","))"
                    + (sizing.nodes.count < planned.count
                        ? " (the gate allowed \(planned.map(String.init).joined(separator: ",")); one at a time is "
                            + "predicted faster)" : "")
                    + "; limit: \(sizing.predicted.bottleneck)"
            case .stalled(let diagnosis):
                message = "stalled: \(diagnosis)"
            case .throttlesLifted(let changes):
                message =
                    "catch-up throttle: "
                    + changes.map { "\($0.key) set to \($0.value ?? "nothing")" }.joined(separator: ", ")
                    + " while the batch catches up"
            case .throttlesRestored(let keys):
                message = "catch-up throttle put back: " + keys.map(\.description).joined(separator: ", ")
            case .leadersElected(let count):
                s.phase = "restoring \(count) preferred leader(s)"
            case .batchDone(let index, _):
                message = "batch \(index) done"
            case .finished(let restarted):
                message = "done: \(restarted.count) node(s) restarted"
            case .failed:
                break
            }
            return message
        }
        let status = state.withLock { s -> String in
            let elapsed = Int(Date().timeIntervalSince(started))
            let time = String(format: "%02d:%02d:%02d", elapsed / 3600, elapsed / 60 % 60, elapsed % 60)
            let nodes = s.nodes.map(String.init).joined(separator: ",")
            let total = s.total > 0 ? "\(s.total)" : "?"
            let catchUp = s.replicas > 0 ? " · replicas in sync \(s.inSync)/\(s.replicas)" : ""
            s.drawn = true
            return "batch \(s.batch) of \(total) · node(s) \(nodes) · \(s.phase)\(catchUp) · \(time)"
        }
        if terminal {
            if let line { print("\r\u{1B}[K" + line) }
            print("\r\u{1B}[K" + status, terminator: "")
            fflush(nil)
        } else if let line {
            print(line)
        }
    }

    func end() {
        if terminal && !json && state.withLock({ $0.drawn }) { print("") }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
