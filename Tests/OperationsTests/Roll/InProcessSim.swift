import AgentContract
import BallastTestSupport
import Foundation
import KafkaModel
import KafkaSim
import Logging
import Rebalancer
import Roller
import Synchronization

@testable import Operations

/// The simulator as the roller's cluster and agent, in process and on one driven clock: the simulated cluster's
/// time is `clock`'s (time scale 1), and `clock` moves only when the code under test sleeps on it. A roll run by a
/// `RollExecutor` on `clock` is then a deterministic function of the cluster and the options: the roller's and the
/// agent's work takes no cluster time, so the durations it measures are the cluster's own (start-up, shutdown,
/// catch-up) and the polls between them, whatever the machine's load.
///
/// What the roller reads is what the simulator answers over the wire (`KafkaProtocolResponder`): brokers alive in
/// metadata, partitions with leader, ISR and offline replicas, each topic's effective `min.insync.replicas`, the
/// quorum; DescribeLogDirs sizes and the throttle configs of brokers that serve. The agent restarts a node as the
/// `sim` driver does: a controlled shutdown, and once the node has stopped (seen at the roller's next poll) a start;
/// done when it runs. No TCP, no Kafka client: the TCP path is what made cluster time depend on the machine.
final class InProcessSim: ClusterReader, AgentAPI, Sendable {
    let simulator: KafkaSimulator
    let clock: ImmediateClock
    let endpoint = "sim://in-process"

    struct Operation {
        var node: Int32
        var requestId: String
        var started = false
        var state = AgentOperationState.running
        var error: String?
    }
    struct Operations {
        var byId: [String: Operation] = [:]
        var byRequest: [String: String] = [:]
        var next = 0
    }
    let operations = Mutex(Operations())

    init(_ cluster: SimCluster, clock: ImmediateClock = ImmediateClock()) {
        self.clock = clock
        simulator = KafkaSimulator(cluster: cluster, timeScale: 1, clock: AnyClock(clock))
    }

    /// The cluster's time as a date: what the quorum's caught-up timestamps are compared with (`wallClock`).
    var clusterDate: @Sendable () -> Date {
        { [simulator] in Date(timeIntervalSince1970: Double(simulator.clusterNow()) / 1000) }
    }

    /// A roll of `nodes` (nil: every node) with `options`, on this cluster's clock.
    func executor(options: RollOptions, nodes: Set<Int32>? = nil, operationId: String = "in-process")
        -> RollExecutor<ImmediateClock>
    {
        var logger = Logger(label: "test.roll")
        logger.logLevel = .warning
        return RollExecutor(
            operationId: operationId, nodes: nodes, options: options, cluster: self, agents: [self], journal: nil,
            clock: clock, wallClock: clusterDate, logger: logger)
    }

    // MARK: ClusterReader

    func snapshot() async throws -> ClusterSnapshot {
        simulator.withCluster { c in
            let alive = Set(c.nodes.filter(\.isAliveInMetadata).map(\.id))
            let brokers = c.nodes.filter { $0.isBroker && $0.isAliveInMetadata }.map {
                BrokerInfo(id: $0.id, host: "127.0.0.1", port: Int32($0.port), rack: $0.rack)
            }
            let topics = c.topics.indices.filter { !c.topics[$0].deleted }.map { t in
                let topic = c.topics[t]
                return TopicInfo(
                    name: topic.name, isInternal: topic.name.hasPrefix("__"),
                    minInSyncReplicas: c.minInsyncReplicas(topic: t),
                    partitions: topic.partitions.map { p in
                        let part = c.partitions[Int(p)]
                        return PartitionInfo(
                            topic: topic.name, partition: part.id, leader: part.leader, leaderEpoch: part.leaderEpoch,
                            replicas: part.replicas, isr: part.isr,
                            offlineReplicas: part.replicas.filter { !alive.contains($0) })
                    })
            }
            let q = c.quorumState()
            let quorum =
                q.leader < 0
                ? nil
                : QuorumInfo(
                    leaderId: q.leader, leaderEpoch: q.epoch, highWatermark: q.highWatermark,
                    voters: q.voters.map {
                        QuorumReplica(
                            replicaId: $0.id, logEndOffset: $0.logEndOffset, lastCaughtUpTimestamp: $0.lastCaughtUpMs)
                    },
                    observers: q.observers.map {
                        QuorumReplica(
                            replicaId: $0.id, logEndOffset: $0.logEndOffset, lastCaughtUpTimestamp: $0.lastCaughtUpMs)
                    })
            return ClusterSnapshot(
                clusterId: c.clusterId, controllerId: q.leader, brokers: brokers, topics: topics, quorum: quorum)
        }
    }

    struct ElectionFailed: Error, CustomStringConvertible {
        var description: String
    }

    func electPreferredLeaders(_ partitions: [TopicPartition]) async throws {
        let failed = simulator.withCluster { c in
            var failed: [String] = []
            for tp in partitions {
                do throws(SimFailure) {
                    try c.electLeaders(topic: tp.topic, partition: tp.partition, type: .preferred)
                } catch  where error.code != .electionNotNeeded {
                    failed.append("\(tp): \(error.message)")
                } catch {}
            }
            return failed
        }
        if !failed.isEmpty {
            throw ElectionFailed(description: "\(failed.count) preferred election(s) failed, e.g. \(failed[0])")
        }
    }

    /// DescribeLogDirs and DescribeConfigs as the brokers that serve answer them (a stopped broker answers nothing).
    func replication(brokers: [Int32], at: Double) async -> ReplicationSample? {
        simulator.withCluster { c in
            let serving = brokers.filter { c.node($0)?.isServing == true }
            guard !serving.isEmpty else { return nil }
            var sample = ReplicationSample(at: at, sizes: [:])
            let (leaderKey, followerKey) = (ThrottleConfig.brokerKeys[0], ThrottleConfig.brokerKeys[1])
            for b in serving {
                for topic in c.liveTopics {
                    for p in topic.partitions where c.partitions[Int(p)].replicas.contains(b) {
                        let ref = ReplicaRef(TopicPartition(topic.name, c.partitions[Int(p)].id), broker: b)
                        sample.sizes[ref] = c.replicaSize(partition: p, broker: b)
                    }
                }
                for key in [leaderKey, followerKey] {
                    guard let e = c.brokerConfig(b, key), let value = e.value else { continue }
                    if e.source == .dynamicBroker {
                        if key == leaderKey {
                            sample.ownLeaderRate[b] = value
                        } else {
                            sample.ownFollowerRate[b] = value
                        }
                    }
                    // Kafka's default, Long.MAX_VALUE, means no throttle.
                    guard let v = Double(value), v < 9.2e18 else { continue }
                    if key == leaderKey { sample.leaderRate[b] = v } else { sample.followerRate[b] = v }
                }
            }
            for t in c.topics.indices where !c.topics[t].deleted {
                let name = c.topics[t].name
                if let v = c.topicConfig(topic: t, ThrottleConfig.topicKeys[0])?.value, !v.isEmpty {
                    sample.leaderReplicas[name] = v
                }
                if let v = c.topicConfig(topic: t, ThrottleConfig.topicKeys[1])?.value, !v.isEmpty {
                    sample.followerReplicas[name] = v
                }
            }
            return sample
        }
    }

    /// IncrementalAlterConfigs, one resource at a time, each answered by the broker it names.
    func alterThrottles(_ changes: [ThrottleChange]) async -> [ConfigResource: String] {
        var byResource: [ConfigResource: [ConfigAlteration]] = [:]
        for change in changes {
            byResource[change.key.resource, default: []].append(
                change.value.map { ConfigAlteration(name: change.key.key, operation: .set, value: $0) }
                    ?? ConfigAlteration(name: change.key.key, operation: .delete, value: nil))
        }
        return simulator.withCluster { c in
            var failures: [ConfigResource: String] = [:]
            for (resource, alterations) in byResource {
                let answering =
                    Int32(resource.name) ?? c.nodes.first { $0.isServing && $0.isBroker }?.id ?? -1
                do throws(SimFailure) {
                    try c.alterConfigs(
                        resource, alterations, incremental: true, validateOnly: false, answeringBroker: answering)
                } catch {
                    failures[resource] = error.message
                }
            }
            return failures
        }
    }

    // MARK: AgentAPI

    func nodes() async throws -> [AgentNode] {
        let restarting = operations.withLock { ops in Set(ops.byId.values.filter { $0.state == .running }.map(\.node)) }
        return simulator.withCluster { c in
            c.nodes.filter { !$0.removed }.map {
                AgentNode(
                    id: $0.id, roles: $0.roles.sorted(), pod: "sim-broker-\($0.id)",
                    ready: $0.state == .running && !restarting.contains($0.id), zone: $0.rack, cluster: $0.cluster)
            }
        }
    }

    func restart(node: Int32, requestId: String) async throws -> AgentOperation {
        if let known = operations.withLock({ ops in ops.byRequest[requestId].flatMap { ops.byId[$0] } }) {
            return known.contract(id: operations.withLock { $0.byRequest[requestId]! })
        }
        try simulator.withCluster { c throws(SimFailure) in try c.stop(node) }
        return operations.withLock { ops in
            ops.next += 1
            let id = "op-\(ops.next)"
            ops.byId[id] = Operation(node: node, requestId: requestId)
            ops.byRequest[requestId] = id
            return ops.byId[id]!.contract(id: id)
        }
    }

    /// Moves the restart on: a node that has stopped is started; one that runs again is done; one that stopped again
    /// after its start (it died at start-up) failed.
    func operation(_ id: String) async throws -> AgentOperation {
        guard let op = operations.withLock({ $0.byId[id] }) else {
            throw AgentClientError(.answered(status: 404), "no operation \(id)")
        }
        guard op.state == .running else { return op.contract(id: id) }
        var next = op
        simulator.withCluster { c in
            guard let state = c.node(op.node)?.state else { return }
            switch (op.started, state) {
            case (false, .stopped):
                do throws(SimFailure) {
                    try c.start(op.node)
                    next.started = true
                } catch {
                    next.state = .failed
                    next.error = error.message
                }
            case (true, .running):
                next.state = .done
            case (true, .stopped):
                next.state = .failed
                next.error = "simulated broker \(op.node) did not come back"
            default:
                break
            }
        }
        operations.withLock { $0.byId[id] = next }
        return next.contract(id: id)
    }
}

extension InProcessSim.Operation {
    func contract(id: String) -> AgentOperation {
        AgentOperation(id: id, node: node, state: state, error: error, requestId: requestId)
    }
}
