/// The header of a magic-2 record batch (Kafka's `DefaultRecordBatch`). Parsing checks the CRC-32C; the records
/// themselves are not decompressed or decoded.
public struct RecordBatchHeader: Sendable, Equatable {
    public enum Compression: Int16, Sendable {
        case none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4
    }

    /// Bytes from the start of the batch to its first record.
    public static let size = 61
    /// Bytes of the base offset and length fields, which `batchLength` does not count.
    public static let logOverhead = 12

    public var baseOffset: Int64
    /// Bytes after the length field (so the batch spans `batchLength + 12` bytes).
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: Int16
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordCount: Int32

    /// The compression codec (attribute bits 0-2); nil for a codec Kafka does not define.
    public var compression: Compression? { Compression(rawValue: attributes & 0x07) }
    /// Timestamps are broker append times (attribute bit 3).
    public var isLogAppendTime: Bool { attributes & 0x08 != 0 }
    public var isTransactional: Bool { attributes & 0x10 != 0 }
    public var isControl: Bool { attributes & 0x20 != 0 }
    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }

    /// Parses every batch in a `records` field. Throws on a truncated batch, a magic other than 2, or a CRC
    /// mismatch, naming the batch by its base offset.
    public static func parse(_ records: [UInt8]) throws(WireError) -> [RecordBatchHeader] {
        var out: [RecordBatchHeader] = []
        var reader = WireReader(records)
        while !reader.isAtEnd {
            let start = reader.offset
            let baseOffset = try reader.readInt64("RecordBatch.baseOffset")
            let batchLength = try reader.readInt32("RecordBatch.batchLength")
            guard batchLength >= Int32(size - logOverhead) else {
                throw WireError("RecordBatch at offset \(baseOffset): batch length \(batchLength) is too small")
            }
            guard Int(batchLength) <= reader.remaining else {
                throw WireError(
                    "RecordBatch at offset \(baseOffset): truncated, needs \(batchLength) bytes, has \(reader.remaining)"
                )
            }
            let end = start + logOverhead + Int(batchLength)
            let partitionLeaderEpoch = try reader.readInt32("RecordBatch.partitionLeaderEpoch")
            let magic = try reader.readInt8("RecordBatch.magic")
            guard magic == 2 else {
                throw WireError("RecordBatch at offset \(baseOffset): magic \(magic) is not supported (only 2)")
            }
            let crc = try reader.readUInt32("RecordBatch.crc")
            let computed = CRC32C.checksum(records, range: reader.offset..<end)
            guard computed == crc else {
                throw WireError(
                    "RecordBatch at offset \(baseOffset): CRC mismatch (stored \(hex(crc)), computed \(hex(computed)))")
            }
            let header = RecordBatchHeader(
                baseOffset: baseOffset, batchLength: batchLength, partitionLeaderEpoch: partitionLeaderEpoch,
                magic: magic, crc: crc,
                attributes: try reader.readInt16("RecordBatch.attributes"),
                lastOffsetDelta: try reader.readInt32("RecordBatch.lastOffsetDelta"),
                baseTimestamp: try reader.readInt64("RecordBatch.baseTimestamp"),
                maxTimestamp: try reader.readInt64("RecordBatch.maxTimestamp"),
                producerId: try reader.readInt64("RecordBatch.producerId"),
                producerEpoch: try reader.readInt16("RecordBatch.producerEpoch"),
                baseSequence: try reader.readInt32("RecordBatch.baseSequence"),
                recordCount: try reader.readInt32("RecordBatch.recordCount"))
            guard header.recordCount >= 0 else {
                throw WireError("RecordBatch at offset \(baseOffset): negative record count \(header.recordCount)")
            }
            out.append(header)
            reader.offset = end
        }
        return out
    }

    private static func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }

    /// One uncompressed record for `build`.
    public struct Record: Sendable, Equatable {
        public var key: [UInt8]?
        public var value: [UInt8]?
        public var headers: [(key: String, value: [UInt8]?)]

        public init(key: [UInt8]? = nil, value: [UInt8]?, headers: [(key: String, value: [UInt8]?)] = []) {
            self.key = key
            self.value = value
            self.headers = headers
        }

        public static func == (a: Record, b: Record) -> Bool {
            a.key == b.key && a.value == b.value && a.headers.count == b.headers.count
                && zip(a.headers, b.headers).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        }
    }

    /// A valid, uncompressed magic-2 batch holding `records`, all stamped `timestamp` (create time).
    public static func build(
        records: [Record], baseOffset: Int64 = 0, timestamp: Int64, partitionLeaderEpoch: Int32 = -1,
        producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1, transactional: Bool = false
    ) -> [UInt8] {
        var w = WireWriter(capacity: size + records.count * 16)
        w.write(int64: baseOffset)
        w.write(int32: 0)  // batch length, patched below
        w.write(int32: partitionLeaderEpoch)
        w.write(int8: 2)
        w.write(uint32: 0)  // CRC, patched below
        let crcStart = w.count
        w.write(int16: transactional ? 0x10 : 0)
        w.write(int32: Int32(max(0, records.count - 1)))
        w.write(int64: timestamp)
        w.write(int64: timestamp)
        w.write(int64: producerId)
        w.write(int16: producerEpoch)
        w.write(int32: baseSequence)
        w.write(int32: Int32(records.count))
        for (i, r) in records.enumerated() {
            var body = WireWriter(capacity: 32)
            body.write(int8: 0)  // record attributes (unused)
            body.write(varlong: 0)  // timestamp delta
            body.write(varint: Int32(i))  // offset delta
            writeVarintBytes(&body, r.key)
            writeVarintBytes(&body, r.value)
            body.write(varint: Int32(r.headers.count))
            for h in r.headers {
                writeVarintBytes(&body, Array(h.key.utf8))
                writeVarintBytes(&body, h.value)
            }
            w.write(varint: Int32(body.count))
            w.write(raw: body.bytes)
        }
        var bytes = w.bytes
        let length = UInt32(bytes.count - logOverhead)
        let crc = CRC32C.checksum(bytes, range: crcStart..<bytes.count)
        for i in 0..<4 {
            bytes[8 + i] = UInt8(truncatingIfNeeded: length >> (24 - 8 * UInt32(i)))
            bytes[17 + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i)))
        }
        return bytes
    }

    /// A valid batch of `count` small records with values `record-0`, `record-1`, ... and no keys.
    public static func build(recordCount count: Int, baseOffset: Int64 = 0, timestamp: Int64) -> [UInt8] {
        build(
            records: (0..<count).map { Record(value: Array("record-\($0)".utf8)) }, baseOffset: baseOffset,
            timestamp: timestamp)
    }

    private static func writeVarintBytes(_ w: inout WireWriter, _ b: [UInt8]?) {
        guard let b else {
            w.write(varint: -1)
            return
        }
        w.write(varint: Int32(b.count))
        w.write(raw: b)
    }
}
