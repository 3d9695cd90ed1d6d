/// Kafka's 128-bit UUID (topic ids, directory ids). Printed as Kafka does: URL-safe base64 without padding.
public struct KafkaUUID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public static let zero = KafkaUUID(high: 0, low: 0)

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// `bytes` must hold exactly 16 bytes (big-endian); otherwise nil.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        for i in 0..<8 {
            h = h << 8 | UInt64(bytes[i])
            l = l << 8 | UInt64(bytes[i + 8])
        }
        self.init(high: h, low: l)
    }

    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
            out[i + 8] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
        }
        return out
    }

    public static func < (a: KafkaUUID, b: KafkaUUID) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Kafka's `Uuid.toString()`: 22 characters of URL-safe base64.
    public var description: String {
        let b = bytes
        var out: [UInt8] = []
        out.reserveCapacity(22)
        var i = 0
        while i < 16 {
            let n = min(3, 16 - i)
            var chunk: UInt32 = 0
            for j in 0..<3 { chunk = chunk << 8 | (j < n ? UInt32(b[i + j]) : 0) }
            let chars = n + 1
            for j in 0..<chars {
                out.append(Self.alphabet[Int((chunk >> (18 - 6 * UInt32(j))) & 0x3f)])
            }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses Kafka's string form (URL-safe base64, padding optional); nil if it is not 16 bytes.
    public init?(_ string: String) {
        var values: [UInt8] = []
        for c in string.utf8 where c != UInt8(ascii: "=") {
            guard let v = Self.alphabet.firstIndex(of: c) else { return nil }
            values.append(UInt8(v))
        }
        guard values.count == 22 else { return nil }
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for v in values {
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        self.init(bytes: out)
    }
}
