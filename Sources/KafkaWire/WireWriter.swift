/// Appends Kafka primitives to a byte array.
public struct WireWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    @inline(__always)
    private mutating func store<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(int8 v: Int8) { bytes.append(UInt8(bitPattern: v)) }
    public mutating func write(int16 v: Int16) { store(v) }
    public mutating func write(int32 v: Int32) { store(v) }
    public mutating func write(int64 v: Int64) { store(v) }
    public mutating func write(uint16 v: UInt16) { store(v) }
    public mutating func write(uint32 v: UInt32) { store(v) }
    public mutating func write(float64 v: Double) { store(v.bitPattern) }
    public mutating func write(bool v: Bool) { bytes.append(v ? 1 : 0) }
    public mutating func write(uuid v: KafkaUUID) {
        store(v.high)
        store(v.low)
    }
    public mutating func write(raw v: [UInt8]) { bytes.append(contentsOf: v) }

    public mutating func write(unsignedVarint v: UInt32) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func write(unsignedVarlong v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Zig-zag encoded signed 32-bit varint.
    public mutating func write(varint v: Int32) {
        write(unsignedVarint: UInt32(bitPattern: (v << 1) ^ (v >> 31)))
    }

    /// Zig-zag encoded signed 64-bit varlong.
    public mutating func write(varlong v: Int64) {
        write(unsignedVarlong: UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    // MARK: Lengths

    /// Array count: int32 (classic) or unsigned varint count+1 (compact); nil writes null.
    public mutating func write(arrayLength n: Int?, compact: Bool) {
        if compact {
            write(unsignedVarint: n.map { UInt32(truncatingIfNeeded: $0 + 1) } ?? 0)
        } else {
            write(int32: n.map { Int32(truncatingIfNeeded: $0) } ?? -1)
        }
    }

    // MARK: Strings and bytes

    public mutating func write(string s: String, compact: Bool, _ field: StaticString = "string") throws(WireError) {
        let count = s.utf8.count
        if compact {
            write(unsignedVarint: UInt32(truncatingIfNeeded: count + 1))
        } else {
            guard count <= Int(Int16.max) else {
                throw WireError("\(field): string of \(count) bytes is longer than 32767")
            }
            write(int16: Int16(count))
        }
        bytes.append(contentsOf: s.utf8)
    }

    public mutating func write(nullableString s: String?, compact: Bool, _ field: StaticString = "string")
        throws(WireError)
    {
        guard let s else {
            if compact { write(unsignedVarint: 0) } else { write(int16: -1) }
            return
        }
        try write(string: s, compact: compact, field)
    }

    public mutating func write(bytes b: [UInt8], compact: Bool) {
        if compact {
            write(unsignedVarint: UInt32(truncatingIfNeeded: b.count + 1))
        } else {
            write(int32: Int32(truncatingIfNeeded: b.count))
        }
        bytes.append(contentsOf: b)
    }

    public mutating func write(nullableBytes b: [UInt8]?, compact: Bool) {
        guard let b else {
            if compact { write(unsignedVarint: 0) } else { write(int32: -1) }
            return
        }
        write(bytes: b, compact: compact)
    }

    // MARK: Tagged fields

    /// A tagged-field section: count, then each (tag, size, value) in ascending tag order.
    public mutating func write(taggedFields fields: [TaggedField]) {
        write(unsignedVarint: UInt32(truncatingIfNeeded: fields.count))
        if fields.isEmpty { return }
        var sorted = fields
        var isSorted = true
        for i in 1..<fields.count where fields[i - 1].tag > fields[i].tag { isSorted = false }
        if !isSorted { sorted.sort { $0.tag < $1.tag } }
        for f in sorted {
            write(unsignedVarint: f.tag)
            write(unsignedVarint: UInt32(truncatingIfNeeded: f.data.count))
            bytes.append(contentsOf: f.data)
        }
    }
}
