/// Reads Kafka primitives from a byte array by index. Never traps: every out-of-range or malformed read
/// throws a `WireError` naming the field.
public struct WireReader: Sendable {
    public let bytes: [UInt8]
    /// The next byte to read.
    public var offset: Int
    /// One past the last byte this reader may read (a tagged field's value is read through a narrowed reader).
    public private(set) var end: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.end = bytes.count
        self.offset = min(max(0, offset), bytes.count)
    }

    public var remaining: Int { end - offset }
    public var isAtEnd: Bool { offset >= end }

    @inline(__always)
    private func need(_ n: Int, _ field: StaticString) throws(WireError) {
        guard n >= 0, end - offset >= n else {
            throw WireError("\(field): needs \(n) bytes at offset \(offset), only \(end - offset) left")
        }
    }

    @inline(__always)
    private mutating func load<T: FixedWidthInteger>(_: T.Type, _ field: StaticString) throws(WireError) -> T {
        let size = MemoryLayout<T>.size
        try need(size, field)
        let o = offset
        let v = bytes.withUnsafeBytes { T(bigEndian: $0.loadUnaligned(fromByteOffset: o, as: T.self)) }
        offset = o + size
        return v
    }

    public mutating func readInt8(_ field: StaticString = "int8") throws(WireError) -> Int8 {
        try load(Int8.self, field)
    }
    public mutating func readInt16(_ field: StaticString = "int16") throws(WireError) -> Int16 {
        try load(Int16.self, field)
    }
    public mutating func readInt32(_ field: StaticString = "int32") throws(WireError) -> Int32 {
        try load(Int32.self, field)
    }
    public mutating func readInt64(_ field: StaticString = "int64") throws(WireError) -> Int64 {
        try load(Int64.self, field)
    }
    public mutating func readUInt16(_ field: StaticString = "uint16") throws(WireError) -> UInt16 {
        try load(UInt16.self, field)
    }
    public mutating func readUInt32(_ field: StaticString = "uint32") throws(WireError) -> UInt32 {
        try load(UInt32.self, field)
    }
    public mutating func readFloat64(_ field: StaticString = "float64") throws(WireError) -> Double {
        Double(bitPattern: try load(UInt64.self, field))
    }

    /// Kafka reads any non-zero byte as true.
    public mutating func readBool(_ field: StaticString = "bool") throws(WireError) -> Bool {
        try load(UInt8.self, field) != 0
    }

    public mutating func readUUID(_ field: StaticString = "uuid") throws(WireError) -> KafkaUUID {
        let high = try load(UInt64.self, field)
        let low = try load(UInt64.self, field)
        return KafkaUUID(high: high, low: low)
    }

    public mutating func readUnsignedVarint(_ field: StaticString = "unsigned varint") throws(WireError) -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard offset < end else { throw WireError("\(field): truncated varint at offset \(offset)") }
            let b = bytes[offset]
            offset += 1
            if shift == 28 && b > 0x0f {
                throw WireError("\(field): varint longer than 32 bits at offset \(offset - 1)")
            }
            result |= UInt32(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    public mutating func readUnsignedVarlong(_ field: StaticString = "unsigned varlong") throws(WireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw WireError("\(field): truncated varlong at offset \(offset)") }
            let b = bytes[offset]
            offset += 1
            if shift == 63 && b > 0x01 {
                throw WireError("\(field): varlong longer than 64 bits at offset \(offset - 1)")
            }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Zig-zag encoded signed 32-bit varint.
    public mutating func readVarint(_ field: StaticString = "varint") throws(WireError) -> Int32 {
        let u = try readUnsignedVarint(field)
        return Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// Zig-zag encoded signed 64-bit varlong.
    public mutating func readVarlong(_ field: StaticString = "varlong") throws(WireError) -> Int64 {
        let u = try readUnsignedVarlong(field)
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// Raw bytes of a known length.
    public mutating func readRaw(count: Int, _ field: StaticString = "bytes") throws(WireError) -> [UInt8] {
        try need(count, field)
        let o = offset
        offset += count
        return Array(bytes[o..<o + count])
    }

    public mutating func skip(_ count: Int, _ field: StaticString = "bytes") throws(WireError) {
        try need(count, field)
        offset += count
    }

    // MARK: Lengths

    /// A length that may be null: unsigned varint N+1 when compact (0 = null), else the classic int16 or int32
    /// (-1 = null; another negative value is refused naming `what`).
    @inline(__always)
    mutating func readNullableLength(compact: Bool, int32: Bool, _ what: StaticString, _ field: StaticString)
        throws(WireError) -> Int?
    {
        if compact {
            let raw = Int(try readUnsignedVarint(field))
            return raw == 0 ? nil : raw - 1
        }
        let raw = int32 ? Int(try readInt32(field)) : Int(try readInt16(field))
        if raw == -1 { return nil }
        guard raw >= 0 else { throw WireError("\(field): negative \(what) length \(raw)") }
        return raw
    }

    /// A string length: int16 (classic, -1 = null) or unsigned varint N+1 (compact, 0 = null). nil means null.
    public mutating func readStringLength(compact: Bool, _ field: StaticString) throws(WireError) -> Int? {
        guard let n = try readNullableLength(compact: compact, int32: false, "string", field) else { return nil }
        try need(n, field)
        return n
    }

    /// A bytes length: int32 (classic, -1 = null) or unsigned varint N+1 (compact, 0 = null). nil means null.
    public mutating func readBytesLength(compact: Bool, _ field: StaticString) throws(WireError) -> Int? {
        guard let n = try readNullableLength(compact: compact, int32: true, "bytes", field) else { return nil }
        try need(n, field)
        return n
    }

    /// An array count: int32 (classic, -1 = null) or unsigned varint N+1 (compact, 0 = null). nil means null.
    /// A count larger than the bytes left is rejected (as Kafka does) so garbage cannot reserve huge arrays.
    public mutating func readArrayLength(compact: Bool, _ field: StaticString) throws(WireError) -> Int? {
        guard let n = try readNullableLength(compact: compact, int32: true, "array", field) else { return nil }
        guard n <= remaining else {
            throw WireError("\(field): array length \(n) exceeds the \(remaining) bytes left")
        }
        return n
    }

    // MARK: Strings and bytes

    private mutating func decodeString(count n: Int, _ field: StaticString) throws(WireError) -> String {
        let o = offset
        let s: String? = bytes.withUnsafeBufferPointer {
            String(validating: UnsafeBufferPointer(rebasing: $0[o..<o + n]), as: UTF8.self)
        }
        guard let s else { throw WireError("\(field): invalid UTF-8 at offset \(o)") }
        offset = o + n
        return s
    }

    public mutating func readString(compact: Bool, _ field: StaticString = "string") throws(WireError) -> String {
        guard let n = try readStringLength(compact: compact, field) else {
            throw WireError("\(field): null where a non-nullable string is required")
        }
        return try decodeString(count: n, field)
    }

    public mutating func readNullableString(compact: Bool, _ field: StaticString = "string") throws(WireError)
        -> String?
    {
        guard let n = try readStringLength(compact: compact, field) else { return nil }
        return try decodeString(count: n, field)
    }

    public mutating func readBytes(compact: Bool, _ field: StaticString = "bytes") throws(WireError) -> [UInt8] {
        guard let n = try readBytesLength(compact: compact, field) else {
            throw WireError("\(field): null where non-nullable bytes are required")
        }
        return try readRaw(count: n, field)
    }

    public mutating func readNullableBytes(compact: Bool, _ field: StaticString = "bytes") throws(WireError)
        -> [UInt8]?
    {
        guard let n = try readBytesLength(compact: compact, field) else { return nil }
        return try readRaw(count: n, field)
    }

    // MARK: Tagged fields

    /// Reads one tagged-field header (tag, size) and returns a reader narrowed to its value; advances past it.
    public mutating func readTaggedField(_ field: StaticString) throws(WireError) -> (tag: UInt32, value: WireReader) {
        let tag = try readUnsignedVarint(field)
        let size = Int(try readUnsignedVarint(field))
        try need(size, field)
        var sub = self
        sub.end = offset + size
        offset += size
        return (tag, sub)
    }

    /// Reads a whole tagged-field section keeping every field raw (headers, or structs without known tags).
    public mutating func readTaggedFields(_ field: StaticString = "tagged fields") throws(WireError) -> [TaggedField] {
        let count = try readUnsignedVarint(field)
        var out: [TaggedField] = []
        for _ in 0..<count {
            let (tag, value) = try readTaggedField(field)
            out.append(TaggedField(tag: tag, data: Array(value.bytes[value.offset..<value.end])))
        }
        return out
    }
}
