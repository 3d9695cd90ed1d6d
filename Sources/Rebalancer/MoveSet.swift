/// A set of move indices, one bit per move: insertion, removal and membership hash nothing, and iteration is in index
/// order (the order every poll goes through the moves in flight) without sorting.
struct MoveSet: Sendable, Sequence {
    private var words: [UInt64]
    private(set) var count = 0

    /// An empty set of indices below `capacity`.
    init(capacity: Int) {
        words = Array(repeating: 0, count: (capacity + 63) / 64)
    }

    func contains(_ m: Int) -> Bool { words[m >> 6] & (1 << UInt64(m & 63)) != 0 }

    mutating func insert(_ m: Int) {
        let bit: UInt64 = 1 << UInt64(m & 63)
        if words[m >> 6] & bit == 0 {
            words[m >> 6] |= bit
            count += 1
        }
    }

    mutating func remove(_ m: Int) {
        let bit: UInt64 = 1 << UInt64(m & 63)
        if words[m >> 6] & bit != 0 {
            words[m >> 6] &= ~bit
            count -= 1
        }
    }

    /// Iterates the set as it was when iteration began (changes made meanwhile are not seen).
    struct Iterator: IteratorProtocol {
        let words: [UInt64]
        var index = 0
        var word: UInt64

        mutating func next() -> Int? {
            while word == 0 {
                index += 1
                guard index < words.count else { return nil }
                word = words[index]
            }
            let bit = word.trailingZeroBitCount
            word &= word - 1
            return index << 6 | bit
        }
    }

    func makeIterator() -> Iterator { Iterator(words: words, word: words.first ?? 0) }
}
