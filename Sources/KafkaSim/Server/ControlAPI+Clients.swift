/// The consumer-side part of `GET /v1/stats`: fetch answers by error, consumer groups and their rebalances,
/// consumer gaps, idempotent producers and the stored log (times are cluster milliseconds).
extension ControlAPI {
    struct GroupView: Codable, Sendable {
        var group: String
        var state: String
        var generation: Int32
        var members: Int
        var coordinator: Int32
        var committedPartitions: Int
        /// Rebalances started (PreparingRebalance) and completed (Stable after the leader's assignment).
        var rebalances: Int
        var completedRebalances: Int
        var longestRebalanceMs: Int64
        var rebalancingMs: Int64
        var sessionTimeouts: Int
    }

    struct GapView: Codable, Sendable {
        var topic: String
        var partition: Int32
        var fromMs: Int64
        var ms: Int64
    }

    struct ConsumerGaps: Codable, Sendable {
        /// The longest time a partition's committed data waited with no Fetch returning more (a gap that ended).
        var longest: GapView?
        /// Partitions whose data waits now, longest first (at most 10).
        var open: [GapView]
        /// Partitions consumers have fetched from.
        var partitionsTracked: Int
    }

    struct LogView: Codable, Sendable {
        var partitionsWithData: Int
        var storedBytes: Int64
        /// Bytes dropped by the simulator's memory bound (`maxStoredBytesPerPartition`).
        var evictedBytes: Int64
        var producerIds: Int
        var idempotentProducerStates: Int
    }

    static func gap(_ c: SimCluster, _ g: SimClientStats.Gap) -> GapView {
        let part = c.partitions[Int(g.partition)]
        return GapView(topic: c.topics[Int(part.topic)].name, partition: part.id, fromMs: g.fromMs, ms: g.ms)
    }

    static func clientFigures(_ c: SimCluster) -> (
        fetch: [String: Int], groups: [GroupView], gaps: ConsumerGaps, log: LogView
    ) {
        var fetch: [String: Int] = [:]
        for (e, n) in c.clientStats.fetchByError { fetch[e.name] = n }
        var groups: [GroupView] = c.groups.values.sorted { $0.id < $1.id }.map { g in
            GroupView(
                group: g.id, state: g.state.rawValue, generation: g.generation, members: g.members.count,
                coordinator: c.coordinator(of: g.id), committedPartitions: g.offsets.count,
                rebalances: g.stats.rebalances, completedRebalances: g.stats.completedRebalances,
                longestRebalanceMs: g.stats.longestRebalanceMs, rebalancingMs: g.stats.rebalancingMs,
                sessionTimeouts: g.stats.sessionTimeouts)
        }
        for (id, s) in c.clientStats.removedGroups.sorted(by: { $0.key < $1.key }) where c.groups[id] == nil {
            groups.append(
                GroupView(
                    group: id, state: SimGroup.State.dead.rawValue, generation: 0, members: 0, coordinator: -1,
                    committedPartitions: 0, rebalances: s.rebalances, completedRebalances: s.completedRebalances,
                    longestRebalanceMs: s.longestRebalanceMs, rebalancingMs: s.rebalancingMs,
                    sessionTimeouts: s.sessionTimeouts))
        }
        let gaps = ConsumerGaps(
            longest: c.clientStats.longestGap.map { gap(c, $0) },
            open: c.openConsumerGaps().prefix(10).map { gap(c, $0) },
            partitionsTracked: c.clientStats.consumption.count)
        let log = LogView(
            partitionsWithData: c.logs.count, storedBytes: c.logs.values.reduce(0) { $0 + $1.storedBytes },
            evictedBytes: c.clientStats.evictedBytes, producerIds: c.clientStats.producerIds,
            idempotentProducerStates: c.logs.values.reduce(0) { $0 + $1.producerCount })
        return (fetch, groups, gaps, log)
    }
}
