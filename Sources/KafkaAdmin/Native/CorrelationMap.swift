/// In-flight requests by correlation id. Pure bookkeeping; the channel handler owns one.
struct CorrelationMap<Value> {
    private var pending: [Int32: Value] = [:]
    private var next: Int32 = 1

    var count: Int { pending.count }

    /// The next id; wraps to 1 after Int32.max, skipping ids still in flight.
    mutating func register(_ value: Value) -> Int32 {
        var id = next
        while pending[id] != nil { id = id == Int32.max ? 1 : id + 1 }
        next = id == Int32.max ? 1 : id + 1
        pending[id] = value
        return id
    }

    mutating func complete(_ id: Int32) -> Value? { pending.removeValue(forKey: id) }

    mutating func replace(_ id: Int32, _ value: Value) -> Bool {
        let existed = pending[id] != nil
        pending[id] = value
        return existed
    }

    mutating func removeAll() -> [Value] {
        defer { pending.removeAll() }
        return pending.sorted { $0.key < $1.key }.map(\.value)
    }
}
