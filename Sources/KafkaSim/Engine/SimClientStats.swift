public import KafkaWire

/// What the simulator saw of its clients, for `GET /v1/stats`: fetch answers by error, idempotent producers,
/// bytes dropped by the memory bound, and consumer gaps. A consumer gap is a time during which a partition had
/// committed data (below the high watermark) beyond what any Fetch had returned, and no Fetch returned more:
/// measured per partition from the first Fetch on it, in cluster milliseconds, for the furthest consumer.
public struct SimClientStats: Sendable {
    public internal(set) var fetchByError: [KafkaErrorCode: Int] = [:]
    public internal(set) var producerIds = 0
    /// Bytes of record batches dropped because a partition held more than `maxStoredBytesPerPartition`.
    public internal(set) var evictedBytes: Int64 = 0
    public internal(set) var consumption: [Int32: Consumption] = [:]
    /// The longest gap that has ended (a Fetch returned more data), if any.
    public internal(set) var longestGap: Gap?
    /// Groups forgotten by the coordinator (empty, nothing committed), with their rebalance figures.
    public internal(set) var removedGroups: [String: SimGroupStats] = [:]

    public struct Consumption: Sendable, Equatable {
        /// The offset after the last record a Fetch returned.
        public var deliveredEnd: Int64
        /// Since when data beyond `deliveredEnd` has been committed without a Fetch returning it.
        public var waitingSince: Int64?
    }

    public struct Gap: Sendable, Equatable {
        public var partition: Int32
        public var fromMs: Int64
        public var ms: Int64
    }

    public var fetchTotal: Int { fetchByError.values.reduce(0, +) }

    mutating func recordFetch(_ e: KafkaErrorCode) { fetchByError[e, default: 0] += 1 }
}

extension SimCluster {
    /// A Produce made committed data available on `p`: a consumer that had read everything is now behind.
    mutating func noteDataAvailable(_ p: Int32) {
        guard var c = clientStats.consumption[p], c.waitingSince == nil, highWatermark(p) > c.deliveredEnd else {
            return
        }
        c.waitingSince = now
        clientStats.consumption[p] = c
    }

    /// A Fetch from `offset` on `p` returned records up to `end` (exclusive; `end <= offset` when it returned none).
    mutating func noteFetched(_ p: Int32, from offset: Int64, to end: Int64) {
        var c = clientStats.consumption[p] ?? .init(deliveredEnd: offset, waitingSince: nil)
        let hw = highWatermark(p)
        if end > c.deliveredEnd {
            if let since = c.waitingSince, now - since > (clientStats.longestGap?.ms ?? -1) {
                clientStats.longestGap = .init(partition: p, fromMs: since, ms: now - since)
            }
            c.deliveredEnd = end
            c.waitingSince = hw > end ? now : nil
        } else if c.waitingSince == nil && hw > c.deliveredEnd {
            c.waitingSince = now
        }
        clientStats.consumption[p] = c
    }

    /// Gaps still open now (data waiting that no Fetch has returned), longest first.
    public func openConsumerGaps() -> [SimClientStats.Gap] {
        clientStats.consumption.compactMap { p, c in
            c.waitingSince.map { .init(partition: p, fromMs: $0, ms: now - $0) }
        }
        .sorted { $0.ms > $1.ms }
    }

    /// Every group's rebalance figures, current and forgotten ones.
    public func groupStats() -> [String: SimGroupStats] {
        var all = clientStats.removedGroups
        for (id, g) in groups { all[id] = g.stats }
        return all
    }

    /// `topic-partition` of a partition index.
    public func partitionName(_ p: Int32) -> String {
        let part = partitions[Int(p)]
        return "\(topics[Int(part.topic)].name)-\(part.id)"
    }
}
