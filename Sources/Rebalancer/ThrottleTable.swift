import KafkaModel

/// Every throttle key the execution reads or changes, numbered once, with its state in arrays indexed by that
/// number. A poll looks at every key the execution holds (~2,600 over a 100k-move execution); hashing each
/// `ThrottleKey` (a topic name) in five dictionaries several times per poll was a third of the bookkeeping.
///
/// Resources are numbered too (a key belongs to one); each resource has the keys of `ThrottleConfig.keys(of:)`
/// from the moment it is numbered. Ranks give the keys' `ThrottleKey` order and the resources'
/// `ThrottleKey.precedes` order, so a poll sorts numbers, not strings.
struct ThrottleTable: Sendable {
    private(set) var resources: [ConfigResource] = []
    private var resourceNumbers: [ConfigResource: Int] = [:]
    /// Each resource's keys, by number.
    private(set) var resourceKeys: [[Int]] = []
    private var readKeyRange: [Range<Int>] = []
    private(set) var keys: [ThrottleKey] = []
    private var keyNumbers: [ThrottleKey: Int] = [:]
    private(set) var keyResource: [Int] = []
    private(set) var keyRank: [Int] = []
    private(set) var resourceRank: [Int] = []
    /// The resources' order by name alone (an event lists topics in that order).
    private(set) var nameRank: [Int] = []
    private var brokerNumbers: [Int32: Int] = [:]

    // Per key.
    /// Changed by the execution and not yet seen back at its prior value.
    var touched: [Bool] = []
    /// The value before the execution changed it (nil: not set); meaningful while `touched`.
    var prior: [String?] = []
    /// The value of the last read that covered the key's resource (nil: not set, or never read).
    var lastRead: [String?] = []
    var restoreAttempts: [Int] = []
    var restoreError: [String?] = []
    // Per resource.
    /// Read at least once: its keys' `lastRead` are known.
    var read: [Bool] = []

    /// Numbers `resource` and its keys (ranks are not updated: call `rank()` after a series).
    @discardableResult
    mutating func addResource(_ resource: ConfigResource) -> Int {
        if let r = resourceNumbers[resource] { return r }
        let r = resources.count
        resources.append(resource)
        resourceNumbers[resource] = r
        resourceKeys.append([])
        read.append(false)
        if resource.kind == .broker, let id = Int32(resource.name), resource.name == String(id) {
            brokerNumbers[id] = r
        }
        let names = ThrottleConfig.keys(of: resource)
        for name in names { addKey(ThrottleKey(resource, name), resource: r) }
        readKeyRange.append(resourceKeys[r][0]..<resourceKeys[r][0] + names.count)
        return r
    }

    @discardableResult
    private mutating func addKey(_ key: ThrottleKey, resource r: Int) -> Int {
        if let k = keyNumbers[key] { return k }
        let k = keys.count
        keys.append(key)
        keyNumbers[key] = k
        keyResource.append(r)
        resourceKeys[r].append(k)
        touched.append(false)
        prior.append(nil)
        lastRead.append(nil)
        restoreAttempts.append(0)
        restoreError.append(nil)
        return k
    }

    /// Recomputes the orders after keys were added.
    mutating func rank() {
        keyRank = Self.ranks(keys.indices.sorted { keys[$0] < keys[$1] })
        resourceRank = Self.ranks(resources.indices.sorted { ThrottleKey.precedes(resources[$0], resources[$1]) })
        nameRank = Self.ranks(resources.indices.sorted { resources[$0].name < resources[$1].name })
    }

    private static func ranks(_ order: [Int]) -> [Int] {
        var out = [Int](repeating: 0, count: order.count)
        for (position, i) in order.enumerated() { out[i] = position }
        return out
    }

    /// The number of `resource`, numbering it (and ranking) when new.
    mutating func resourceNumber(_ resource: ConfigResource) -> Int {
        if let r = resourceNumbers[resource] { return r }
        let r = addResource(resource)
        rank()
        return r
    }

    /// The number of `key`, numbering it (and ranking) when new.
    mutating func keyNumber(_ key: ThrottleKey) -> Int {
        if let k = keyNumbers[key] { return k }
        let r = addResource(key.resource)
        let k = addKey(key, resource: r)
        rank()
        return k
    }

    /// The keys a read of resource `r` reports: those of `ThrottleConfig.keys(of:)`, numbered first, one after
    /// the other.
    func readKeys(of r: Int) -> Range<Int> { readKeyRange[r] }

    /// The resource number of a broker already numbered.
    func broker(_ id: Int32) -> Int? { brokerNumbers[id] }
}
