/// Replicas of each topic on each broker. Dense (`topics × brokers` Int32s) while that stays under 64 Mi cells;
/// above it (3,000 brokers × 190,000 topics would take 2 GiB) an open-addressing table keyed by the pairs that
/// occur, which are at most the replicas plus the moves.
struct TopicCounts: Sendable {
    private let brokers: Int
    let isDense: Bool
    private var dense: [Int32]
    private var keys: [UInt64]
    private var values: [Int32]
    private var used = 0
    private var mask = 0

    static let denseLimit = 64 * 1024 * 1024
    private static let empty = UInt64.max

    init(topics: Int, brokers: Int, expectedPairs: Int, denseLimit: Int = TopicCounts.denseLimit) {
        self.brokers = brokers
        isDense = topics * brokers <= denseLimit
        if isDense {
            dense = [Int32](repeating: 0, count: topics * brokers)
            keys = []
            values = []
        } else {
            dense = []
            var size = 1024
            while size < expectedPairs * 2 { size *= 2 }
            keys = [UInt64](repeating: Self.empty, count: size)
            values = [Int32](repeating: 0, count: size)
            mask = size - 1
        }
    }

    subscript(topic: Int, broker: Int) -> Int32 {
        if isDense { return dense[topic * brokers + broker] }
        let key = UInt64(topic * brokers + broker)
        var i = Self.slot(key) & mask
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == Self.empty { return 0 }
            i = (i + 1) & mask
        }
    }

    mutating func add(topic: Int, broker: Int, _ delta: Int32) {
        if isDense {
            dense[topic * brokers + broker] += delta
            return
        }
        let key = UInt64(topic * brokers + broker)
        var i = Self.slot(key) & mask
        while true {
            let k = keys[i]
            if k == key {
                values[i] += delta
                return
            }
            if k == Self.empty {
                keys[i] = key
                values[i] = delta
                used += 1
                if used * 10 > keys.count * 7 { grow() }
                return
            }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        keys = [UInt64](repeating: Self.empty, count: oldKeys.count * 2)
        values = [Int32](repeating: 0, count: oldKeys.count * 2)
        mask = keys.count - 1
        used = 0
        for (k, v) in zip(oldKeys, oldValues) where k != Self.empty {
            var i = Self.slot(k) & mask
            while keys[i] != Self.empty { i = (i + 1) & mask }
            keys[i] = k
            values[i] = v
            used += 1
        }
    }

    @inline(__always)
    private static func slot(_ key: UInt64) -> Int {
        var z = key &* 0x9E37_79B9_7F4A_7C15
        z ^= z >> 29
        return Int(truncatingIfNeeded: z)
    }
}
