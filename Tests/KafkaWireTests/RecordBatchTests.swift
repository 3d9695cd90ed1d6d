import Testing

@testable import KafkaWire

@Suite struct RecordBatchTests {
    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        // Slicing-by-8 and the byte loop agree on every length and alignment.
        let data = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        for start in 0..<9 {
            for end in start..<data.count {
                var crc: UInt32 = 0xFFFF_FFFF
                for b in data[start..<end] {
                    crc ^= UInt32(b)
                    for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
                }
                #expect(CRC32C.checksum(data, range: start..<end) == crc ^ 0xFFFF_FFFF)
            }
        }
    }

    @Test func aBuiltBatchParsesWithItsRecordCountAndValidCRC() throws {
        let batch = RecordBatchHeader.build(recordCount: 5, baseOffset: 100, timestamp: 1_700_000_000_000)
        let headers = try RecordBatchHeader.parse(batch)
        #expect(headers.count == 1)
        let h = try #require(headers.first)
        #expect(h.baseOffset == 100)
        #expect(h.recordCount == 5)
        #expect(h.lastOffsetDelta == 4 && h.lastOffset == 104)
        #expect(h.magic == 2)
        #expect(h.compression == RecordBatchHeader.Compression.none)
        #expect(!h.isTransactional && !h.isControl && !h.isLogAppendTime)
        #expect(h.producerId == -1 && h.producerEpoch == -1 && h.baseSequence == -1)
        #expect(Int(h.batchLength) + RecordBatchHeader.logOverhead == batch.count)
        #expect(h.baseTimestamp == 1_700_000_000_000 && h.maxTimestamp == 1_700_000_000_000)
    }

    @Test func theFirstRecordIsLaidOutAsKafkaSpecifies() throws {
        let batch = RecordBatchHeader.build(
            records: [.init(key: [7], value: [1, 2], headers: [(key: "h", value: nil)])], timestamp: 0)
        // length 12 (zig-zag 24), attributes 0, timestamp delta 0, offset delta 0, key len 1 (2) + key,
        // value len 2 (4) + value, one header (2): key len 1 (2) "h", value null (-1 -> 1).
        #expect(Array(batch.suffix(from: RecordBatchHeader.size)) == [24, 0, 0, 0, 2, 7, 4, 1, 2, 2, 2, 0x68, 1])
    }

    @Test func aCorruptedBatchIsRejected() throws {
        let batch = RecordBatchHeader.build(recordCount: 3, timestamp: 5)
        for i in [21, 30, RecordBatchHeader.size, batch.count - 1] {
            var bad = batch
            bad[i] ^= 0x40
            let error = #expect(throws: WireError.self) { try RecordBatchHeader.parse(bad) }
            #expect(error?.message.contains("CRC") == true)
        }
        var badCRC = batch
        badCRC[17] ^= 1
        #expect(throws: WireError.self) { try RecordBatchHeader.parse(badCRC) }
        #expect(throws: WireError.self) { try RecordBatchHeader.parse(Array(batch.dropLast())) }
        var badMagic = batch
        badMagic[16] = 1
        #expect(throws: WireError.self) { try RecordBatchHeader.parse(badMagic) }
    }

    @Test func concatenatedBatchesParseInOrder() throws {
        let a = RecordBatchHeader.build(recordCount: 2, baseOffset: 0, timestamp: 1)
        let b = RecordBatchHeader.build(recordCount: 3, baseOffset: 2, timestamp: 2)
        let headers = try RecordBatchHeader.parse(a + b)
        #expect(headers.map(\.baseOffset) == [0, 2])
        #expect(headers.map(\.recordCount) == [2, 3])
        #expect(try RecordBatchHeader.parse([]).isEmpty)
    }

    @Test func aProduceRequestCarriesABuiltBatch() throws {
        let records = RecordBatchHeader.build(recordCount: 10, timestamp: 9)
        let request = ProduceRequest(
            acks: -1, timeoutMs: 30000,
            topicData: [.init(name: "t", partitionData: [.init(index: 0, records: records)])])
        let decoded = try ProduceRequest(decoding: try request.encoded(version: 9), version: 9)
        let carried = try #require(decoded.topicData.first?.partitionData.first?.records)
        #expect(try RecordBatchHeader.parse(carried).first?.recordCount == 10)
    }
}
