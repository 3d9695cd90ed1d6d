import AgentContract
import Foundation
import KafkaAdmin
import KafkaModel
import Operations
import Planner
import ServiceConfig
import ServiceContract

/// The scale flows. Upscale: the agent scales the pool up, the new brokers register, an add-brokers proposal moves
/// replicas onto them. Downscale: choose the pool's highest broker ids (never a controller, never fewer brokers
/// than a topic's replication factor), a remove-brokers proposal moves everything off them, check they host
/// nothing, then the agent scales the pool down. Both within the pool's configured limits.
extension ServiceEngine {
    func runScale(_ id: String, _ body: OperationBody) async throws -> (ServiceOperationState, String) {
        let c = try cluster(body.summary.cluster)
        guard let poolName = body.job.pool else { return (.failed, "the operation names no pool") }
        let count = max(1, body.job.count ?? 1)
        let (agent, pool) = try await findPool(c, poolName)
        let limits = c.pools[poolName]
        if body.summary.kind == .upscale {
            return try await upscale(id, c, agent: agent, pool: pool, count: count, max: limits?.max, job: body.job)
        }
        return try await downscale(id, c, agent: agent, pool: pool, count: count, min: limits?.min, job: body.job)
    }

    func findPool(_ c: ServiceConfiguration.Cluster, _ name: String) async throws -> (HTTPAgentClient, AgentPool) {
        for a in c.agents {
            let client = HTTPAgentClient(endpoint: a.url, token: try a.token(), timeoutSeconds: 60)
            let start = ContinuousClock.now
            let pools = try await retrying("the pools of agent \(a.name)") { try await client.pools() }
            metrics.agentCall("pools", seconds: (ContinuousClock.now - start).seconds)
            if let pool = pools.first(where: { $0.name == name }) { return (client, pool) }
        }
        throw ServiceError(
            .unprocessable,
            "no agent of cluster \(c.name) manages pool \(name) (agents: \(c.agents.map(\.name).joined(separator: ", ")))"
        )
    }

    func upscale(
        _ id: String, _ c: ServiceConfiguration.Cluster, agent: HTTPAgentClient, pool: AgentPool, count: Int, max: Int?,
        job: OperationBody.Job
    ) async throws -> (ServiceOperationState, String) {
        // The brokers before the scale, saved once so that a resumed upscale finds the same new ones.
        var before = Set(job.brokers ?? [])
        var target = pool.replicas
        if job.brokers == nil {
            before = Set(try await withAdmin(c) { try await $0.snapshot() }.brokers.map { Int($0.id) })
            target = Swift.min(pool.replicas + count, max ?? Int.max)
            guard target > pool.replicas else {
                return (
                    .failed, "pool \(pool.name) is at its maximum of \(max ?? pool.replicas) broker(s): not scaled up"
                )
            }
            let saved = before
            try await update(id) {
                $0.job.brokers = saved.sorted()
                $0.job.count = target - pool.replicas
            }
            try? await event(id, "scaling pool \(pool.name) from \(pool.replicas) to \(target) broker(s)")
        } else {
            target = before.count + count
        }
        try await scaleAgent(id, agent, pool: pool.name, replicas: target, requestId: "\(id)-up")
        // Wait until the new brokers register with the cluster.
        let deadline = ContinuousClock.now + policy.scaleTimeout
        var added: [Int] = []
        while true {
            let now = Set(try await withAdmin(c) { try await $0.snapshot() }.brokers.map { Int($0.id) })
            added = now.subtracting(before).sorted()
            if added.count >= target - before.count || (job.brokers != nil && !added.isEmpty && added.count >= count) {
                break
            }
            guard ContinuousClock.now < deadline else {
                return (
                    .failed,
                    "the new broker(s) did not register within \(Int(policy.scaleTimeout.seconds)) s (registered: \(added))"
                )
            }
            if isStopAsked(id) { return (.cancelled, "cancelled while waiting for the new brokers") }
            try await Task.sleep(for: policy.pollInterval)
        }
        try? await event(
            id, "broker(s) \(added.map(String.init).joined(separator: ",")) registered; planning add-brokers")
        await progress(id, done: added.count, total: added.count, message: "moving replicas onto \(added)")
        let proposal = try await plan(c, mode: "add-brokers", brokers: added, goals: nil)
        if let failed = proposal.firstFailedHardGoal {
            return (.failed, "the add-brokers proposal misses hard goal \(failed.name): \(failed.detail ?? "")")
        }
        let report = try await executeMoves(id, c, mode: "add-brokers", moves: proposal.moves, throttle: nil)
        guard report.isClean else { return (isStopAsked(id) ? .cancelled : .failed, report.summary) }
        return (
            .succeeded,
            "added broker(s) \(added.map(String.init).joined(separator: ",")); \(report.done) move(s) onto them"
        )
    }

    func downscale(
        _ id: String, _ c: ServiceConfiguration.Cluster, agent: HTTPAgentClient, pool: AgentPool, count: Int, min: Int?,
        job: OperationBody.Job
    ) async throws -> (ServiceOperationState, String) {
        let snapshot = try await withAdmin(c) { try await $0.snapshot() }
        var chosen = job.brokers ?? []
        let target: Int
        if chosen.isEmpty {
            target = Swift.max(pool.replicas - count, min ?? 0)
            let n = pool.replicas - target
            guard n > 0 else {
                return (.failed, "pool \(pool.name) is at its minimum of \(min ?? 0) broker(s): not scaled down")
            }
            // A pool scaled down loses its highest ids (a StatefulSet's highest ordinals).
            let ids = try await agent.nodes().filter { $0.roles.contains(.broker) }.map { Int($0.id) }.sorted()
            chosen = Array(ids.suffix(n))
            if let why = Self.downscaleRefusal(snapshot, removing: chosen) { return (.failed, "refused: \(why)") }
            let saved = chosen
            try await update(id) { $0.job.brokers = saved }
            try? await event(
                id, "scaling pool \(pool.name) from \(pool.replicas) to \(target): draining broker(s) \(chosen)")
        } else {
            target = pool.replicas - chosen.filter { id in snapshot.brokers.contains { Int($0.id) == id } }.count
        }
        let proposal = try await plan(c, mode: "remove-brokers", brokers: chosen, goals: nil)
        if let failed = proposal.firstFailedHardGoal {
            return (
                .failed, "refused: the remove-brokers proposal misses hard goal \(failed.name): \(failed.detail ?? "")"
            )
        }
        let report = try await executeMoves(id, c, mode: "remove-brokers", moves: proposal.moves, throttle: nil)
        guard report.isClean else { return (isStopAsked(id) ? .cancelled : .failed, report.summary) }
        // Verify they host nothing before the agent removes them.
        let after = try await withAdmin(c) { try await $0.snapshot() }
        let hosting = after.allPartitions.filter { p in p.replicas.contains { chosen.contains(Int($0)) } }
        guard hosting.isEmpty else {
            return (
                .failed,
                "broker(s) \(chosen) still host \(hosting.count) partition(s) (first \(hosting[0].topicPartition)): not scaled down"
            )
        }
        try await scaleAgent(id, agent, pool: pool.name, replicas: target, requestId: "\(id)-down")
        return (
            .succeeded,
            "removed broker(s) \(chosen.map(String.init).joined(separator: ",")) after \(report.done) move(s) off them"
        )
    }

    /// Why removing these brokers is unsafe, if it is: one is a controller (the active one or a KRaft voter), or
    /// fewer brokers would be left than some topic's replication factor.
    static func downscaleRefusal(_ snapshot: ClusterSnapshot, removing chosen: [Int]) -> String? {
        let controllers = Set(
            [Int(snapshot.controllerId)] + (snapshot.quorum?.voters.map { Int($0.replicaId) } ?? []))
        if let controller = chosen.first(where: { controllers.contains($0) }) {
            return "broker \(controller) is a controller (the active one or a KRaft voter) and is never removed"
        }
        let remaining = snapshot.brokers.count - chosen.count
        if let topic = snapshot.topics.first(where: { t in t.partitions.contains { $0.replicas.count > remaining } }) {
            return "removing \(chosen.count) broker(s) leaves \(remaining), fewer than topic \(topic.name)'s "
                + "replication factor"
        }
        return nil
    }

    /// Retries an agent call that could not reach the agent (a loaded or restarting agent) for up to two minutes;
    /// an answer that refuses is not retried.
    func retrying<T: Sendable>(_ what: String, _ call: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            do { return try await call() } catch let error as AgentClientError where error.code == .unreachable {
                guard ContinuousClock.now < deadline else { throw error }
                logger.warning("\(what): \(error); retrying")
                try await Task.sleep(for: policy.pollInterval)
            }
        }
    }

    /// Asks the agent to scale and waits for its operation to end.
    func scaleAgent(_ id: String, _ agent: HTTPAgentClient, pool: String, replicas: Int, requestId: String) async throws
    {
        let start = ContinuousClock.now
        // A repeated request id is the same scale: retrying after a lost answer never scales twice.
        var op = try await retrying("the scale of pool \(pool)") {
            try await agent.scale(pool: pool, replicas: replicas, requestId: requestId)
        }
        metrics.agentCall("scale", seconds: (ContinuousClock.now - start).seconds)
        let deadline = ContinuousClock.now + policy.scaleTimeout
        while op.state == .running {
            guard ContinuousClock.now < deadline else {
                throw ServiceError(
                    .unavailable,
                    "the agent's scale of pool \(pool) did not end within \(Int(policy.scaleTimeout.seconds)) s")
            }
            try await Task.sleep(for: policy.pollInterval)
            let opId = op.id
            op = try await retrying("the agent's scale operation \(opId)") { try await agent.operation(opId) }
        }
        guard op.state == .done else {
            throw ServiceError(
                .unavailable, "the agent could not scale pool \(pool) to \(replicas): \(op.error ?? "failed")")
        }
        try? await event(id, "the agent scaled pool \(pool) to \(replicas)")
    }
}
