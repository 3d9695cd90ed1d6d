extension RecordBatchHeader {
    /// The offset delta and timestamp of each record of one uncompressed magic-2 batch (`batch` starts at its base
    /// offset field). Throws for a compressed batch, whose records are not readable without its codec, and for a
    /// malformed one.
    public static func recordTimestamps(_ batch: [UInt8]) throws(WireError) -> [(offsetDelta: Int32, timestamp: Int64)]
    {
        guard let header = try parse(batch).first else { return [] }
        guard header.compression == RecordBatchHeader.Compression.none else {
            throw WireError("RecordBatch at offset \(header.baseOffset): compressed, records not readable")
        }
        var reader = WireReader(batch, offset: size)
        let end = logOverhead + Int(header.batchLength)
        var out: [(offsetDelta: Int32, timestamp: Int64)] = []
        out.reserveCapacity(Int(header.recordCount))
        for _ in 0..<header.recordCount {
            let length = try reader.readVarint("Record.length")
            let start = reader.offset
            guard length >= 0, Int(length) <= end - start else {
                throw WireError("RecordBatch at offset \(header.baseOffset): record length \(length) out of range")
            }
            _ = try reader.readInt8("Record.attributes")
            let timestampDelta = try reader.readVarlong("Record.timestampDelta")
            let offsetDelta = try reader.readVarint("Record.offsetDelta")
            let timestamp = header.isLogAppendTime ? header.maxTimestamp : header.baseTimestamp &+ timestampDelta
            out.append((offsetDelta, timestamp))
            reader.offset = start + Int(length)
        }
        return out
    }
}
