public import KafkaWire

/// The KRaft controller quorum: voters, an elected leader, the metadata log's high watermark and each
/// voter's position in it. A majority of voters must be up for a leader; without one the controller
/// acts on nothing (no fencing, elections, ISR changes, reassignments, config changes).
public struct SimQuorum: Sendable {
    public internal(set) var voters: [Int32] = []
    public internal(set) var leader: Int32 = -1
    public internal(set) var epoch: Int32 = 0
    public internal(set) var highWatermark: Int64 = 0
    var lastNoOpMs: Int64 = 0
    /// Set when the quorum regains a leader, so offline partitions get another election.
    var needsRecovery = false

    func hasLeader(in cluster: SimCluster) -> Bool { leader >= 0 }

    mutating func append(records: Int) {
        guard leader >= 0 else { return }
        highWatermark += Int64(records)
    }

    static func voterUp(_ n: SimNode) -> Bool { n.state == .running || n.state == .stopping }

    mutating func electLeader(in cluster: SimCluster) {
        guard !voters.isEmpty else { return }
        let up = voters.filter { cluster.node($0).map(Self.voterUp) ?? false }
        if leader >= 0 && up.contains(leader) && up.count * 2 > voters.count { return }
        if up.count * 2 > voters.count {
            // Raft elects one of the voters with the longest log; ties go to the lowest id here.
            let best = up.max { a, b in
                let la = cluster.node(a)!.metadataOffset
                let lb = cluster.node(b)!.metadataOffset
                return la != lb ? la < lb : a > b
            }!
            let wasLost = leader < 0
            leader = best
            epoch += 1
            if wasLost { needsRecovery = true }
        } else {
            leader = -1
        }
    }

    /// Up voters follow the leader's log; the leader writes a NoOpRecord every idle interval.
    mutating func tick(cluster: inout SimCluster) {
        guard leader >= 0 else { return }
        let interval = cluster.settings.metadataNoOpIntervalMs
        if interval > 0 && cluster.now - lastNoOpMs >= interval {
            highWatermark += (cluster.now - lastNoOpMs) / interval
            lastNoOpMs = cluster.now - (cluster.now - lastNoOpMs) % interval
        }
        for v in voters {
            guard let i = cluster.nodeIndex[v], Self.voterUp(cluster.nodes[i]) else { continue }
            cluster.nodes[i].metadataOffset = highWatermark
            cluster.nodes[i].lastFetchMs = cluster.now
            cluster.nodes[i].lastCaughtUpMs = cluster.now
            cluster.nodes[i].lastSeenQuorumEpoch = epoch
        }
    }

    public struct VoterState: Sendable, Equatable {
        public var id: Int32
        public var logEndOffset: Int64
        public var lastFetchMs: Int64
        public var lastCaughtUpMs: Int64
    }
}

extension SimCluster {
    /// DescribeQuorum's view: the leader, epoch, high watermark, voters and (brokers as) observers.
    public func quorumState() -> (
        leader: Int32, epoch: Int32, highWatermark: Int64, voters: [SimQuorum.VoterState],
        observers: [SimQuorum.VoterState]
    ) {
        func state(_ n: SimNode) -> SimQuorum.VoterState {
            let up = SimQuorum.voterUp(n)
            // Kafka 4.1: a leader elected after the voter went down reports it as never seen.
            if !up && n.lastSeenQuorumEpoch != quorum.epoch {
                return .init(id: n.id, logEndOffset: -1, lastFetchMs: -1, lastCaughtUpMs: -1)
            }
            return .init(
                id: n.id, logEndOffset: up ? quorum.highWatermark : n.metadataOffset, lastFetchMs: n.lastFetchMs,
                lastCaughtUpMs: n.lastCaughtUpMs)
        }
        let voters = quorum.voters.compactMap { node($0) }.map(state)
        let observers = nodes.filter { $0.isBroker && !$0.isController && !$0.removed && SimQuorum.voterUp($0) }.map(
            state)
        return (quorum.leader, quorum.epoch, quorum.highWatermark, voters, observers)
    }

    /// After the quorum regains a leader, partitions left without one get an election.
    mutating func recoverAfterQuorumLoss() {
        guard quorum.needsRecovery, quorum.leader >= 0 else { return }
        quorum.needsRecovery = false
        for p in partitions.indices where partitions[p].leader < 0 && !partitions[p].replicas.isEmpty {
            if electLeader(Int32(p), allowUnclean: false) { partitions[p].partitionEpoch += 1 }
        }
        healthDirty = true
    }
}

/// What a load test reads: produce answers by error code, and partition health over time.
public struct SimStats: Sendable {
    public internal(set) var produceByError: [KafkaErrorCode: Int] = [:]
    public internal(set) var uncleanElections = 0
    public internal(set) var health: [HealthSample] = []
    static let maxSamples = 10_000

    public struct HealthSample: Sendable, Equatable {
        public var timeMs: Int64
        public var offline: Int
        public var underMinIsr: Int
        public var underReplicated: Int
    }

    mutating func record(_ e: KafkaErrorCode) { produceByError[e, default: 0] += 1 }

    public var produceTotal: Int { produceByError.values.reduce(0, +) }
}

extension SimCluster {
    public struct HealthCounts: Sendable, Equatable {
        public var offline = 0
        public var underMinIsr = 0
        public var underReplicated = 0
    }

    public func healthCounts() -> HealthCounts {
        var c = HealthCounts()
        var minIsr: [Int32: Int] = [:]
        for part in partitions where !part.replicas.isEmpty {
            if part.leader < 0 { c.offline += 1 }
            let m = minIsr[part.topic] ?? minInsyncReplicas(topic: Int(part.topic))
            minIsr[part.topic] = m
            if part.isr.count < m { c.underMinIsr += 1 }
            if part.isr.count < part.replicas.count { c.underReplicated += 1 }
        }
        return c
    }

    /// Records a health sample when the counts changed since the last one.
    mutating func sampleHealth() {
        healthDirty = false
        let c = healthCounts()
        if let last = stats.health.last, last.offline == c.offline, last.underMinIsr == c.underMinIsr,
            last.underReplicated == c.underReplicated
        {
            return
        }
        stats.health.append(
            .init(timeMs: now, offline: c.offline, underMinIsr: c.underMinIsr, underReplicated: c.underReplicated))
        if stats.health.count > SimStats.maxSamples {
            stats.health.removeFirst(stats.health.count - SimStats.maxSamples)
        }
    }
}
