/// The order in which moves that copy data start: one queue per broker taking part (a destination, or the leader
/// the data is copied from), served busiest broker first so that the broker that bounds the execution's wall
/// time is never idle.
///
/// Within a queue the biggest moves are spread rather than bunched (largest, smallest, second largest, second
/// smallest, ...: a broker's concurrent moves mix sizes, and the biggest still start early), and cross-Kubernetes-
/// cluster moves are spread evenly through it rather than started all at once.
struct MoveSchedule: Sendable {
    /// Move indices per broker number (the state machine's `brokerNumbers`), in start order; empty for a broker no
    /// move is queued on. `heads[n]` skips entries that already left `pending`.
    var queues: [[Int]]
    /// Beside each queue entry, its move's destination (broker number) when it has one only, else -1: a poll's
    /// scan reads it in sequence with the queue rather than from the move's list elsewhere in memory.
    let queuedDestination: [[Int32]]
    var heads: [Int]
    /// The numbers of the brokers with a queue, ascending.
    let queued: [Int]
    /// Each queue's destinations: every broker (number) that a move of the queue copies to, each once. When none of
    /// them has a free slot, no move of the queue can start, and a poll need not look at any.
    let destinations: [[Int32]]
    /// Each move's queues (broker numbers, `brokers(of:)`) and its position in each: a move that is pending again
    /// goes back in front of their heads (`requeue`).
    let queuedOn: FlatLists
    let queuedAt: FlatLists

    init(moves: [PlannedMove], brokerNumbers: [Int32: Int]) {
        let copying = moves.indices.filter { moves[$0].copiesData }
        let bySize = copying.sorted {
            moves[$0].bytes != moves[$1].bytes
                ? moves[$0].bytes > moves[$1].bytes : moves[$0].topicPartition < moves[$1].topicPartition
        }
        let order = Self.interleave(
            Self.spread(bySize.filter { moves[$0].crossCluster }),
            Self.spread(bySize.filter { !moves[$0].crossCluster }))
        var queues = [[Int]](repeating: [], count: brokerNumbers.count)
        var queuedDestination = [[Int32]](repeating: [], count: brokerNumbers.count)
        var destinations = [Set<Int32>](repeating: [], count: brokerNumbers.count)
        var on = [[Int32]](repeating: [], count: moves.count)
        var at = [[Int32]](repeating: [], count: moves.count)
        for m in order {
            let added = moves[m].added.map { Int32(brokerNumbers[$0]!) }
            for b in Self.brokers(of: moves[m]) {
                let n = brokerNumbers[b]!
                on[m].append(Int32(n))
                at[m].append(Int32(queues[n].count))
                queues[n].append(m)
                queuedDestination[n].append(added.count == 1 ? added[0] : -1)
                destinations[n].formUnion(added)
            }
        }
        self.queues = queues
        self.queuedDestination = queuedDestination
        heads = Array(repeating: 0, count: queues.count)
        queued = queues.indices.filter { !queues[$0].isEmpty }
        self.destinations = destinations.map { $0.sorted() }
        queuedOn = FlatLists(on)
        queuedAt = FlatLists(at)
    }

    /// Puts move `m`, pending again (its start never reached Kafka), back in front of the heads of its queues. A head
    /// skips every move that is not pending, so without this a move journaled `requested` whose request never
    /// arrived (a crash between the journal and the request, or a request without an answer) was behind every
    /// head by the time the reads showed it had not started, and it never started: the execution never ended.
    mutating func requeue(_ m: Int) {
        for (n, position) in zip(queuedOn[m], queuedAt[m]) where heads[Int(n)] > Int(position) {
            heads[Int(n)] = Int(position)
        }
    }

    /// The brokers a move is queued on: its destinations and the leader it copies from (as planned).
    static func brokers(of move: PlannedMove) -> [Int32] {
        var out = move.added
        if move.oldLeader >= 0 && !out.contains(move.oldLeader) { out.append(move.oldLeader) }
        return out
    }

    /// Largest, smallest, second largest, second smallest, ... of a list sorted largest first.
    static func spread(_ sorted: [Int]) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(sorted.count)
        var lo = 0
        var hi = sorted.count - 1
        while lo <= hi {
            out.append(sorted[lo])
            if lo != hi { out.append(sorted[hi]) }
            lo += 1
            hi -= 1
        }
        return out
    }

    /// `a` spread evenly through `b` (each in its own order).
    static func interleave(_ a: [Int], _ b: [Int]) -> [Int] {
        let total = a.count + b.count
        var out: [Int] = []
        out.reserveCapacity(total)
        var i = 0
        var j = 0
        for k in 0..<total {
            // `a`'s i-th element goes to the position nearest (i + 0.5) × total / a.count.
            if i < a.count && (j >= b.count || (2 * i + 1) * total <= (2 * k + 1) * a.count) {
                out.append(a[i])
                i += 1
            } else {
                out.append(b[j])
                j += 1
            }
        }
        return out
    }
}

/// One list of brokers per move, all in one array: a list per move, each its own allocation, made reading the lists of
/// the moves queued at every poll a cache miss each.
struct FlatLists: Sendable {
    private var items: [Int32] = []
    /// `ends[i]`: where list `i` ends in `items` (it starts where list `i - 1` ends); 32 bits, half the cache
    /// footprint of `Int` (read at random for the moves a poll looks at).
    private var ends: [Int32] = []

    init(_ lists: some Sequence<[Int32]>) {
        for list in lists {
            items += list
            ends.append(Int32(items.count))
        }
    }

    @inline(__always)
    subscript(_ i: Int) -> ArraySlice<Int32> { items[(i == 0 ? 0 : Int(ends[i - 1]))..<Int(ends[i])] }

    /// The length of list `i`.
    func count(_ i: Int) -> Int { Int(ends[i]) - (i == 0 ? 0 : Int(ends[i - 1])) }
}
