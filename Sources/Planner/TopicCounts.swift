/// Replicas of each topic on each broker. Dense (`topics × brokers` Int32s) while that stays under 64 Mi cells;
/// above it (3,000 brokers × 190,000 topics would take 2 GiB) an open-addressing table keyed by the pairs that
/// occur, which are at most the replicas plus the moves.
struct TopicCounts: Sendable {
    private let brokers: Int
    let isDense: Bool
    private var dense: [Int32]
    /// The sparse table: each entry is a pair's key + 1 (40 bits) and its count (24-bit two's complement) in one
    /// word, 0 when empty, so a lookup reads one cache line (two arrays took two misses per lookup in a 270 MB table).
    private var entries: [UInt64]
    private var used = 0
    private var mask = 0

    static let denseLimit = 64 * 1024 * 1024

    init(topics: Int, brokers: Int, expectedPairs: Int, denseLimit: Int = TopicCounts.denseLimit) {
        self.brokers = brokers
        isDense = topics * brokers <= denseLimit
        if isDense {
            dense = [Int32](repeating: 0, count: topics * brokers)
            entries = []
        } else {
            precondition(topics * brokers < 1 << 40, "TopicCounts: \(topics) topics × \(brokers) brokers")
            dense = []
            var size = 1024
            while size < expectedPairs * 2 { size *= 2 }
            entries = [UInt64](repeating: 0, count: size)
            mask = size - 1
        }
    }

    subscript(topic: Int, broker: Int) -> Int32 {
        if isDense { return dense[topic * brokers + broker] }
        let tag = UInt64(topic * brokers + broker + 1)
        var i = Self.slot(tag) & mask
        while true {
            let e = entries[i]
            if e >> 24 == tag { return Self.count(e) }
            if e == 0 { return 0 }
            i = (i + 1) & mask
        }
    }

    mutating func add(topic: Int, broker: Int, _ delta: Int32) {
        if isDense {
            dense[topic * brokers + broker] += delta
            return
        }
        let tag = UInt64(topic * brokers + broker + 1)
        var i = Self.slot(tag) & mask
        while true {
            let e = entries[i]
            if e >> 24 == tag {
                entries[i] = Self.entry(tag, Self.count(e) + delta)
                return
            }
            if e == 0 {
                entries[i] = Self.entry(tag, delta)
                used += 1
                if used * 10 > entries.count * 7 { grow() }
                return
            }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let old = entries
        entries = [UInt64](repeating: 0, count: old.count * 2)
        mask = entries.count - 1
        for e in old where e != 0 {
            var i = Self.slot(e >> 24) & mask
            while entries[i] != 0 { i = (i + 1) & mask }
            entries[i] = e
        }
    }

    @inline(__always)
    private static func entry(_ tag: UInt64, _ count: Int32) -> UInt64 {
        // A broker holds at most a few thousand replicas of a topic; 24 bits hold ±8 million.
        precondition(abs(count) < 1 << 23, "TopicCounts: \(count) replicas of one topic on one broker")
        return tag << 24 | UInt64(UInt32(bitPattern: count)) & 0xFF_FFFF
    }

    @inline(__always)
    private static func count(_ e: UInt64) -> Int32 {
        Int32(truncatingIfNeeded: Int64(bitPattern: e << 40) >> 40)
    }

    @inline(__always)
    private static func slot(_ key: UInt64) -> Int {
        var z = key &* 0x9E37_79B9_7F4A_7C15
        z ^= z >> 29
        return Int(truncatingIfNeeded: z)
    }
}
