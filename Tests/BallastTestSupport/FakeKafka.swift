public import AgentContract
public import KafkaModel
public import Operations
public import Synchronization

/// A cluster and its agent in memory: a restarted node is down until its agent operation is polled done, then
/// registered but catching up for a few snapshot reads, then back in every ISR. Leadership moves off a stopped
/// node and only returns on election. Failures are injected per node.
public final class FakeKafka: ClusterReader, AgentAPI, Sendable {
    public struct Op {
        public var node: Int32
        public var polls = 0
        public var done = false
    }
    public struct State {
        public var base: ClusterSnapshot
        public var down: Set<Int32> = []
        public var catchingUp: [Int32: Int] = [:]
        public var leader: [Int: Int32] = [:]
        public var ops: [String: Op] = [:]
        public var byRequest: [String: String] = [:]
        public var restarts: [Int32] = []
        public var minIsrSeen = Int.max
        public var elections = 0
        public var unreachable: Set<Int32> = []
        public var failing: Set<Int32> = []
        public var neverReturns: Set<Int32> = []
        public var neverDone: Set<Int32> = []
        public var crashAfterRequest: Set<Int32> = []
        /// Per node: how many polls of its restart operation fail as if the agent were unreachable.
        public var operationOutage: [Int32: Int] = [:]
    }
    public let state: Mutex<State>
    public let endpoint = "fake://agent"
    public let catchUpReads: Int

    public init(_ snapshot: ClusterSnapshot, catchUpReads: Int = 3, _ configure: (inout State) -> Void = { _ in }) {
        var s = State(base: snapshot)
        configure(&s)
        state = Mutex(s)
        self.catchUpReads = catchUpReads
    }

    public var restarts: [Int32] { state.withLock { $0.restarts } }
    public var minIsrSeen: Int { state.withLock { $0.minIsrSeen } }

    public static func current(_ s: inout State) -> ClusterSnapshot {
        var snap = s.base
        let out = s.down.union(s.catchingUp.keys)
        snap.brokers.removeAll { s.down.contains($0.id) }
        var i = 0
        for t in snap.topics.indices {
            for p in snap.topics[t].partitions.indices {
                var part = snap.topics[t].partitions[p]
                part.isr.removeAll { out.contains($0) }
                // Leadership: kept while the leader is in sync; else the first in-sync replica takes it.
                let leader = s.leader[i] ?? part.replicas[0]
                part.leader = part.isr.contains(leader) ? leader : (part.isr.first ?? -1)
                s.leader[i] = part.leader
                s.minIsrSeen = min(s.minIsrSeen, part.isr.count)
                snap.topics[t].partitions[p] = part
                i += 1
            }
        }
        return snap
    }

    /// Fully in sync with preferred leaders.
    public var allPreferred: Bool {
        state.withLock { s in Self.current(&s).allPartitions.allSatisfy { $0.leader == $0.replicas[0] } }
    }

    // MARK: ClusterReader

    public func snapshot() async throws -> ClusterSnapshot {
        state.withLock { s in
            for (node, left) in s.catchingUp { s.catchingUp[node] = left <= 1 ? nil : left - 1 }
            return Self.current(&s)
        }
    }

    public func electPreferredLeaders(_ partitions: [TopicPartition]) async throws {
        state.withLock { s in
            s.elections += 1
            let wanted = Set(partitions)
            let snap = Self.current(&s)
            var i = 0
            for t in snap.topics {
                for p in t.partitions {
                    if wanted.contains(TopicPartition(topic: p.topic, partition: p.partition)),
                        p.isr.contains(p.replicas[0])
                    {
                        s.leader[i] = p.replicas[0]
                    }
                    i += 1
                }
            }
        }
    }

    // MARK: AgentAPI

    public func nodes() async throws -> [AgentNode] {
        state.withLock { s in
            s.base.brokers.map { AgentNode(id: $0.id, ready: !s.down.contains($0.id), zone: $0.rack) }
        }
    }

    public func restart(node: Int32, requestId: String) async throws -> AgentOperation {
        let (op, crash) = try state.withLock { s -> (AgentOperation, Bool) in
            if s.unreachable.contains(node) {
                throw AgentClientError(.unreachable, "the agent at fake://agent is unreachable")
            }
            if let existing = s.byRequest[requestId] {
                return (AgentOperation(id: existing, node: node, state: .running), false)
            }
            let id = "op-\(s.ops.count + 1)"
            s.ops[id] = Op(node: node)
            s.byRequest[requestId] = id
            s.restarts.append(node)
            s.down.insert(node)
            _ = Self.current(&s)  // record the ISR dip
            return (AgentOperation(id: id, node: node, state: .running), s.crashAfterRequest.contains(node))
        }
        // Simulates the roller process dying right after the agent accepted the restart.
        if crash { throw CancellationError() }
        return op
    }

    public func operation(_ id: String) async throws -> AgentOperation {
        try state.withLock { s in
            guard var op = s.ops[id] else { throw AgentClientError(.answered(status: 404), "no operation \(id)") }
            if let left = s.operationOutage[op.node], left > 0 {
                s.operationOutage[op.node] = left - 1
                throw AgentClientError(.unreachable, "the agent at fake://agent is unreachable")
            }
            op.polls += 1
            defer { s.ops[id] = op }
            if s.neverDone.contains(op.node) { return AgentOperation(id: id, node: op.node, state: .running) }
            if s.failing.contains(op.node) {
                return AgentOperation(id: id, node: op.node, state: .failed, error: "restart command exited with 1")
            }
            if op.polls >= 2 && !op.done {
                op.done = true
                if !s.neverReturns.contains(op.node) {
                    s.down.remove(op.node)
                    s.catchingUp[op.node] = catchUpReads
                }
            }
            return AgentOperation(id: id, node: op.node, state: op.done ? .done : .running)
        }
    }
}
