/// CRC-32C (Castagnoli), the checksum of Kafka record batches (magic 2).
public enum CRC32C {
    private static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            tables[0][i] = c
        }
        for i in 0..<256 {
            for t in 1..<8 {
                let prev = tables[t - 1][i]
                tables[t][i] = (prev >> 8) ^ tables[0][Int(prev & 0xff)]
            }
        }
        return tables
    }()

    /// The checksum of `bytes[range]`.
    public static func checksum(_ bytes: [UInt8], range: Range<Int>? = nil) -> UInt32 {
        let range = range ?? 0..<bytes.count
        let t = tables
        var crc: UInt32 = 0xFFFF_FFFF
        bytes.withUnsafeBufferPointer { buf in
            var i = range.lowerBound
            let end = range.upperBound
            // Slicing-by-8: eight table lookups per eight bytes.
            while end - i >= 8 {
                let lo =
                    crc
                    ^ (UInt32(buf[i]) | UInt32(buf[i + 1]) << 8 | UInt32(buf[i + 2]) << 16 | UInt32(buf[i + 3]) << 24)
                let hi =
                    UInt32(buf[i + 4]) | UInt32(buf[i + 5]) << 8 | UInt32(buf[i + 6]) << 16 | UInt32(buf[i + 7]) << 24
                crc =
                    t[7][Int(lo & 0xff)] ^ t[6][Int((lo >> 8) & 0xff)] ^ t[5][Int((lo >> 16) & 0xff)]
                    ^ t[4][Int(lo >> 24)] ^ t[3][Int(hi & 0xff)] ^ t[2][Int((hi >> 8) & 0xff)]
                    ^ t[1][Int((hi >> 16) & 0xff)] ^ t[0][Int(hi >> 24)]
                i += 8
            }
            while i < end {
                crc = (crc >> 8) ^ t[0][Int((crc ^ UInt32(buf[i])) & 0xff)]
                i += 1
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
