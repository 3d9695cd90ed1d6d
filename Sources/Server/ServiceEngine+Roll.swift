import BallastStore
import Foundation
import KafkaAdmin
import KafkaModel
import Operations
import Roller
import ServiceConfig
import ServiceContract
import Synchronization

/// What a running roll has done, for its progress line and its events.
struct RollTracker: Sendable {
    var total: Int
    var restarted: Set<Int32> = []
    var batch = 0
    var lastPlan = ""
    var lastWait = ""
}

/// A reconcile's roll: the dynamic changes applied live, then the roll runner (`RollExecutor`, the same safety gate,
/// journal and resume as `ballast roll`) restarts the nodes that need it through the cluster's agents.
///
/// Holds: before every batch the runner reads `rollHolds` (firing pause-rollouts alerts, rollout-blocking alerts
/// above the threshold, a pause or a cancel asked through the API). When one holds, the runner is stopped at its
/// gate — between batches, nothing in flight — and the engine waits for the holds to clear without the gate's
/// timeout running, then resumes the roll from its journal (no node restarted twice). A cancel ends it there.
extension ServiceEngine {
    enum RollRun: Sendable {
        case finished([Int32])
        case failed(RollFailure)
        /// Stopped at the gate because something holds the roll.
        case held
    }

    func runRoll(_ id: String, _ body: OperationBody) async throws -> (ServiceOperationState, String) {
        // From here on a pause or cancel asked through the API reaches this run (not a queued copy).
        rolling.insert(id)
        defer {
            rolling.remove(id)
            holdAsked.remove(id)
            rollTrackers[id] = nil
        }
        let c = try cluster(body.summary.cluster)
        guard !c.agents.isEmpty else { return (.failed, "cluster \(c.name) has no agents: nothing can restart") }
        // The live part first (idempotent: a resumed roll finds those changes applied already).
        if let text = body.job.reconcile {
            guard let request = try? JSONDecoder().decode(ReconcileRequest.self, from: Data(text.utf8)) else {
                return (.failed, "the operation holds no readable desired state")
            }
            let live = try await applyLive(id, c, request)
            if let failure = live.failure { return (.failed, failure) }
        }
        var agents: [HTTPAgentClient] = []
        for a in c.agents {
            agents.append(HTTPAgentClient(endpoint: a.url, token: try a.token(), timeoutSeconds: 60))
        }
        let nodes = body.job.brokers.map { Set($0.map(Int32.init)) }
        let bootstrap = c.bootstrap.joined(separator: ",")
        let store = self.store
        return try await withAdmin(c) { admin in
            let snapshot = try await admin.snapshot()
            let lock = ClusterLock.name(clusterId: snapshot.clusterId, bootstrap: bootstrap)
            var resume: RollResumeState?
            if let record = try await store.operation(id) {
                if record.kind == .roll && record.status == .finished {
                    // The engine stopped after the restarts and before it wrote the outcome: check the values now.
                    return await self.rolled(id, c, body, restarted: nil)
                }
                guard record.kind == .roll, record.status == .running else {
                    return (.failed, "the roll journal of \(id) already ended (\(record.status.rawValue))")
                }
                resume = try await store.resumeState(id)
            } else {
                let spec = RollSpec(
                    bootstrap: bootstrap, agents: c.agents.map(\.url), nodes: nodes.map { $0.sorted() },
                    options: self.policy.roll, blockingSignals: 0)
                try await store.begin(operationId: id, kind: .roll, spec: try spec.encoded(), at: Date())
            }
            do {
                try await self.awaitLock(id, store: store, lock: lock)
            } catch  where !(error is CancellationError) {
                // Never started: its journal ends (a cancel while another operation held the cluster).
                try? await store.record(id, batch: 0, node: nil, .failed, detail: "\(error)")
                throw error
            }
            self.startTracking(id, total: nodes?.count ?? body.summary.progress.total, resume: resume)
            while true {
                switch try await self.rollOnce(id, c, admin: admin, agents: agents, nodes: nodes, resume: resume) {
                case .finished(let restarted):
                    return await self.rolled(id, c, body, restarted: restarted)
                case .failed(let failure):
                    // Ended, as far as the journal knows (also when it failed before its first batch): the lock goes.
                    try? await store.record(id, batch: 0, node: failure.node, .failed, detail: failure.message)
                    return (.failed, failure.message)
                case .held:
                    if try await self.waitWhileHeld(id, c.name) {
                        try? await store.record(id, batch: 0, node: nil, .failed, detail: "cancelled")
                        let done = self.restartedCount(id)
                        return (.cancelled, "cancelled between batches after \(done) node(s) restarted")
                    }
                    resume = try await store.resumeState(id)
                }
            }
        }
    }

    /// The outcome of a roll whose restarts are done: a reconcile's read-only values must be in effect. Kafka reads
    /// them from server.properties at start-up, so a broker that still reports the old value after its restart
    /// read the old file (the operator did not change it): the operation fails naming broker, key, expected and
    /// actual value, and keeps them (`job.notInEffect`) so that posting the same desired state again is refused
    /// rather than rolling the same brokers into the same values.
    func rolled(_ id: String, _ c: ServiceConfiguration.Cluster, _ body: OperationBody, restarted: [Int32]?) async
        -> (ServiceOperationState, String)
    {
        let what =
            restarted.map { r in
                "\(r.count) node(s) restarted (\(r.isEmpty ? "none" : r.sorted().map(String.init).joined(separator: ",")))"
            } ?? "every node restarted"
        guard let text = body.job.reconcile,
            let request = try? JSONDecoder().decode(ReconcileRequest.self, from: Data(text.utf8)),
            !(request.configs?.cluster ?? [:]).isEmpty || !(request.configs?.brokers ?? [:]).isEmpty
        else { return (.succeeded, "rolled: \(what)") }
        let missing: [String]
        do {
            missing = try await readOnlyNotInEffect(c, request)
        } catch {
            return (.failed, "rolled: \(what); the read-only values could not be checked afterwards: \(error)")
        }
        guard !missing.isEmpty else {
            try? await event(id, "the desired read-only values are in effect on every broker")
            return (.succeeded, "rolled: \(what); the desired read-only values are in effect")
        }
        _ = try? await update(id) { $0.job.notInEffect = missing }
        return (
            .failed,
            "rolled: \(what), but read-only config is not in effect: \(missing.joined(separator: "; ")). The "
                + "restarted brokers read their old static configuration: change server.properties (the ConfigMap or "
                + "pod template), then post the desired state with a higher restart.generation"
        )
    }

    /// The read-only (restart) changes of a desired state that the brokers still do not report, one sentence each:
    /// broker, key, actual and expected value (a sensitive value is not shown).
    func readOnlyNotInEffect(_ c: ServiceConfiguration.Cluster, _ request: ReconcileRequest) async throws -> [String] {
        var out: [(Int32, String, String)] = []
        for (plan, _) in try await configPlans(c, request) {
            for change in plan.changes where change.action == .restart {
                func shown(_ v: String?) -> String {
                    change.isSensitive ? "(sensitive)" : v.map { "'\($0)'" } ?? "unset"
                }
                for node in change.nodes {
                    let actual: String? = change.fromByNode[node] ?? change.from
                    out.append(
                        (
                            node, change.key,
                            "broker \(node) reports \(change.key)=\(shown(actual)), expected \(shown(change.to))"
                        ))
                }
            }
        }
        return out.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
    }

    /// One run of the roll runner until it finishes, fails, or stops at its gate because something holds the roll.
    func rollOnce(
        _ id: String, _ c: ServiceConfiguration.Cluster, admin: KafkaAdmin, agents: [HTTPAgentClient],
        nodes: Set<Int32>?, resume: RollResumeState?
    ) async throws -> RollRun {
        var options = policy.roll
        options.failureThreshold = 0
        let name = c.name
        let executor = RollExecutor(
            operationId: id, nodes: nodes, options: options, cluster: KafkaAdminClusterReader(admin: admin),
            agents: agents, journal: store, resume: resume,
            activeSignals: { await self.rollHolds(id, name).isEmpty ? 0 : 1 }, logger: logger)
        let (events, sink) = AsyncStream<RollEvent>.makeStream()
        // Events are written in order, all of them before this returns.
        let writer = Task { for await event in events { await self.rollEvent(id, event) } }
        let held = HeldFlag()
        let runner = Task {
            try await executor.run { event in
                sink.yield(event)
                if case .waiting(let reasons, _) = event, reasons.contains(where: \.isFailureBudget) {
                    // At the gate, between batches: stop here (the journal stays open for the resume).
                    held.value.store(true, ordering: .relaxed)
                    withUnsafeCurrentTask { $0?.cancel() }
                }
            }
        }
        let result: Result<[Int32], any Error>
        do {
            result = .success(
                try await withTaskCancellationHandler {
                    try await runner.value
                } onCancel: {
                    runner.cancel()
                })
        } catch {
            result = .failure(error)
        }
        sink.finish()
        await writer.value
        switch result {
        case .success(let restarted): return .finished(restarted)
        case .failure(let failure as RollFailure): return .failed(failure)
        case .failure(let error)
        where error is CancellationError && held.value.load(ordering: .relaxed) && !Task.isCancelled:
            return .held
        case .failure(let error): throw error
        }
    }

    /// What holds a roll now: firing pause-rollouts alerts, rollout-blocking alerts above the threshold, a pause
    /// or a cancel asked through the API.
    func rollHolds(_ id: String, _ cluster: String) async -> [String] {
        var holds = pausesOf(cluster).map(\.reason)
        if holdAsked.contains(id) { holds.append("paused through the API") }
        var stop = isStopAsked(id)
        if !stop { stop = (try? await store.operation(id))?.stopRequestedAt != nil }
        if stop { holds.append("cancel asked") }
        return holds
    }

    /// Waits, between batches, until nothing holds the roll; true when it was cancelled meanwhile.
    func waitWhileHeld(_ id: String, _ cluster: String) async throws -> Bool {
        var said = ""
        while true {
            let holds = await rollHolds(id, cluster)
            if holds.contains("cancel asked") { return true }
            if holds.isEmpty {
                try? await event(id, "nothing holds the roll any more: it goes on from its journal")
                if live[id]?.summary.state == .running {
                    await progressMessage(id, "resuming")
                }
                return false
            }
            let text = holds.joined(separator: "; ")
            if text != said {
                said = text
                try? await event(id, "held between batches: \(text)", level: .warning)
                await progressMessage(id, "held between batches: \(text)")
            }
            try await Task.sleep(for: policy.pollInterval)
        }
    }

    func startTracking(_ id: String, total: Int, resume: RollResumeState?) {
        var tracker = RollTracker(total: total)
        tracker.restarted = resume?.completed ?? []
        tracker.batch = resume?.batchesDone ?? 0
        rollTrackers[id] = tracker
    }

    func restartedCount(_ id: String) -> Int { rollTrackers[id]?.restarted.count ?? 0 }

    func progressMessage(_ id: String, _ message: String) async {
        _ = try? await update(id) { $0.summary.progress.message = message }
    }

    /// Writes a roll event as the operation's progress and events (the per-poll ones only when they change).
    func rollEvent(_ id: String, _ event: RollEvent) async {
        guard var t = rollTrackers[id] else { return }
        defer { rollTrackers[id] = t }
        func ids(_ nodes: [Int32]) -> String { nodes.map(String.init).joined(separator: ",") }
        var note: (String, OperationEvent.Level)?
        var message: String?
        switch event {
        case .started(_, let nodes, let resumed):
            t.total = nodes.count
            note = (
                resumed
                    ? "the roll resumes from its journal: \(t.restarted.count) of \(nodes.count) node(s) done"
                    : "rolling node(s) \(ids(nodes))", .info
            )
            message = "\(t.restarted.count)/\(t.total) restarted"
        case .planned(_, let batches):
            let text = batches.map { "[\(ids($0))]" }.joined(separator: " ")
            if text != t.lastPlan {
                t.lastPlan = text
                note = ("planned \(batches.count) batch(es): \(text)", .info)
            }
        case .batchStarted(let index, let nodes, let zone, let cluster, _):
            t.batch = index
            t.lastWait = ""
            note = ("batch \(index): restarting node(s) \(ids(nodes)) (zone \(zone), \(cluster))", .info)
            message = "batch \(index): restarting \(ids(nodes)); \(t.restarted.count)/\(t.total) restarted"
        case .restarted(let node):
            t.restarted.insert(node)
            note = ("node \(node) restarted", .info)
            message = "batch \(t.batch): \(t.restarted.count)/\(t.total) restarted"
        case .catchingUp(let index, let inSync, let total):
            message = "batch \(index): \(inSync) of \(total) replicas back in sync"
        case .batchDone(let index, let nodes):
            note = ("batch \(index) done: node(s) \(ids(nodes)) back and every replica in sync", .info)
            message = "\(t.restarted.count)/\(t.total) restarted, batch \(index) done"
        case .waiting(let reasons, let held):
            guard !reasons.contains(where: \.isFailureBudget),
                let reason = reasons.first ?? held.sorted(by: { $0.key < $1.key }).first?.value
            else { break }
            let text = "waiting: \(reason)"
            if text != t.lastWait {
                t.lastWait = text
                note = (text, .info)
                message = text
            }
        case .warning(let text):
            note = ("warning: \(text)", .warning)
        case .failed(let failure):
            note = ("roll failed: \(failure.message)", .error)
        default:
            break
        }
        if let note { try? await self.event(id, note.0, level: note.1) }
        let (done, total) = (t.restarted.count, t.total)
        if let message {
            _ = try? await update(id) {
                $0.summary.progress.done = done
                $0.summary.progress.total = total
                // A paused roll keeps saying so until it holds.
                if $0.summary.state == .running { $0.summary.progress.message = message }
            }
        }
    }
}

/// Set when the roll runner stopped at its gate because something holds the roll.
final class HeldFlag: Sendable {
    let value = Atomic<Bool>(false)
}

extension HoldReason {
    var isFailureBudget: Bool {
        if case .failureBudget = self { return true }
        return false
    }
}
