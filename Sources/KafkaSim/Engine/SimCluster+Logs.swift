public import KafkaWire

/// One record batch as the leader stored it: base offset and partition leader epoch already set, so a consumer
/// gets exactly these bytes.
public struct SimStoredBatch: Sendable {
    public var baseOffset: Int64
    public var lastOffset: Int64
    public var maxTimestamp: Int64
    public var leaderEpoch: Int32
    /// The partition's `size(of:)` right after this batch was appended: where the batch ends in the byte model
    /// replication runs on, so a replica that holds N bytes holds every batch ending at or below N.
    var endPosition: Int64
    public var bytes: [UInt8]
}

/// A record batch a producer sent, parsed (CRC checked) by the I/O layer.
public struct SimProduceBatch: Sendable {
    public var header: RecordBatchHeader
    public var bytes: [UInt8]
    public init(header: RecordBatchHeader, bytes: [UInt8]) {
        self.header = header
        self.bytes = bytes
    }
}

/// What the simulator keeps of one partition's log: the newest record batches within the memory bound
/// (`SimSettings.maxStoredBytesPerPartition`), the log start offset, the leader epoch cache, Kafka's segments
/// (for `retention.bytes`) and the idempotent producers' state. Partitions nobody produced to have none, so a
/// large model costs nothing here.
public struct SimPartitionLog: Sendable {
    /// `batches[first...]` are kept; the prefix is dropped in bulk now and then.
    var batches: [SimStoredBatch] = []
    var first = 0
    public internal(set) var logStartOffset: Int64 = 0
    public internal(set) var storedBytes: Int64 = 0
    /// Kafka's leader epoch cache: the log end offset at which each leader epoch began (Kafka records it when a
    /// replica becomes leader, writes or not). Kept up to date lazily: see `SimCluster.epochs(_:)`.
    var epochs: [(epoch: Int32, startOffset: Int64)] = []
    /// Kafka's log segments, for `retention.bytes`: deleted whole, oldest first, never the active (last) one.
    var segments: [(baseOffset: Int64, bytes: Int64)] = []
    var producers: [Int64: SimProducerState] = [:]

    public var retained: ArraySlice<SimStoredBatch> { batches[first...] }

    /// Index of the first kept batch whose last offset is at or above `offset` (`batches.count` if none).
    func index(containing offset: Int64) -> Int {
        var lo = first
        var hi = batches.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if batches[mid].lastOffset < offset { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Drops the oldest kept batch and moves the log start offset past it.
    mutating func dropOldest() -> Int64 {
        let b = batches[first]
        first += 1
        storedBytes -= Int64(b.bytes.count)
        logStartOffset = max(logStartOffset, b.lastOffset + 1)
        if first > 64 && first * 2 > batches.count {
            batches.removeFirst(first)
            first = 0
        }
        return Int64(b.bytes.count)
    }
}

extension SimCluster {
    public static let offsetsTopic = "__consumer_offsets"

    // MARK: produce

    /// Appends record batches to a partition through broker `broker`, as Kafka's leader checks them: leadership,
    /// `min.insync.replicas`, record validity, then the idempotent producer's epoch and sequence. A retried batch
    /// (same producer, epoch and sequences as one of its last five) is acknowledged with its original offset and not
    /// written again.
    public mutating func produce(
        broker: Int32, topic name: String, partition: Int32, acks: Int16, batches: [SimProduceBatch],
        internalTopicsAllowed: Bool = false
    ) -> ProduceOutcome {
        let outcome = produceOutcome(
            broker: broker, topic: name, partition: partition, acks: acks, batches: batches, modelBytes: nil,
            internalTopicsAllowed: internalTopicsAllowed)
        stats.record(outcome.error ?? .none)
        return outcome
    }

    /// A producer wrote `records` records of `bytes` bytes in all (a test shortcut): stored as one small batch,
    /// counted as `bytes` in the partition's size.
    public mutating func produce(
        broker: Int32, topic name: String, partition: Int32, acks: Int16, records: Int, bytes: Int
    ) -> ProduceOutcome {
        let raw = RecordBatchHeader.build(recordCount: max(1, records), timestamp: now)
        let header = (try? RecordBatchHeader.parse(raw))?.first
        let batch = records > 0 ? header.map { [SimProduceBatch(header: $0, bytes: raw)] } ?? [] : []
        let outcome = produceOutcome(
            broker: broker, topic: name, partition: partition, acks: acks, batches: batch, modelBytes: Int64(bytes),
            internalTopicsAllowed: false)
        stats.record(outcome.error ?? .none)
        return outcome
    }

    mutating func produceOutcome(
        broker: Int32, topic name: String, partition: Int32, acks: Int16, batches: [SimProduceBatch],
        modelBytes: Int64?, internalTopicsAllowed: Bool
    ) -> ProduceOutcome {
        guard acks == -1 || acks == 0 || acks == 1 else { return .error(.invalidRequiredAcks) }
        if name == Self.offsetsTopic && !internalTopicsAllowed { return .error(.invalidTopicException) }
        guard let p = partitionIndex(topic: name, partition: partition) else { return .error(.unknownTopicOrPartition) }
        let part = partitions[Int(p)]
        guard part.leader == broker, node(broker)?.isServing == true else { return .error(.notLeaderOrFollower) }
        if acks == -1 {
            guard part.isr.count >= minInsyncReplicas(topic: Int(part.topic)) else { return .error(.notEnoughReplicas) }
        }
        let maxMessageBytes = Int(topicConfig(topic: Int(part.topic), "max.message.bytes")?.value ?? "") ?? 1_048_588
        for b in batches {
            if b.bytes.count > maxMessageBytes { return .error(.messageTooLarge) }
            // Clients may not write control batches; transactions are not modelled (InitProducerId refuses them).
            if b.header.isControl { return .error(.invalidRecord) }
            if b.header.isTransactional { return .error(.invalidTxnState) }
            if b.header.recordCount < 1 || b.header.lastOffsetDelta != b.header.recordCount - 1 {
                return .error(.invalidRecord)
            }
        }
        var log = logs[p] ?? SimPartitionLog()
        log.epochs = epochs(p)
        var duplicateOf: Int64?
        if let b = batches.first, b.header.producerId >= 0 {
            switch log.checkProducer(b.header) {
            case .accept: break
            case .duplicate(let firstOffset): duplicateOf = firstOffset
            case .reject(let e): return .error(e)
            }
        }
        // A crashed follower still in the ISR never acknowledges: the request waits until it times out.
        if acks == -1, part.isr.contains(where: { $0 != broker && node($0)?.isServing != true }) {
            return .error(.requestTimedOut)
        }
        if let duplicateOf { return .appended(baseOffset: duplicateOf) }
        guard !batches.isEmpty else { return .appended(baseOffset: part.logEndOffset) }

        let firstBase = part.logEndOffset
        let segmentBytes = Int64(topicConfig(topic: Int(part.topic), "segment.bytes")?.value ?? "") ?? 1 << 30
        for b in batches {
            var bytes = b.bytes
            let base = partitions[Int(p)].logEndOffset
            Self.put(int64: base, into: &bytes, at: 0)
            Self.put(int32: part.leaderEpoch, into: &bytes, at: 12)
            let count = Int64(b.header.lastOffsetDelta) + 1
            partitions[Int(p)].logEndOffset += count
            partitions[Int(p)].producedBytes += modelBytes ?? Int64(bytes.count)
            let size = Int64(bytes.count)
            log.batches.append(
                SimStoredBatch(
                    baseOffset: base, lastOffset: base + count - 1, maxTimestamp: b.header.maxTimestamp,
                    leaderEpoch: part.leaderEpoch, endPosition: self.size(of: p), bytes: bytes))
            log.storedBytes += size
            if let last = log.segments.last, last.bytes + size <= segmentBytes {
                log.segments[log.segments.count - 1].bytes += size
            } else {
                log.segments.append((base, size))
            }
            if b.header.producerId >= 0 {
                log.recordProducer(b.header, firstOffset: base, lastOffset: base + count - 1, now: now)
            }
        }
        while log.storedBytes > settings.maxStoredBytesPerPartition && log.batches.count - log.first > 1 {
            clientStats.evictedBytes += log.dropOldest()
        }
        logs[p] = log
        noteDataAvailable(p)
        return .appended(baseOffset: firstBase)
    }

    static func put(int64 v: Int64, into bytes: inout [UInt8], at i: Int) {
        for k in 0..<8 { bytes[i + k] = UInt8(truncatingIfNeeded: v >> (56 - 8 * Int64(k))) }
    }

    static func put(int32 v: Int32, into bytes: inout [UInt8], at i: Int) {
        for k in 0..<4 { bytes[i + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * Int32(k))) }
    }

    // MARK: offsets a consumer sees

    public func logStartOffset(_ p: Int32) -> Int64 { logs[p]?.logStartOffset ?? 0 }

    /// The offset up to which replica `broker` holds the log. A replica in the ISR (without a frozen size) holds
    /// everything; one out of sync, or crashed, holds the batches that end within the bytes it replicated.
    public func replicaEndOffset(_ p: Int32, broker: Int32) -> Int64 {
        let leo = partitions[Int(p)].logEndOffset
        guard let held = replicaBytes[ReplicaKey(partition: p, broker: broker)], let log = logs[p] else { return leo }
        guard held < size(of: p) else { return leo }
        // The last kept batch ending within `held`.
        var lo = log.first
        var hi = log.batches.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if log.batches[mid].endPosition <= held { lo = mid + 1 } else { hi = mid }
        }
        return lo > log.first ? log.batches[lo - 1].lastOffset + 1 : log.logStartOffset
    }

    /// Kafka's high watermark: the smallest log end offset over the ISR. Only offsets below it are committed and
    /// visible to consumers; an ISR member that crashed and is not yet fenced holds it back.
    public func highWatermark(_ p: Int32) -> Int64 {
        let part = partitions[Int(p)]
        var hw = part.logEndOffset
        for b in part.isr where replicaBytes[ReplicaKey(partition: p, broker: b)] != nil {
            hw = min(hw, replicaEndOffset(p, broker: b))
        }
        return hw
    }

    /// The stored batches from the one holding `offset` on, whole, below `limit` (the high watermark), at most
    /// `maxBytes` unless `minOneBatch` lets the first one exceed it (Kafka's KIP-74); `end` is the offset after the
    /// last record returned (`offset` when none).
    public func readBatches(_ p: Int32, from offset: Int64, limit: Int64, maxBytes: Int, minOneBatch: Bool)
        -> (records: [UInt8], end: Int64)
    {
        guard let log = logs[p], maxBytes > 0 || minOneBatch else { return ([], offset) }
        var out: [UInt8] = []
        var end = offset
        var i = log.index(containing: offset)
        while i < log.batches.count, log.batches[i].lastOffset < limit {
            let b = log.batches[i]
            guard out.count + b.bytes.count <= maxBytes || (out.isEmpty && minOneBatch) else { break }
            out += b.bytes
            end = b.lastOffset + 1
            i += 1
        }
        return (out, end)
    }

    /// Truncates the log to `endOffset` (an unclean election: the new leader lacks the tail): batches, epochs and
    /// producer sequences above it are gone, as when Kafka truncates and reloads producer state.
    mutating func truncateLog(_ p: Int32, to endOffset: Int64) {
        guard var log = logs[p] else { return }
        while log.batches.count > log.first, let last = log.batches.last, last.baseOffset >= endOffset {
            log.storedBytes -= Int64(last.bytes.count)
            log.batches.removeLast()
        }
        log.epochs.removeAll { $0.startOffset >= endOffset }
        log.segments.removeAll { $0.baseOffset >= endOffset }
        for (pid, state) in log.producers {
            let kept = state.batches.filter { $0.lastOffset < endOffset }
            log.producers[pid] =
                kept.isEmpty ? nil : SimProducerState(epoch: state.epoch, batches: kept, lastMs: state.lastMs)
        }
        log.logStartOffset = min(log.logStartOffset, endOffset)
        logs[p] = log
    }

    // MARK: ListOffsets and OffsetForLeaderEpoch

    /// ListOffsets for one partition on its leader: -2 earliest (and -4 earliest local), -1 latest (the high
    /// watermark: no transactions, so the last stable offset is the same), -3 the record with the largest timestamp,
    /// -5 latest tiered (none without tiered storage), or the first offset whose timestamp is at or after the given
    /// one. Nil offset: no such record.
    public func listOffset(_ p: Int32, timestamp: Int64) -> (offset: Int64, timestamp: Int64, leaderEpoch: Int32) {
        let hw = highWatermark(p)
        let log = logs[p]
        let start = log?.logStartOffset ?? 0
        switch timestamp {
        case -2, -4:
            return (start, -1, epochs(p).last { $0.startOffset <= start }?.epoch ?? -1)
        case -1:
            return (hw, -1, partitions[Int(p)].leaderEpoch)
        case -5:
            return (-1, -1, -1)
        case -3:
            guard let log else { return (-1, -1, -1) }
            var best: SimStoredBatch?
            for b in log.retained where b.lastOffset < hw && b.maxTimestamp > (best?.maxTimestamp ?? Int64.min) {
                best = b
            }
            guard let best else { return (-1, -1, -1) }
            let offset = Self.firstRecord(in: best, atOrAfter: best.maxTimestamp) ?? best.baseOffset
            return (offset, best.maxTimestamp, best.leaderEpoch)
        default:
            guard let log else { return (-1, -1, -1) }
            for b in log.retained where b.lastOffset < hw && b.maxTimestamp >= timestamp {
                let offset = Self.firstRecord(in: b, atOrAfter: timestamp) ?? b.baseOffset
                let ts = Self.recordTimestamps(b).first { $0.offset == offset }?.timestamp ?? b.maxTimestamp
                return (max(offset, start), ts, b.leaderEpoch)
            }
            return (-1, -1, -1)
        }
    }

    /// The partition's leader epoch cache now: what its log recorded, the first epoch (0, at offset 0) for a log
    /// never written, and the current epoch at the log end offset if the leader changed since the last write.
    func epochs(_ p: Int32) -> [(epoch: Int32, startOffset: Int64)] {
        var e = logs[p]?.epochs ?? []
        if e.isEmpty { e = [(0, logs[p]?.logStartOffset ?? 0)] }
        let part = partitions[Int(p)]
        if part.leaderEpoch > e[e.count - 1].epoch { e.append((part.leaderEpoch, part.logEndOffset)) }
        return e
    }

    /// Offsets and timestamps of an uncompressed batch's records; empty for a compressed one.
    static func recordTimestamps(_ b: SimStoredBatch) -> [(offset: Int64, timestamp: Int64)] {
        guard let records = try? RecordBatchHeader.recordTimestamps(b.bytes) else { return [] }
        return records.map { (b.baseOffset + Int64($0.offsetDelta), $0.timestamp) }
    }

    /// The first record at or after `timestamp` in a batch; nil for a compressed batch (whose records are not read:
    /// its base offset stands for it).
    static func firstRecord(in b: SimStoredBatch, atOrAfter timestamp: Int64) -> Int64? {
        recordTimestamps(b).first { $0.timestamp >= timestamp }?.offset
    }

    /// Kafka's `LeaderEpochFileCache.endOffsetFor`: the largest epoch at or below `epoch` and the offset where the
    /// next epoch starts (the log end offset for the latest epoch); (-1, -1) for an epoch above every known one.
    public func endOffset(forEpoch requested: Int32, _ p: Int32) -> (epoch: Int32, endOffset: Int64) {
        let leo = partitions[Int(p)].logEndOffset
        let epochs = epochs(p)
        guard requested >= 0 else { return (-1, -1) }
        if let latest = epochs.last, latest.epoch == requested { return (requested, leo) }
        // No epoch above the requested one (an empty cache included): Kafka answers undefined.
        guard let higher = epochs.first(where: { $0.epoch > requested }) else { return (-1, -1) }
        guard let floor = epochs.last(where: { $0.epoch <= requested }) else { return (requested, higher.startOffset) }
        return (floor.epoch, higher.startOffset)
    }

    // MARK: retention

    /// Every `log.retention.check.interval.ms`: size-based retention, producer expiry, group offset expiry.
    mutating func housekeepIfDue() {
        guard !logs.isEmpty || !groups.isEmpty else { return }
        let anyBroker = nodes.first { $0.isBroker }?.id ?? -1
        let interval = max(
            1000, Int64(brokerConfig(anyBroker, "log.retention.check.interval.ms")?.value ?? "") ?? 300_000)
        if nextHousekeepingMs == 0 { nextHousekeepingMs = interval }
        guard now >= nextHousekeepingMs else { return }
        nextHousekeepingMs = now + interval
        enforceRetention()
        expireGroups()
    }

    /// Kafka's size-based retention, run every `log.retention.check.interval.ms`: while the log minus its oldest
    /// segment is still at least `retention.bytes`, that segment is deleted and the log start offset moves to the
    /// next one. Idle producers expire after `producer.id.expiration.ms`.
    mutating func enforceRetention() {
        let anyBroker = nodes.first { $0.isBroker }?.id ?? -1
        let producerExpiry = Int64(brokerConfig(anyBroker, "producer.id.expiration.ms")?.value ?? "") ?? 86_400_000
        for p in Array(logs.keys) {
            guard var log = logs[p] else { continue }
            let t = Int(partitions[Int(p)].topic)
            let limit = Int64(topicConfig(topic: t, "retention.bytes")?.value ?? "") ?? -1
            if limit >= 0 {
                var total = log.segments.reduce(Int64(0)) { $0 + $1.bytes }
                while log.segments.count > 1, total - log.segments[0].bytes >= limit {
                    total -= log.segments[0].bytes
                    log.segments.removeFirst()
                    let newStart = log.segments[0].baseOffset
                    while log.batches.count > log.first, log.batches[log.first].lastOffset < newStart {
                        _ = log.dropOldest()
                    }
                    log.logStartOffset = max(log.logStartOffset, newStart)
                }
            }
            log.producers = log.producers.filter { now - $0.value.lastMs < producerExpiry }
            logs[p] = log
        }
    }
}

extension ProduceOutcome {
    var error: KafkaErrorCode? {
        if case .error(let e) = self { return e }
        return nil
    }
}
