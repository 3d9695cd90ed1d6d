import DashboardModel
import DemoApplications
import Foundation
import KafkaAdmin
import KafkaModel
import Logging
import Operations
import ServiceLifecycle

/// The demo's terminal: one line per step, flushed at once (a script reads them as they come).
public struct DemoOutput: Sendable {
    let write: @Sendable (String) -> Void

    public init(write: @escaping @Sendable (String) -> Void) {
        self.write = write
    }

    /// Standard output.
    public init() {
        self.write = { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }

    public func line(_ text: String) { write(text) }
}

/// Samples the applications' counters into the chart's points once a second.
struct Sampler: Service {
    let stats: ApplicationStats

    func run() async throws {
        // Ends quietly at the demo's shutdown (the sleep is cancelled then).
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                stats.sample(nowMs: Int64(Date().timeIntervalSince1970 * 1000))
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// One step of a scenario.
enum DemoStep: String, Sendable, CaseIterable {
    case reconcileDynamic = "reconcile: a dynamic config change, applied live (no restart)"
    case reconcileRoll = "roll: a read-only config change (reconcile), rolled broker by broker"
    case alertUpscale = "alert: an Alertmanager upscale alert adds brokers and rebalances onto them"
    case downscale = "downscale: a reconcile without the added brokers drains them, then scales the pool down"
    case manualRebalance = "rebalance: a manual dry run, then its execution by hash"

    static func steps(_ scenario: DemoOptions.Scenario) -> [DemoStep] {
        switch scenario {
        case .full: allCases
        case .roll: [.reconcileRoll]
        case .scale: [.alertUpscale, .downscale]
        case .rebalance: [.manualRebalance]
        }
    }
}

/// What a step came to.
enum StepOutcome: Sendable, Equatable {
    case done
    case skipped(String)
    case failed(String)
}

/// Plays the scenario once the dashboard and the agents are up; with `exitAfterScenario` it returns when the
/// scenario ends (which ends the demo), otherwise it waits for the demo's shutdown.
struct ScenarioService: Service {
    let env: DemoEnvironment
    let admin: KafkaAdmin
    let options: DemoOptions
    let output: DemoOutput
    let outcome: DemoOutcome
    let producer: DemoProducer
    let consumer: DemoConsumer
    /// The agents, in the order of the service's configuration (the first that lists a pool scales it).
    let agents: [LazyAgent]
    /// `ballast serve` in this process (its URL once it listens) and its admin token.
    let service: ServiceURL
    let adminToken: String
    let dashboard: AsyncStream<Int>

    func run() async throws {
        var port = 0
        for await p in dashboard { port = p }
        let host = options.host == "0.0.0.0" ? "127.0.0.1" : options.host
        let url = "http://\(host):\(port)/"
        output.line("dashboard=\(url)")
        output.line("bootstrap=\(env.sim.bootstrap)")
        if options.openBrowser { Self.openBrowser(url) }
        let passed = try await cancelWhenGracefulShutdown { try await play() }
        outcome.passed.withLock { $0 = passed }
        if options.exitAfterScenario { return }
        output.line("the dashboard stays up at \(url); Ctrl-C stops the demo")
        try? await gracefulShutdown()
    }

    func play() async throws -> Bool {
        let clusters = Set(env.kubernetesClusterOf.values).sorted()
        output.line(
            "cluster: \(options.brokers) brokers in \(clusters.count) Kubernetes clusters (\(clusters.joined(separator: ", "))), "
                + "one kubernetes agent per cluster, time x\(Self.number(options.speed))")
        producer.start()
        consumer.start()
        output.line(
            "applications: an idempotent acks=all producer (200 messages/s) and a consumer group member on topic "
                + DemoEnvironment.appTopic)
        guard await until(seconds: 120, { env.stats.totals.consumed > 0 }) else {
            return finish(reason: "the consumer received nothing within 120 s")
        }
        output.line("applications: producing and consuming")
        var outcomes: [(DemoStep, StepOutcome)] = []
        for step in DemoStep.steps(options.scenario) {
            output.line("step: \(step.rawValue)")
            let result = await run(step)
            switch result {
            case .done: output.line("step done: \(step.rawValue)")
            case .skipped(let why): output.line("step SKIPPED: \(step.rawValue): \(why)")
            case .failed(let why): output.line("step FAILED: \(step.rawValue): \(why)")
            }
            outcomes.append((step, result))
            if case .failed = result { break }
        }
        // The applications' verdict: stop producing, let the consumer catch up, count.
        let sent = await producer.stop()
        _ = await until(seconds: 120) { env.stats.totals.unconfirmed == 0 }
        let t = env.stats.totals
        output.line(
            "applications: sent=\(sent.sent) acknowledged=\(t.acknowledged) failed=\(t.failed) consumed=\(t.consumed) "
                + "lost=\(t.unconfirmed) duplicates=\(t.duplicates) consumerErrors=\(t.consumeErrors) "
                + "groupRebalances=\(t.rebalances)")
        if let (step, result) = outcomes.first(where: { if case .failed = $0.1 { true } else { false } }),
            case .failed(let why) = result
        {
            return finish(reason: "\(step.rawValue): \(why)")
        }
        if t.failed > 0 { return finish(reason: "\(t.failed) failed deliveries (\(env.stats.errors))") }
        if t.unconfirmed > 0 { return finish(reason: "\(t.unconfirmed) acknowledged messages were never consumed") }
        let skipped = outcomes.compactMap { o -> String? in
            switch o.1 {
            case .skipped(let why): "\(o.0.rawValue.prefix { $0 != ":" }) (\(why))"
            default: nil
            }
        }
        if !skipped.isEmpty {
            return finish(reason: "\(skipped.count) step(s) skipped: " + skipped.joined(separator: "; "))
        }
        output.line("scenario=done")
        return true
    }

    func finish(reason: String) -> Bool {
        output.line("scenario=failed: \(reason)")
        return false
    }

    func run(_ step: DemoStep) async -> StepOutcome {
        guard let api = service.client(token: adminToken) else { return .failed("ballast serve is not listening") }
        return await run(step, through: api)
    }

    static let cluster = "demo"

    /// A step through its real trigger: an HTTP call to `ballast serve`, then the operation it made followed to its
    /// end.
    func run(_ step: DemoStep, through api: ServiceAPIClient) async -> StepOutcome {
        do {
            switch step {
            case .reconcileDynamic:
                let answer = try await api.reconcile(cluster: Self.cluster, configs: ["log.retention.ms": "259200000"])
                for line in answer.plan.steps ?? [] { output.line("  reconcile: \(line)") }
                guard answer.plan.restartNodes.isEmpty else {
                    return .failed(
                        "the plan restarts brokers \(Self.ids(answer.plan.restartNodes)) for a dynamic change")
                }
                guard let id = answer.operationId else {
                    return answer.noop ? .failed("the service found nothing to change") : .done
                }
                return try await follow(id, api)
            case .reconcileRoll:
                // The operator changes the brokers' server.properties (the pod spec) with the desired state: the
                // restarted brokers read it, and the service checks the value is in effect after the roll.
                env.sim.simulator.withCluster { c in
                    for id in c.nodes.map(\.id) {
                        try? c.editServerProperties(["auto.create.topics.enable": "false"], of: id)
                    }
                }
                let answer = try await api.reconcile(
                    cluster: Self.cluster,
                    configs: ["log.retention.ms": "259200000", "auto.create.topics.enable": "false"])
                for line in answer.plan.steps ?? [] { output.line("  reconcile: \(line)") }
                guard !answer.plan.restartNodes.isEmpty, let id = answer.operationId else {
                    return .failed("the plan rolls no broker for a read-only change")
                }
                return try await follow(id, api)
            case .downscale:
                // The operator's desired state: the pool without its three highest ids (the brokers the upscale
                // added); the service drains them, checks they host nothing, then the agent scales the pool down.
                guard let (pool, brokers) = try await poolBrokers(), brokers.count > 3 else {
                    return .failed("no agent lists a pool with more than three brokers")
                }
                let desired = Array(brokers.sorted().dropLast(3))
                let answer = try await api.reconcile(cluster: Self.cluster, pools: [pool: desired])
                for line in answer.plan.steps ?? [] { output.line("  reconcile: \(line)") }
                guard let id = answer.operationId else { return .failed("the reconcile made no operation") }
                return try await follow(id, api)
            case .alertUpscale:
                let receipt = try await api.alert(
                    name: "KafkaBrokerDiskPressure",
                    labels: [
                        "ballast_action": "upscale", "kafka_cluster": Self.cluster, "count": "3", "severity": "warning",
                    ],
                    fingerprint: UUID().uuidString.lowercased(), startsAt: Date())
                let summary = receipt.actions.map { "\($0.action) \($0.outcome)" + ($0.reason.map { ": \($0)" } ?? "") }
                output.line(
                    "  alert: stored \(receipt.stored) of \(receipt.received); \(summary.joined(separator: "; "))")
                guard let id = receipt.actions.first(where: { $0.operationId != nil })?.operationId else {
                    return .failed("the alert made no operation (\(summary.joined(separator: "; ")))")
                }
                return try await follow(id, api)
            case .manualRebalance:
                let dry = try await api.rebalance(cluster: Self.cluster, dryRun: true)
                let mib = dry.proposal.moves.reduce(0) { $0 + $1.dataToMoveMiB }
                let cross = dry.proposal.moves.filter(\.crossCluster).reduce(0) { $0 + $1.dataToMoveMiB }
                output.line(
                    "  rebalance: dry run: \(dry.proposal.moves.count) moves, \(Int(mib)) MiB (\(Int(cross)) MiB across "
                        + "Kubernetes clusters), hash \(dry.hash.prefix(12))")
                if let snapshot = try? await admin.snapshot() {
                    env.operations.setProposal(
                        ProposalView.build(
                            hash: dry.hash, mode: dry.proposal.mode, snapshot: snapshot,
                            moves: dry.proposal.moves.map {
                                MoveView(
                                    topic: $0.topic, partition: $0.partition, oldReplicas: $0.oldReplicas,
                                    newReplicas: $0.newReplicas, dataMiB: $0.dataToMoveMiB,
                                    crossCluster: $0.crossCluster)
                            }))
                }
                let run = try await api.rebalance(cluster: Self.cluster, dryRun: false, proposalHash: dry.hash)
                guard let id = run.operationId else { return .failed("executing the proposal made no operation") }
                return try await follow(id, api)
            }
        } catch {
            return .failed("\(error)")
        }
    }

    /// Narrates an operation until it ends: each new event once, and its progress when it changes.
    func follow(_ id: String, _ api: ServiceAPIClient) async throws -> StepOutcome {
        var printed = 0
        var lastProgress: ServiceAPIClient.Progress?
        while true {
            let op = try await api.operation(id)
            let events = op.events ?? []
            // Per-move events (`moveDone(orders-5)`, …) are summed up by the progress line; the rest is narrated.
            for e in events.dropFirst(printed) where !Self.isPerMoveEvent(e.message) {
                output.line("  \(op.kind): \(e.message)")
            }
            printed = max(printed, events.count)
            if op.progress != lastProgress, op.progress.total > 0 {
                output.line(
                    "  \(op.kind): \(op.progress.done) of \(op.progress.total) \(op.progress.unit ?? "")"
                        + (op.progress.message.map { " — \($0)" } ?? ""))
                lastProgress = op.progress
            }
            if op.isFinished {
                return op.state == "succeeded"
                    ? .done : .failed("\(op.kind) \(id) \(op.state)" + (op.error.map { ": \($0)" } ?? ""))
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// The first pool an agent lists (the one the service scales) and its broker ids.
    func poolBrokers() async throws -> (String, [Int])? {
        for agent in agents {
            let client = try agent.client()
            guard let pool = try await client.pools().first else { continue }
            let brokers = try await client.nodes().filter { $0.roles.contains(.broker) }.map { Int($0.id) }
            return (pool.name, brokers)
        }
        return nil
    }

    /// Awaits a condition the demo cannot be told about (the applications' counters), checking every 200 ms.
    func until(seconds: Double, _ condition: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + .seconds(seconds)
        while clock.now < end {
            if condition() { return true }
            guard (try? await Task.sleep(for: .milliseconds(200))) != nil else { return false }
        }
        return condition()
    }

    /// A rebalance runner's event in its raw form (`movesStarted([…])`, `moveDone(t-1)`, `started(operationId: …)`,
    /// `leadersElected(count: 2)`): a lower-case word with an upper-case letter, then a parenthesis.
    static func isPerMoveEvent(_ message: String) -> Bool {
        message.range(of: #"^[a-z]+([A-Z][a-z]*)*\("#, options: .regularExpression) != nil
    }

    static func ids(_ nodes: [Int32]) -> String { nodes.map(String.init).joined(separator: ",") }

    static func number(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

    static func openBrowser(_ url: String) {
        for opener in ["/usr/bin/xdg-open", "/usr/bin/open"] where FileManager.default.isExecutableFile(atPath: opener)
        {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: opener)
            p.arguments = [url]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try? p.run()
            return
        }
    }
}
