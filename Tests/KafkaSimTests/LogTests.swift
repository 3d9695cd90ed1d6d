import KafkaWire
import Testing

@testable import KafkaSim

/// A producer's batch of `values`, optionally idempotent.
func records(
    _ values: [String], producerId: Int64 = -1, epoch: Int16 = -1, sequence: Int32 = -1, timestamp: Int64 = 1_000
) -> SimProduceBatch {
    let bytes = RecordBatchHeader.build(
        records: values.map { .init(value: Array($0.utf8)) }, timestamp: timestamp, producerId: producerId,
        producerEpoch: epoch, baseSequence: sequence)
    return SimProduceBatch(header: try! RecordBatchHeader.parse(bytes)[0], bytes: bytes)
}

extension SimCluster {
    /// Produce to `t-partition` through its leader.
    @discardableResult
    mutating func write(_ batch: SimProduceBatch, partition: Int32 = 0, acks: Int16 = -1, topic: String = "t")
        -> ProduceOutcome
    {
        let leader = partitions[Int(partitionIndex(topic: topic, partition: partition)!)].leader
        return produce(broker: leader, topic: topic, partition: partition, acks: acks, batches: [batch])
    }

    /// Everything readable (below the high watermark) from `offset`, as batch headers.
    func readAll(partition: Int32 = 0, from offset: Int64 = 0, topic: String = "t") throws -> [RecordBatchHeader] {
        let p = partitionIndex(topic: topic, partition: partition)!
        let read = readBatches(p, from: offset, limit: highWatermark(p), maxBytes: .max, minOneBatch: true)
        return try RecordBatchHeader.parse(read.records)
    }

    func index(_ partition: Int32 = 0, topic: String = "t") -> Int32 {
        partitionIndex(topic: topic, partition: partition)!
    }
}

@Suite struct LogTests {
    @Test func producedBatchesAreReadBackWithTheOffsetsAndLeaderEpochTheLeaderAssigned() throws {
        var c = try smallCluster()
        #expect(c.write(records(["a", "b", "c"])) == .appended(baseOffset: 0))
        #expect(c.write(records(["d", "e"])) == .appended(baseOffset: 3))
        let read = try c.readAll()
        #expect(read.map(\.baseOffset) == [0, 3])
        #expect(read.map(\.recordCount) == [3, 2])
        #expect(read.allSatisfy { $0.partitionLeaderEpoch == part(c).leaderEpoch })
        #expect(c.highWatermark(c.index()) == 5)
        // A fetch from the middle of a batch gets the whole batch, as from Kafka.
        #expect(try c.readAll(from: 4).map(\.baseOffset) == [3])
        #expect(try c.readAll(from: 5).isEmpty)
    }

    @Test func dataAboveTheHighWatermarkStaysInvisibleWhileACrashedFollowerIsInTheIsr() throws {
        var c = try smallCluster(minIsr: 1)
        let p = c.index()
        c.write(records(["a"]), acks: 1)
        let follower = part(c).isr.first { $0 != part(c).leader }!
        try c.kill(follower)
        c.write(records(["b"]), acks: 1)
        #expect(part(c).logEndOffset == 2)
        #expect(c.highWatermark(p) == 1, "the crashed follower holds only offset 0")
        #expect(try c.readAll().map(\.baseOffset) == [0])
        // acks=all cannot complete while it sits in the ISR.
        #expect(c.write(records(["c"]), acks: -1) == .error(.requestTimedOut))
        c.advance(to: c.crashDetectionMs(follower))
        #expect(!part(c).isr.contains(follower))
        #expect(c.highWatermark(p) == 2)
        #expect(try c.readAll().map(\.baseOffset) == [0, 1])
    }

    @Test func aCleanFailoverKeepsEveryAcknowledgedAcksAllRecord() throws {
        var c = try smallCluster()
        for i in 0..<10 { #expect(c.write(records(["m\(i)"])) == .appended(baseOffset: Int64(i))) }
        let oldLeader = part(c).leader
        try c.kill(oldLeader)
        c.advance(to: c.crashDetectionMs(oldLeader))
        #expect(part(c).leader != oldLeader && part(c).leader >= 0)
        #expect(part(c).logEndOffset == 10)
        #expect(try c.readAll().count == 10)
        #expect(c.write(records(["after"])) == .appended(baseOffset: 10))
    }

    @Test func anUncleanElectionTruncatesTheLogToWhatTheNewLeaderHeld() throws {
        var c = try smallCluster(minIsr: 1)
        try c.alterConfigs(
            .topic("t"), [.init(name: "unclean.leader.election.enable", value: "true")], incremental: true,
            validateOnly: false, answeringBroker: 1)
        c.write(records(["a", "b"]), acks: 1)
        let leader = part(c).leader
        let others = part(c).replicas.filter { $0 != leader }
        // The followers stop: out of the ISR, holding offsets 0-1.
        for b in others { try c.stop(b) }
        c.advance(to: c.now + c.settings.shutdownDurationMs)
        c.write(records(["c"]), acks: 1)
        c.write(records(["d"]), acks: 1)
        #expect(part(c).logEndOffset == 4)
        // The leader dies; a follower comes back and is elected uncleanly.
        try c.kill(leader)
        try c.start(others[0])
        c.advance(to: c.now + max(c.settings.startupDelayMs, c.crashDetectionMs(leader)) + 1)
        #expect(part(c).leader == others[0])
        #expect(part(c).logEndOffset == 2)
        #expect(try c.readAll().map(\.baseOffset) == [0])
        #expect(c.write(records(["e"]), acks: 1) == .appended(baseOffset: 2))
        #expect(c.stats.uncleanElections >= 1)
    }

    @Test func theMemoryBoundDropsTheOldestBatchesAndMovesTheLogStartOffset() throws {
        var settings = SimSettings()
        settings.maxStoredBytesPerPartition = 10_000
        var c = try smallCluster(settings: settings)
        let value = String(repeating: "x", count: 1000)
        for _ in 0..<50 { c.write(records([value])) }
        let p = c.index()
        let log = try #require(c.logs[p])
        #expect(log.storedBytes <= 10_000)
        #expect(log.logStartOffset > 0)
        #expect(c.listOffset(p, timestamp: -2).offset == log.logStartOffset)
        #expect(c.listOffset(p, timestamp: -1).offset == 50)
        #expect(c.clientStats.evictedBytes > 0)
        #expect(try c.readAll(from: log.logStartOffset).first?.baseOffset == log.logStartOffset)
    }

    @Test func retentionBytesDeletesWholeSegmentsAtTheRetentionCheck() throws {
        var settings = SimSettings()
        settings.maxStoredBytesPerPartition = 8 << 20
        var c = try smallCluster(settings: settings)
        // 1 MiB segments (Kafka 4's minimum) hold two 400 KB batches each.
        try c.createTopic(
            name: "r", partitions: 1, replicationFactor: 3,
            configs: ["retention.bytes": "2000000", "segment.bytes": "1048576"])
        let value = String(repeating: "x", count: 400_000)
        for _ in 0..<10 { c.write(records([value]), topic: "r") }
        let p = c.index(topic: "r")
        #expect(c.logStartOffset(p) == 0, "Kafka deletes only at log.retention.check.interval.ms")
        c.advance(to: 300_000)
        // Five segments of ~800 KB: the oldest go while the rest still hold 2,000,000 bytes.
        #expect(c.logStartOffset(p) == 4)
        #expect(try c.readAll(from: 4, topic: "r").first?.baseOffset == 4)
        #expect(c.listOffset(p, timestamp: -2).offset == 4)
    }

    @Test func listOffsetsFindsEarliestLatestTheLargestTimestampAndByTimestamp() throws {
        var c = try smallCluster()
        c.write(records(["a", "b"], timestamp: 1_000))
        c.write(records(["c"], timestamp: 5_000))
        c.write(records(["d"], timestamp: 3_000))
        let p = c.index()
        #expect(c.listOffset(p, timestamp: -2).offset == 0)
        #expect(c.listOffset(p, timestamp: -1).offset == 4)
        #expect(c.listOffset(p, timestamp: -1).leaderEpoch == part(c).leaderEpoch)
        let max = c.listOffset(p, timestamp: -3)
        #expect(max.offset == 2 && max.timestamp == 5_000)
        #expect(c.listOffset(p, timestamp: 2_000).offset == 2)
        #expect(c.listOffset(p, timestamp: 1_000).offset == 0)
        #expect(c.listOffset(p, timestamp: 9_000).offset == -1)
        #expect(c.listOffset(p, timestamp: -5).offset == -1)
    }

    @Test func offsetForLeaderEpochAnswersWhereEachEpochEnds() throws {
        var c = try smallCluster()
        let p = c.index()
        c.write(records(["a", "b"]))
        let first = part(c).leaderEpoch
        try c.stop(part(c).leader)
        let second = part(c).leaderEpoch
        #expect(second > first)
        c.write(records(["c"]))
        #expect(c.endOffset(forEpoch: first, p) == (first, 2))
        #expect(c.endOffset(forEpoch: second, p) == (second, 3))
        #expect(c.endOffset(forEpoch: second + 5, p) == (-1, -1))
        #expect(c.endOffset(forEpoch: -1, p) == (-1, -1))
    }

    @Test func deletingATopicDropsItsLog() throws {
        var c = try smallCluster()
        c.write(records(["a"]))
        let p = c.index()
        try c.deleteTopic(name: "t")
        #expect(c.logs[p] == nil)
    }

    @Test func clientsMayNotWriteToTheOffsetsTopicNorSendControlOrTransactionalBatches() throws {
        var c = try smallCluster()
        _ = c.findCoordinator(group: "g")
        let leader = c.partitions[Int(c.index(topic: SimCluster.offsetsTopic))].leader
        #expect(
            c.produce(broker: leader, topic: SimCluster.offsetsTopic, partition: 0, acks: -1, batches: [records(["x"])])
                == .error(.invalidTopicException))
        var control = records(["x"])
        control.bytes[22] |= 0x20
        control.header = try RecordBatchHeader.parse(Self.recrc(control.bytes))[0]
        #expect(c.write(.init(header: control.header, bytes: Self.recrc(control.bytes))) == .error(.invalidRecord))
        let txn = RecordBatchHeader.build(
            records: [.init(value: [1])], timestamp: 1, producerId: 7, producerEpoch: 0, baseSequence: 0,
            transactional: true)
        #expect(c.write(.init(header: try RecordBatchHeader.parse(txn)[0], bytes: txn)) == .error(.invalidTxnState))
    }

    /// The batch with its CRC recomputed after an edit of its attributes.
    static func recrc(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        let crc = CRC32C.checksum(b, range: 21..<b.count)
        for i in 0..<4 { b[17 + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
        return b
    }
}

@Suite struct IdempotentProducerTests {
    @Test func aRetriedBatchIsAcknowledgedWithItsOriginalOffsetAndWrittenOnce() throws {
        var c = try smallCluster()
        let pid = c.initProducerId(transactionalId: nil).producerId
        #expect(c.write(records(["a", "b"], producerId: pid, epoch: 0, sequence: 0)) == .appended(baseOffset: 0))
        #expect(c.write(records(["c"], producerId: pid, epoch: 0, sequence: 2)) == .appended(baseOffset: 2))
        #expect(c.write(records(["a", "b"], producerId: pid, epoch: 0, sequence: 0)) == .appended(baseOffset: 0))
        #expect(c.write(records(["c"], producerId: pid, epoch: 0, sequence: 2)) == .appended(baseOffset: 2))
        #expect(part(c).logEndOffset == 3)
    }

    @Test func aSequenceGapIsOutOfOrderAndAnOlderEpochIsFenced() throws {
        var c = try smallCluster()
        let pid = c.initProducerId(transactionalId: nil).producerId
        c.write(records(["a"], producerId: pid, epoch: 1, sequence: 0))
        #expect(c.write(records(["b"], producerId: pid, epoch: 1, sequence: 2)) == .error(.outOfOrderSequenceNumber))
        #expect(c.write(records(["b"], producerId: pid, epoch: 0, sequence: 1)) == .error(.invalidProducerEpoch))
        // A new epoch starts again at sequence 0.
        #expect(c.write(records(["b"], producerId: pid, epoch: 2, sequence: 5)) == .error(.outOfOrderSequenceNumber))
        #expect(c.write(records(["b"], producerId: pid, epoch: 2, sequence: 0)) == .appended(baseOffset: 1))
        #expect(c.stats.produceByError[.outOfOrderSequenceNumber] == 2)
    }

    @Test func onlyTheLastFiveBatchesAreRememberedAsDuplicates() throws {
        var c = try smallCluster()
        let pid = c.initProducerId(transactionalId: nil).producerId
        for s in 0..<6 { c.write(records(["v\(s)"], producerId: pid, epoch: 0, sequence: Int32(s))) }
        #expect(c.write(records(["v1"], producerId: pid, epoch: 0, sequence: 1)) == .appended(baseOffset: 1))
        #expect(c.write(records(["v0"], producerId: pid, epoch: 0, sequence: 0)) == .error(.outOfOrderSequenceNumber))
    }

    @Test func aNewLeaderKnowsTheProducersSequences() throws {
        var c = try smallCluster()
        let pid = c.initProducerId(transactionalId: nil).producerId
        c.write(records(["a"], producerId: pid, epoch: 0, sequence: 0))
        c.write(records(["b"], producerId: pid, epoch: 0, sequence: 1))
        let old = part(c).leader
        try c.stop(old)
        #expect(part(c).leader != old)
        // The retry of the last batch reaches the new leader: a duplicate, not a second copy.
        #expect(c.write(records(["b"], producerId: pid, epoch: 0, sequence: 1)) == .appended(baseOffset: 1))
        #expect(c.write(records(["d"], producerId: pid, epoch: 0, sequence: 3)) == .error(.outOfOrderSequenceNumber))
        #expect(c.write(records(["c"], producerId: pid, epoch: 0, sequence: 2)) == .appended(baseOffset: 2))
    }

    @Test func initProducerIdGivesFreshIdsAndRefusesTransactions() throws {
        var c = try smallCluster()
        let a = c.initProducerId(transactionalId: nil)
        let b = c.initProducerId(transactionalId: nil)
        #expect(a.error == .none && b.error == .none)
        #expect(a.producerId != b.producerId)
        #expect(a.epoch == 0)
        #expect(c.initProducerId(transactionalId: "tx").error == .transactionalIdAuthorizationFailed)
    }

    @Test func idleProducersExpireAfterTheProducerIdExpiration() throws {
        var c = try smallCluster(configs: ["producer.id.expiration.ms": "600000"])
        let pid = c.initProducerId(transactionalId: nil).producerId
        c.write(records(["a"], producerId: pid, epoch: 0, sequence: 0))
        #expect(c.logs[c.index()]?.producerCount == 1)
        c.advance(to: 900_000)
        #expect(c.logs[c.index()]?.producerCount == 0)
        // Unknown again: any sequence is accepted, as Kafka does for a producer without state.
        #expect(c.write(records(["b"], producerId: pid, epoch: 0, sequence: 7)) == .appended(baseOffset: 1))
    }
}
