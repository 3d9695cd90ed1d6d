/// What executing a set of moves costs, before it starts: the data to copy, what crosses Kubernetes clusters, and
/// the physical limit of its wall time at a throttle.
///
/// The limit: Kafka's throttle caps each broker at `throttle` bytes/s for what it receives as a follower and for
/// what it sends as a leader to throttled followers, so no execution can be faster than the busiest broker's
/// bytes (in, or out) ÷ throttle.
public struct ExecutionCost: Sendable, Hashable, Codable {
    public var moves: Int
    /// Moves that copy data (a broker receives a replica).
    public var replicaMoves: Int
    /// Moves that only reorder replicas or move leadership.
    public var otherMoves: Int
    public var bytesToCopy: Int64
    /// Bytes of the moves whose new replicas copy from another Kubernetes cluster.
    public var crossClusterBytes: Int64
    /// The broker with the most bytes to receive or send, and those bytes.
    public var busiestBroker: Int32?
    public var busiestBrokerBytes: Int64
    /// `busiestBrokerBytes ÷ throttle`; nil without a throttle.
    public var secondsAtThrottle: Double?

    public init(moves list: [PlannedMove], throttleBytesPerSecond: Int64?) {
        var into: [Int32: Int64] = [:]
        var outOf: [Int32: Int64] = [:]
        moves = list.count
        replicaMoves = 0
        otherMoves = 0
        bytesToCopy = 0
        crossClusterBytes = 0
        for m in list {
            guard m.copiesData else {
                otherMoves += 1
                continue
            }
            replicaMoves += 1
            bytesToCopy += m.bytesToCopy
            if m.crossCluster { crossClusterBytes += m.bytesToCopy }
            for b in m.added { into[b, default: 0] += m.bytes }
            if m.oldLeader >= 0 { outOf[m.oldLeader, default: 0] += m.bytesToCopy }
        }
        var busiest: (Int32, Int64)?
        for (b, bytes) in into.merging(outOf, uniquingKeysWith: max).sorted(by: { $0.key < $1.key })
        where bytes > (busiest?.1 ?? -1) {
            busiest = (b, bytes)
        }
        busiestBroker = busiest?.0
        busiestBrokerBytes = busiest?.1 ?? 0
        secondsAtThrottle = throttleBytesPerSecond.map { Double(busiestBrokerBytes) / Double($0) }
    }
}
