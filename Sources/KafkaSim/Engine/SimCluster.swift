public import KafkaModel
import KafkaWire

/// The simulated cluster's state machine: pure and deterministic. Time moves only through `advance(to:)`;
/// the I/O layer applies the time scale and holds the value behind a lock.
public struct SimCluster: Sendable {
    public internal(set) var now: Int64 = 0
    public var settings: SimSettings
    public let catalog: SimConfigCatalog
    public let clusterId: String
    public internal(set) var nodes: [SimNode] = []
    var nodeIndex: [Int32: Int] = [:]
    public internal(set) var topics: [SimTopic] = []
    var topicIndex: [String: Int] = [:]
    public internal(set) var partitions: [SimPartition] = []
    /// Bytes held by replicas that are out of the ISR, or whose broker is down. A replica absent from this
    /// table and in the ISR holds exactly the leader's data.
    public internal(set) var replicaBytes: [ReplicaKey: Int64] = [:]
    /// Each partition's `producedBytes` at the last replication step (client writes per step), and whether the
    /// marks are out of date (no replication step ran since).
    var producedMark: [Int64] = []
    var producedMarkStale = true
    /// Ongoing reassignments by partition index.
    public internal(set) var reassignments: [Int32: SimReassignment] = [:]
    /// Dynamic cluster-default broker configs (`--entity-default`).
    public internal(set) var clusterDefaultConfigs: [String: String] = [:]
    public internal(set) var stats = SimStats()
    public internal(set) var quorum = SimQuorum()
    var rng: SplitMix64
    var healthDirty = true
    var nextLeaderRebalanceMs: Int64 = 0
    /// Stored record batches by partition index, for partitions that were written to (`SimCluster+Logs.swift`).
    public internal(set) var logs: [Int32: SimPartitionLog] = [:]
    /// Consumer groups by id, the replies waiting for their requests, and the coordinators by `__consumer_offsets`
    /// partition (`SimCluster+Groups.swift`).
    public internal(set) var groups: [String: SimGroup] = [:]
    var groupReplies: [Int: SimGroupReply] = [:]
    var nextGroupTicket = 0
    var coordinators: [Int32: CoordinatorLoad] = [:]
    var nextProducerId: Int64 = 0
    public internal(set) var clientStats = SimClientStats()
    /// Next run of retention, producer expiry and group cleanup (`log.retention.check.interval.ms`).
    var nextHousekeepingMs: Int64 = 0

    public init(settings: SimSettings = SimSettings(), catalog: SimConfigCatalog = .kafka41) {
        self.settings = settings
        self.catalog = catalog
        rng = SplitMix64(seed: settings.seed)
        let idBytes = rng.uuid()
        clusterId = SimCluster.base64url(idBytes)
        // A 4.1 cluster bootstraps with this cluster default because ELR is on.
        if elrEnabled { clusterDefaultConfigs["min.insync.replicas"] = "1" }
    }

    // MARK: lookup

    public func node(_ id: Int32) -> SimNode? {
        nodeIndex[id].map { nodes[$0] }
    }

    public func topic(named name: String) -> SimTopic? {
        topicIndex[name].map { topics[$0] }
    }

    public func partitionIndex(topic name: String, partition: Int32) -> Int32? {
        guard let t = topicIndex[name], !topics[t].deleted, partition >= 0,
            Int(partition) < topics[t].partitions.count
        else { return nil }
        return topics[t].partitions[Int(partition)]
    }

    public var liveTopics: [SimTopic] { topics.filter { !$0.deleted } }

    /// The partition's size now: initial size, background load and produced bytes.
    public func size(of p: Int32) -> Int64 {
        let part = partitions[Int(p)]
        return part.baseBytes + Int64(part.loadBytesPerMs * Double(now)) + part.producedBytes
    }

    /// Bytes the given replica holds now.
    public func replicaSize(partition p: Int32, broker b: Int32) -> Int64 {
        if let held = replicaBytes[ReplicaKey(partition: p, broker: b)] { return held }
        return size(of: p)
    }

    // MARK: building

    /// Adds a node; ids must be unique. The I/O layer sets the port once bound.
    @discardableResult
    public mutating func addNode(
        id: Int32, rack: String?, cluster: String, roles: Set<NodeRole>, staticConfigs: [String: String] = [:],
        state: NodeState = .running
    ) throws(SimFailure) -> SimNode {
        guard nodeIndex[id] == nil else { throw SimFailure(.invalidRequest, "node \(id) already exists") }
        var configs: [String: String] = [
            "node.id": String(id),
            "process.roles": roles.processRoles,
            "log.dirs": "/var/lib/kafka/data",
            "controller.quorum.bootstrap.servers": "controller:9093",
        ]
        if let rack { configs["broker.rack"] = rack }
        for (k, v) in staticConfigs { configs[k] = v }
        let node = SimNode(
            id: id, rack: rack, cluster: cluster, roles: roles, state: state, port: 0, stateSince: now,
            fenced: state != .running, fenceAt: nil, staticConfigs: configs, dynamicConfigs: [:], removed: false,
            metadataOffset: quorum.highWatermark, lastFetchMs: now, lastCaughtUpMs: now, diskCapacityBytes: nil)
        nodeIndex[id] = nodes.count
        nodes.append(node)
        if roles.contains(.controller) { quorum.voters.append(id) }
        electQuorumLeaderIfNeeded()
        if SimQuorum.voterUp(nodes[nodes.count - 1]) { nodes[nodes.count - 1].lastSeenQuorumEpoch = quorum.epoch }
        healthDirty = true
        return node
    }

    /// Adds a node for upscale (the control API's `POST /v1/brokers` and a simulated StatefulSet growing): the next
    /// free id among nodes of its kind unless `id` is given, the first node's rack and Kubernetes cluster unless
    /// given, and the static configs of the existing brokers (their own id, rack and roles aside).
    public mutating func addBroker(
        id: Int32? = nil, rack: String?, cluster: String?, roles: Set<NodeRole> = [.broker], state: NodeState
    ) throws(SimFailure) -> Int32 {
        let sameKind = nodes.filter { roles.isControllerOnly ? $0.roles.isControllerOnly : $0.isBroker }
        let newId = id ?? (sameKind.map(\.id).max() ?? nodes.map(\.id).max() ?? 0) + 1
        try addNode(
            id: newId, rack: rack ?? nodes.first?.rack, cluster: cluster ?? nodes.first?.cluster ?? "k8s-1",
            roles: roles,
            staticConfigs: nodes.first(where: \.isBroker)?.staticConfigs.filter {
                !["node.id", "broker.rack", "process.roles"].contains($0.key)
            } ?? [:],
            state: state)
        return newId
    }

    public func diskCapacity(of id: Int32) -> Int64? { node(id)?.diskCapacityBytes }

    public mutating func setDiskCapacity(_ bytes: Int64?, of id: Int32) {
        if let i = nodeIndex[id] { nodes[i].diskCapacityBytes = bytes }
    }

    public mutating func setPort(_ port: Int, of id: Int32) {
        if let i = nodeIndex[id] { nodes[i].port = port }
    }

    /// Brokers that can hold replicas, in placement order: racks interleaved so neighbours differ in rack.
    func placementOrder() -> [Int32] {
        let brokers = nodes.filter { $0.isBroker && !$0.removed }
        var byRack: [String: [Int32]] = [:]
        for b in brokers { byRack[b.rack ?? "", default: []].append(b.id) }
        let racks = byRack.keys.sorted()
        var out: [Int32] = []
        var i = 0
        while out.count < brokers.count {
            for r in racks where i < byRack[r]!.count { out.append(byRack[r]![i]) }
            i += 1
        }
        return out
    }

    /// Rack-aware replica assignment in the spirit of Kafka's: a random start, consecutive rack-interleaved brokers.
    mutating func assignReplicas(partitions count: Int, replicationFactor rf: Int, firstPartition: Int = 0)
        throws(SimFailure) -> [[Int32]]
    {
        let order = placementOrder()
        guard rf >= 1 else { throw SimFailure(.invalidReplicationFactor, "Replication factor must be larger than 0.") }
        guard rf <= order.count else {
            throw SimFailure(
                .invalidReplicationFactor,
                "Unable to replicate the partition \(rf) time(s): The target replication factor of \(rf) cannot be reached because only \(order.count) broker(s) are registered."
            )
        }
        let n = order.count
        var rackOf: [Int32: String] = [:]
        for b in order { rackOf[b] = node(b)?.rack ?? "" }
        let rackCount = Set(rackOf.values).count
        let start = Int(rng.next() % UInt64(n))
        var out: [[Int32]] = []
        out.reserveCapacity(count)
        for p in 0..<count {
            let first = (start + p + firstPartition) % n
            // The shift after each full round keeps followers from always pairing with the same brokers.
            let shift = ((p + firstPartition) / n) % max(1, n - 1)
            var replicas: [Int32] = [order[first]]
            var racksUsed: Set<String> = [rackOf[order[first]] ?? ""]
            var j = 1 + (rf > 1 ? shift : 0)
            while replicas.count < rf {
                let candidate = order[(first + j) % n]
                j += 1
                if replicas.contains(candidate) { continue }
                // Each replica on a rack not used yet, while there is one (the loop gives up after 3 rounds).
                let rack = rackOf[candidate] ?? ""
                if racksUsed.contains(rack) && racksUsed.count < rackCount && j <= 3 * n { continue }
                replicas.append(candidate)
                racksUsed.insert(rack)
            }
            out.append(replicas)
        }
        return out
    }

    /// Creates a topic. `assignment` gives replicas per partition; otherwise they are placed rack-aware.
    @discardableResult
    public mutating func createTopic(
        name: String, partitions count: Int, replicationFactor: Int, configs: [String: String] = [:],
        assignment: [[Int32]]? = nil, leaders: [Int32?]? = nil, baseBytes: [Int64]? = nil,
        loadBytesPerMs: [Double]? = nil, validateOnly: Bool = false
    ) throws(SimFailure) -> Int {
        try requireQuorum()
        guard topicIndex[name].map({ topics[$0].deleted }) ?? true else {
            throw SimFailure(.topicAlreadyExists, "Topic '\(name)' already exists.")
        }
        try Self.validateTopicName(name)
        for (k, v) in configs { try validateTopicConfig(k, v) }
        let replicaSets: [[Int32]]
        if let assignment {
            guard !assignment.isEmpty else {
                throw SimFailure(.invalidPartitions, "Number of partitions must be larger than 0.")
            }
            for r in assignment { try validateAssignment(r) }
            replicaSets = assignment
        } else {
            guard count >= 1 else {
                throw SimFailure(.invalidPartitions, "Number of partitions must be larger than 0.")
            }
            replicaSets = try assignReplicas(partitions: count, replicationFactor: replicationFactor)
        }
        if validateOnly { return replicaSets.count }
        let t = Int32(topics.count)
        var ids: [Int32] = []
        ids.reserveCapacity(replicaSets.count)
        for (i, replicas) in replicaSets.enumerated() {
            let alive = replicas.filter { node($0)?.isServing == true }
            let wanted = leaders?[i] ?? nil
            let leader = wanted.flatMap { alive.contains($0) ? $0 : nil } ?? alive.first ?? -1
            let isr = alive.isEmpty ? [replicas[0]] : alive
            ids.append(Int32(partitions.count))
            partitions.append(
                SimPartition(
                    topic: t, id: Int32(i), replicas: replicas, isr: isr, leader: leader, leaderEpoch: 0,
                    partitionEpoch: 0, producedBytes: 0, baseBytes: baseBytes?[i] ?? 0,
                    loadBytesPerMs: loadBytesPerMs?[i] ?? 0, logEndOffset: 0))
            let p = ids.last!
            // Replicas on brokers that are down held the data when they went down (the model's disk size).
            for b in replicas where !isr.contains(b) {
                replicaBytes[ReplicaKey(partition: p, broker: b)] = baseBytes?[i] ?? 0
            }
        }
        if let old = topicIndex[name] { topics[old].name = "" }
        topicIndex[name] = Int(t)
        topics.append(SimTopic(name: name, id: rng.uuid(), partitions: ids, configs: configs, deleted: false))
        quorum.append(records: 1 + replicaSets.count)
        healthDirty = true
        return replicaSets.count
    }

    static func validateTopicName(_ name: String) throws(SimFailure) {
        let legal = name.allSatisfy {
            $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-")
        }
        guard !name.isEmpty, name != ".", name != "..", name.count <= 249, legal else {
            throw SimFailure(.invalidTopicException, "Topic name \"\(name)\" is illegal.")
        }
    }

    func validateAssignment(_ replicas: [Int32]) throws(SimFailure) {
        guard !replicas.isEmpty else {
            throw SimFailure(
                .invalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
        }
        guard Set(replicas).count == replicas.count else {
            throw SimFailure(.invalidReplicaAssignment, "The manual partition assignment includes a duplicate replica.")
        }
        for b in replicas where node(b).map({ !$0.isBroker || $0.removed }) ?? true {
            throw SimFailure(
                .invalidReplicaAssignment,
                "The manual partition assignment includes broker \(b), but no such broker is registered.")
        }
    }

    public mutating func deleteTopic(name: String) throws(SimFailure) {
        try requireQuorum()
        guard let t = topicIndex[name], !topics[t].deleted else {
            throw SimFailure(.unknownTopicOrPartition, "This server does not host this topic-partition.")
        }
        topics[t].deleted = true
        topicIndex[name] = nil
        noteTopicDeletionForClearElr()
        dropCommittedOffsets(topic: name)
        for p in topics[t].partitions {
            reassignments[p] = nil
            logs[p] = nil
            for b in partitions[Int(p)].replicas { replicaBytes[ReplicaKey(partition: p, broker: b)] = nil }
            partitions[Int(p)].leader = -1
            partitions[Int(p)].isr = []
            partitions[Int(p)].replicas = []
        }
        quorum.append(records: 1)
        healthDirty = true
    }

    public mutating func createPartitions(topic name: String, count: Int, assignment: [[Int32]]?, validateOnly: Bool)
        throws(SimFailure)
    {
        try requireQuorum()
        guard let t = topicIndex[name], !topics[t].deleted else {
            throw SimFailure(.unknownTopicOrPartition, "This server does not host this topic-partition.")
        }
        let current = topics[t].partitions.count
        guard count > current else {
            throw SimFailure(
                .invalidPartitions,
                count == current
                    ? "Topic already has \(current) partition(s)."
                    : "The topic \(name) currently has \(current) partition(s); \(count) would not be an increase.")
        }
        let rf = partitions[Int(topics[t].partitions[0])].replicas.count
        let sets: [[Int32]]
        if let assignment {
            guard assignment.count == count - current else {
                throw SimFailure(
                    .invalidReplicaAssignment,
                    "Increasing the number of partitions by \(count - current) but \(assignment.count) assignments provided."
                )
            }
            for r in assignment { try validateAssignment(r) }
            sets = assignment
        } else {
            sets = try assignReplicas(partitions: count - current, replicationFactor: rf, firstPartition: current)
        }
        if validateOnly { return }
        for (i, replicas) in sets.enumerated() {
            let alive = replicas.filter { node($0)?.isServing == true }
            let p = Int32(partitions.count)
            partitions.append(
                SimPartition(
                    topic: Int32(t), id: Int32(current + i), replicas: replicas,
                    isr: alive.isEmpty ? [replicas[0]] : alive,
                    leader: alive.first ?? -1, leaderEpoch: 0, partitionEpoch: 0, producedBytes: 0, baseBytes: 0,
                    loadBytesPerMs: 0, logEndOffset: 0))
            topics[t].partitions.append(p)
            for b in replicas where !alive.contains(b) { replicaBytes[ReplicaKey(partition: p, broker: b)] = 0 }
        }
        quorum.append(records: sets.count)
        healthDirty = true
    }

    // MARK: process lifecycle

    func nodeIdx(_ id: Int32) throws(SimFailure) -> Int {
        guard let i = nodeIndex[id], !nodes[i].removed else {
            throw SimFailure(.brokerNotAvailable, "node \(id) does not exist")
        }
        return i
    }

    /// Controlled shutdown: leadership moves off and the broker leaves every ISR at once; the process exits
    /// `shutdownDurationMs` later.
    public mutating func stop(_ id: Int32) throws(SimFailure) {
        let i = try nodeIdx(id)
        guard nodes[i].state == .running || nodes[i].state == .starting else {
            throw SimFailure(.invalidRequest, "node \(id) is \(nodes[i].state.rawValue), not running")
        }
        freezeReplicas(of: id)
        nodes[i].state = .stopping
        nodes[i].stateSince = now
        if quorum.hasLeader(in: self) {
            // KRaft's controlled shutdown: ISR shrinks and leaders move before the broker may exit.
            for p in partitions.indices where partitions[p].replicas.contains(id) {
                removeFromIsr(Int32(p), broker: id)
            }
        }
        electQuorumLeaderIfNeeded()
        healthDirty = true
    }

    /// A crash: the process is gone at once; the controller notices after the session timeout (or the
    /// follower lag time, whichever is shorter), then fences the broker and shrinks ISRs.
    public mutating func kill(_ id: Int32) throws(SimFailure) {
        let i = try nodeIdx(id)
        guard nodes[i].state != .stopped else { throw SimFailure(.invalidRequest, "node \(id) is already stopped") }
        freezeReplicas(of: id)
        let wasRegistered = nodes[i].state == .running || nodes[i].state == .stopping
        nodes[i].state = .stopped
        nodes[i].stateSince = now
        if wasRegistered && !nodes[i].fenced && nodes[i].isBroker {
            nodes[i].fenceAt = now + crashDetectionMs(id)
        } else {
            nodes[i].fenced = true
        }
        electQuorumLeaderIfNeeded()
        healthDirty = true
    }

    /// How long the cluster takes to act on a crash of this broker.
    public func crashDetectionMs(_ id: Int32) -> Int64 {
        let session = Int64(controllerConfig("broker.session.timeout.ms")) ?? 9000
        let lag = Int64(brokerConfig(id, "replica.lag.time.max.ms")?.value ?? "") ?? 30000
        return min(session, lag)
    }

    /// Starts a stopped node; it registers after the start-up delay.
    public mutating func start(_ id: Int32) throws(SimFailure) {
        let i = try nodeIdx(id)
        guard nodes[i].state == .stopped else {
            throw SimFailure(.invalidRequest, "node \(id) is \(nodes[i].state.rawValue), not stopped")
        }
        if nodes[i].fenceAt != nil {
            // A new incarnation registering makes the controller fence the old one first.
            fence(i)
        }
        nodes[i].state = .starting
        nodes[i].stateSince = now
        nodes[i].starts += 1
        // The process reads server.properties as it is now.
        nodes[i].staticConfigs.merge(nodes[i].editedServerProperties) { $1 }
        nodes[i].editedServerProperties = [:]
        nodes[i].startHung = false
        healthDirty = true
    }

    /// Edits the node's server.properties (what an operator's ConfigMap or pod template change does): the running
    /// process keeps its static configs; the node's next start reads these.
    public mutating func editServerProperties(_ configs: [String: String], of id: Int32) throws(SimFailure) {
        let i = try nodeIdx(id)
        nodes[i].editedServerProperties.merge(configs) { $1 }
    }

    /// Injects the "never comes back" fault: the node's next `count` starts fail at the end of the start-up
    /// delay (the process exits) instead of registering; 0 clears it.
    public mutating func setFailStarts(_ count: Int, of id: Int32) throws(SimFailure) {
        let i = try nodeIdx(id)
        guard count >= 0 else { throw SimFailure(.invalidRequest, "failStarts must be 0 or more, not \(count)") }
        nodes[i].failStarts = count
    }

    /// Removes a broker that holds no replicas.
    public mutating func remove(_ id: Int32) throws(SimFailure) {
        let i = try nodeIdx(id)
        if nodes[i].isBroker {
            let held = partitions.contains { $0.replicas.contains(id) }
            guard !held else {
                throw SimFailure(.invalidRequest, "node \(id) still holds replicas; move them off first")
            }
        }
        guard !nodes[i].isController else {
            throw SimFailure(.invalidRequest, "node \(id) is a controller; removing voters is not modelled")
        }
        nodes[i].removed = true
        nodes[i].state = .stopped
        nodes[i].fenced = true
        healthDirty = true
    }

    /// Records what each of the node's replicas holds, as its data stops growing.
    mutating func freezeReplicas(of id: Int32) {
        guard node(id)?.isBroker == true else { return }
        for p in partitions.indices where partitions[p].replicas.contains(id) {
            let key = ReplicaKey(partition: Int32(p), broker: id)
            if replicaBytes[key] == nil { replicaBytes[key] = size(of: Int32(p)) }
        }
    }

    mutating func fence(_ i: Int) {
        nodes[i].fenced = true
        nodes[i].fenceAt = nil
        let id = nodes[i].id
        for p in partitions.indices where partitions[p].replicas.contains(id) {
            removeFromIsr(Int32(p), broker: id)
        }
        quorum.append(records: 1)
        healthDirty = true
    }

    /// Takes a broker out of a partition's ISR (never below one member, as KRaft keeps the last) and
    /// moves leadership if it led.
    mutating func removeFromIsr(_ p: Int32, broker: Int32) {
        var part = partitions[Int(p)]
        var changed = false
        if part.isr.count > 1, let k = part.isr.firstIndex(of: broker) {
            part.isr.remove(at: k)
            changed = true
        }
        partitions[Int(p)] = part
        if part.leader == broker {
            electLeader(p, allowUnclean: false)
            changed = true
        }
        if changed { partitions[Int(p)].partitionEpoch += 1 }
    }

    /// A broker may lead when the controller sees it alive and it is not shutting down.
    func canLead(_ b: Int32) -> Bool {
        guard let n = node(b) else { return false }
        return n.isAliveInMetadata && n.state != .stopping
    }

    /// Leader election from the ISR in replica order; with `allowUnclean` (or the topic's
    /// `unclean.leader.election.enable`) from any live replica, losing what it lacks.
    @discardableResult
    mutating func electLeader(_ p: Int32, allowUnclean: Bool) -> Bool {
        var part = partitions[Int(p)]
        let old = part.leader
        if let clean = part.replicas.first(where: { part.isr.contains($0) && canLead($0) }) {
            part.leader = clean
            // An ISR member holds everything; only a crashed, not yet fenced one has a frozen entry.
            if node(clean)?.isServing == true { replicaBytes[ReplicaKey(partition: p, broker: clean)] = nil }
        } else if allowUnclean || uncleanEnabled(topic: Int(part.topic)),
            let any = part.replicas.first(where: { canLead($0) })
        {
            let held = replicaSize(partition: p, broker: any)
            // The new leader's log is the log: what it lacks is gone (truncated on every replica).
            let keptEnd = replicaEndOffset(p, broker: any)
            truncateLog(p, to: keptEnd)
            part.logEndOffset = min(part.logEndOffset, keptEnd)
            part.producedBytes -= (size(of: p) - held)
            part.leader = any
            part.isr = [any]
            replicaBytes[ReplicaKey(partition: p, broker: any)] = nil
            for b in part.replicas where b != any {
                let key = ReplicaKey(partition: p, broker: b)
                replicaBytes[key] = min(replicaBytes[key] ?? held, held)
            }
            stats.uncleanElections += 1
        } else {
            part.leader = -1
        }
        if part.leader != old { part.leaderEpoch += 1 }
        partitions[Int(p)] = part
        healthDirty = true
        return part.leader >= 0
    }

    // MARK: time

    /// Moves cluster time forward, firing lifecycle events and replicating at the modelled rates.
    public mutating func advance(to target: Int64) {
        while now < target {
            var step = target - now
            if let next = nextNodeEvent() { step = min(step, next - now) }
            if hasReplicationWork() { step = min(step, 100) }
            if nextLeaderRebalanceMs > now { step = min(step, nextLeaderRebalanceMs - now) }
            if let snapshot = nextClearElrSnapshot(), snapshot > now { step = min(step, snapshot - now) }
            if let group = nextGroupEvent(), group > now { step = min(step, group - now) }
            if !logs.isEmpty || !groups.isEmpty, nextHousekeepingMs > now { step = min(step, nextHousekeepingMs - now) }
            replicate(ms: step)
            now += step
            var q = quorum
            q.tick(cluster: &self)
            quorum = q
            let hadQuorum = quorum.leader >= 0
            takeDueSnapshots()
            processNodeEvents()
            // A controller that came back may make events possible that waited for the quorum.
            if !hadQuorum && quorum.leader >= 0 { processNodeEvents() }
            recoverAfterQuorumLoss()
            completeCatchUp()
            autoLeaderRebalanceIfDue()
            fireGroupTimers()
            housekeepIfDue()
        }
        if healthDirty { sampleHealth() }
    }

    func nextNodeEvent() -> Int64? {
        var next: Int64?
        for n in nodes where !n.removed {
            var t: Int64?
            switch n.state {
            case .stopping: t = n.stateSince + settings.shutdownDurationMs
            case .starting: t = n.stateSince + settings.startupDelayMs
            case .stopped: t = n.fenceAt
            case .running: t = nil
            }
            if let t, t > now, next.map({ t < $0 }) ?? true { next = t }
        }
        return next
    }

    mutating func processNodeEvents() {
        for i in nodes.indices where !nodes[i].removed {
            switch nodes[i].state {
            case .stopping where now >= nodes[i].stateSince + settings.shutdownDurationMs:
                nodes[i].state = .stopped
                nodes[i].stateSince = now
                nodes[i].fenced = true
                electQuorumLeaderIfNeeded()
                healthDirty = true
            case .stopped where nodes[i].fenceAt.map { now >= $0 } ?? false:
                if quorum.hasLeader(in: self) { fence(i) }
            case .starting where now >= nodes[i].stateSince + settings.startupDelayMs && !nodes[i].startHung:
                // Controllers come back on their own; brokers need an active controller to register.
                if nodes[i].failStarts > 0 || (failsStartOnClearElr(i) && nodes[i].isController) {
                    // The process died while loading metadata: it never registered, so nothing to fence.
                    if nodes[i].failStarts > 0 { nodes[i].failStarts -= 1 }
                    nodes[i].failedStarts += 1
                    nodes[i].state = .stopped
                    nodes[i].stateSince = now
                    nodes[i].fenced = true
                    electQuorumLeaderIfNeeded()
                    healthDirty = true
                } else if failsStartOnClearElr(i) {
                    // Kafka 4.1.0's broker-only node: a non-fatal metadata loading fault, up but never registered.
                    nodes[i].failedStarts += 1
                    nodes[i].startHung = true
                } else if nodes[i].isController && !nodes[i].isBroker {
                    nodes[i].state = .running
                    nodes[i].stateSince = now
                    nodes[i].lastSnapshotMs = now
                    nodes[i].fenced = false
                    electQuorumLeaderIfNeeded()
                } else if quorum.hasLeader(in: self) || nodes[i].isController {
                    register(i)
                }
            default: break
            }
        }
    }

    mutating func register(_ i: Int) {
        nodes[i].state = .running
        nodes[i].stateSince = now
        nodes[i].lastSnapshotMs = now
        nodes[i].fenced = false
        electQuorumLeaderIfNeeded()
        guard quorum.hasLeader(in: self) else { return }
        let id = nodes[i].id
        for p in partitions.indices where partitions[p].replicas.contains(id) {
            let key = ReplicaKey(partition: Int32(p), broker: id)
            // The last ISR member coming back brings an offline partition back online.
            if partitions[p].leader < 0, partitions[p].isr.contains(id) {
                electLeader(Int32(p), allowUnclean: false)
                partitions[p].partitionEpoch += 1
            } else if partitions[p].leader < 0 {
                electLeader(Int32(p), allowUnclean: false)
            }
            if partitions[p].leader == id { replicaBytes[key] = nil }
        }
        quorum.append(records: 1)
        healthDirty = true
    }

    // MARK: replication

    func hasReplicationWork() -> Bool {
        replicaBytes.keys.contains { key in
            canFetch(key)
        }
    }

    func canFetch(_ key: ReplicaKey) -> Bool {
        let part = partitions[Int(key.partition)]
        guard part.leader >= 0, part.leader != key.broker, node(key.broker)?.isServing == true,
            node(part.leader)?.isServing == true
        else { return false }
        return true
    }

    /// Whether replication of this replica is throttled: listed in the topic's follower throttled replicas
    /// (the follower side) or the leader's in the leader throttled replicas.
    func throttle(of key: ReplicaKey) -> (follower: Bool, leader: Bool) {
        let part = partitions[Int(key.partition)]
        let t = Int(part.topic)
        func listed(_ config: String, broker: Int32) -> Bool {
            guard let v = topics[t].configs[config], !v.isEmpty else { return false }
            if v.trimmingSpaces == "*" { return true }
            let wanted = "\(part.id):\(broker)"
            return v.split(separator: ",").contains { $0.trimmingSpaces == wanted }
        }
        return (
            listed("follower.replication.throttled.replicas", broker: key.broker),
            listed("leader.replication.throttled.replicas", broker: part.leader)
        )
    }

    func rateLimit(_ config: String, broker: Int32) -> Double {
        let v = brokerConfig(broker, config)?.value.flatMap { Double($0) } ?? .infinity
        return v >= 9.2e18 ? .infinity : v
    }

    /// One replication step of `ms` milliseconds: followers fetch what they lack. Each follower broker's
    /// replication throughput is shared by the replicas it fetches; throttled replicas also share the follower
    /// broker's `follower.replication.throttled.rate` and their leader's `leader.replication.throttled.rate`.
    /// The sharing is max-min fair (progressive filling): Kafka's quotas cap a broker's total throttled bytes, so
    /// a replica held back by one limit leaves the rest of another to the replicas that can use it.
    ///
    /// In-sync followers take what is written first, and their bytes count: they use the follower broker's
    /// replication throughput (produce traffic competes with catch-up), and, as in Kafka, the leader (follower)
    /// quota records the bytes sent to (fetched by) in-sync followers of throttled partitions although it never
    /// throttles them (`ReplicaManager.shouldLeaderThrottle` exempts in-sync replicas; `KafkaApis` records every
    /// throttled partition's fetch response in the leader quota; `ReplicaFetcherThread` the follower's). Only
    /// what is left of a quota goes to replicas catching up: with a rack down, leadership concentrates on the
    /// remaining brokers, their in-sync traffic grows, and catch-up can stall.
    mutating func replicate(ms: Int64) {
        guard ms > 0, !replicaBytes.isEmpty else {
            producedMarkStale = true
            return
        }
        let seconds = Double(ms) / 1000
        if producedMarkStale || producedMark.count != partitions.count {
            // Writes since the marks went stale are not attributable to this step: start counting now.
            producedMark = partitions.map(\.producedBytes)
            producedMarkStale = false
        }
        // Only the brokers with replicas catching up (and their leaders) need the in-sync accounting.
        var fetchers = Set<Int32>()
        var sources = Set<Int32>()
        for key in replicaBytes.keys where canFetch(key) {
            fetchers.insert(key.broker)
            sources.insert(partitions[Int(key.partition)].leader)
        }
        var serving = [Bool](repeating: false, count: nodes.count)
        for i in nodes.indices { serving[i] = nodes[i].isServing }
        func isServing(_ id: Int32) -> Bool { nodeIndex[id].map { serving[$0] } ?? false }
        var inSyncFetch: [Int32: Double] = [:]
        var inSyncLeader: [Int32: Double] = [:]
        var inSyncFollower: [Int32: Double] = [:]
        for p in partitions.indices {
            let part = partitions[p]
            let produced = max(0, part.producedBytes - producedMark[p])
            producedMark[p] = part.producedBytes
            let leaderIsSource = sources.contains(part.leader)
            guard part.leader >= 0, leaderIsSource || part.isr.contains(where: fetchers.contains),
                isServing(part.leader)
            else { continue }
            let rate = part.loadBytesPerMs * 1000 + Double(produced) / seconds
            guard rate > 0 else { continue }
            for f in part.isr where f != part.leader && isServing(f) {
                let key = ReplicaKey(partition: Int32(p), broker: f)
                guard replicaBytes[key] == nil else { continue }
                let fetching = fetchers.contains(f)
                if fetching { inSyncFetch[f, default: 0] += rate }
                guard leaderIsSource || fetching else { continue }
                let (followerListed, leaderListed) = throttle(of: key)
                if leaderListed { inSyncLeader[part.leader, default: 0] += rate }
                if followerListed { inSyncFollower[f, default: 0] += rate }
            }
        }
        enum Limit: Hashable {
            case fetch(Int32)
            case followerThrottle(Int32)
            case leaderThrottle(Int32)
        }
        var flows: [(key: ReplicaKey, limits: [Limit])] = []
        var capacity: [Limit: Double] = [:]
        for key in replicaBytes.keys.sorted() where canFetch(key) {
            let (f, l) = throttle(of: key)
            let leader = partitions[Int(key.partition)].leader
            var limits: [Limit] = [.fetch(key.broker)]
            capacity[.fetch(key.broker)] = max(
                0, Double(settings.replicationBytesPerSecond) - (inSyncFetch[key.broker] ?? 0))
            if f {
                limits.append(.followerThrottle(key.broker))
                capacity[.followerThrottle(key.broker)] = max(
                    0,
                    rateLimit("follower.replication.throttled.rate", broker: key.broker)
                        - (inSyncFollower[key.broker] ?? 0))
            }
            if l {
                limits.append(.leaderThrottle(leader))
                capacity[.leaderThrottle(leader)] = max(
                    0, rateLimit("leader.replication.throttled.rate", broker: leader) - (inSyncLeader[leader] ?? 0))
            }
            flows.append((key, limits))
        }
        // Progressive filling: raise every unfrozen flow's rate together until a limit is used up; freeze its flows.
        var rate = [Double](repeating: 0, count: flows.count)
        var frozen = [Bool](repeating: false, count: flows.count)
        var users: [Limit: Int] = [:]
        for f in flows { for l in f.limits { users[l, default: 0] += 1 } }
        var left = flows.count
        while left > 0 {
            var step = Double.infinity
            for (l, n) in users where n > 0 { step = min(step, capacity[l]! / Double(n)) }
            guard step.isFinite else { break }
            var saturated = Set<Limit>()
            for (l, n) in users where n > 0 {
                capacity[l]! -= step * Double(n)
                if capacity[l]! <= 1e-9 { saturated.insert(l) }
            }
            for i in flows.indices where !frozen[i] {
                rate[i] += step
                if flows[i].limits.contains(where: saturated.contains) {
                    frozen[i] = true
                    left -= 1
                    for l in flows[i].limits { users[l]! -= 1 }
                }
            }
        }
        for (i, flow) in flows.enumerated() {
            // The leader's size at the end of this step: under a steady write load (the model's `networkIn`) a
            // target taken at the step's start would always be a step behind, and the replica never rejoin the ISR.
            let target =
                size(of: flow.key.partition)
                + Int64((partitions[Int(flow.key.partition)].loadBytesPerMs * Double(ms)).rounded(.up))
            let held = replicaBytes[flow.key]!
            let r = rate[i].isFinite ? rate[i] : Double(settings.replicationBytesPerSecond)
            // (`rate` is 0 for a replica whose every limit is spent on in-sync followers: it stalls, as in Kafka.)
            replicaBytes[flow.key] = min(target, held + Int64((r * seconds).rounded(.up)))
        }
    }

    /// Replicas that hold everything the leader has rejoin the ISR; finished reassignments complete.
    mutating func completeCatchUp() {
        guard !replicaBytes.isEmpty, quorum.hasLeader(in: self) else { return }
        var caughtUp: [ReplicaKey] = []
        for (key, held) in replicaBytes where canFetch(key) && held >= size(of: key.partition) {
            caughtUp.append(key)
        }
        caughtUp.sort()
        for key in caughtUp {
            replicaBytes[key] = nil
            var part = partitions[Int(key.partition)]
            if !part.isr.contains(key.broker) {
                part.isr.append(key.broker)
                part.partitionEpoch += 1
                partitions[Int(key.partition)] = part
                quorum.append(records: 1)
            }
            maybeCompleteReassignment(key.partition)
        }
        if !caughtUp.isEmpty { healthDirty = true }
    }

    // MARK: elections

    public enum ElectionType: Int8, Sendable { case preferred = 0, unclean = 1 }

    /// ElectLeaders for one partition.
    public mutating func electLeaders(topic name: String, partition: Int32, type: ElectionType) throws(SimFailure) {
        guard let p = partitionIndex(topic: name, partition: partition) else {
            throw SimFailure(.unknownTopicOrPartition, "The partition does not exist.")
        }
        try requireQuorum()
        let part = partitions[Int(p)]
        switch type {
        case .preferred:
            let preferred = part.replicas[0]
            guard part.leader != preferred else {
                throw SimFailure(.electionNotNeeded, "Leader election not needed for topic partition.")
            }
            guard part.isr.contains(preferred), canLead(preferred) else {
                throw SimFailure(
                    .preferredLeaderNotAvailable,
                    "Failed to elect leader for partition \(name)-\(partition) under strategy PreferredReplicaPartitionLeaderElectionStrategy"
                )
            }
            partitions[Int(p)].leader = preferred
            partitions[Int(p)].leaderEpoch += 1
            partitions[Int(p)].partitionEpoch += 1
        case .unclean:
            guard part.leader < 0 else {
                throw SimFailure(.electionNotNeeded, "Leader election not needed for topic partition.")
            }
            guard electLeader(p, allowUnclean: true) else {
                throw SimFailure(
                    .eligibleLeadersNotAvailable,
                    "Failed to elect leader for partition \(name)-\(partition) under strategy UncleanLeaderElectionStrategy"
                )
            }
            partitions[Int(p)].partitionEpoch += 1
        }
        quorum.append(records: 1)
        healthDirty = true
    }

    /// Kafka's `auto.leader.rebalance.enable`: every check interval, brokers whose share of lost preferred
    /// leaderships exceeds `leader.imbalance.per.broker.percentage` get them back.
    mutating func autoLeaderRebalanceIfDue() {
        guard now >= nextLeaderRebalanceMs else { return }
        let interval = (Int64(controllerConfig("leader.imbalance.check.interval.seconds")) ?? 300) * 1000
        defer { nextLeaderRebalanceMs = now + max(1000, interval) }
        guard nextLeaderRebalanceMs > 0 else { return }
        guard controllerConfig("auto.leader.rebalance.enable") == "true", quorum.hasLeader(in: self) else { return }
        let threshold = (Double(controllerConfig("leader.imbalance.per.broker.percentage")) ?? 10) / 100
        var preferredCount: [Int32: Int] = [:]
        var notLeading: [Int32: [Int32]] = [:]
        for (i, part) in partitions.enumerated() where !part.replicas.isEmpty {
            let pref = part.replicas[0]
            preferredCount[pref, default: 0] += 1
            if part.leader != pref { notLeading[pref, default: []].append(Int32(i)) }
        }
        for (b, lost) in notLeading.sorted(by: { $0.key < $1.key })
        where Double(lost.count) / Double(preferredCount[b]!) > threshold && canLead(b) {
            for p in lost where partitions[Int(p)].isr.contains(b) {
                partitions[Int(p)].leader = b
                partitions[Int(p)].leaderEpoch += 1
                partitions[Int(p)].partitionEpoch += 1
            }
            healthDirty = true
        }
    }

    // MARK: quorum

    func requireQuorum() throws(SimFailure) {
        guard quorum.hasLeader(in: self) else {
            throw SimFailure(
                .requestTimedOut, "The controller quorum has no leader (a majority of controllers is down).")
        }
    }

    mutating func electQuorumLeaderIfNeeded() {
        var q = quorum
        q.electLeader(in: self)
        let newEpoch = q.epoch != quorum.epoch
        quorum = q
        // A new leader sees the voters that are up at once.
        if newEpoch {
            for v in q.voters {
                if let i = nodeIndex[v], SimQuorum.voterUp(nodes[i]) { nodes[i].lastSeenQuorumEpoch = q.epoch }
            }
        }
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var out = ""
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let v = (b0 << 16) | (b1 << 8) | b2
            out.append(table[Int((v >> 18) & 63)])
            out.append(table[Int((v >> 12) & 63)])
            if i + 1 < bytes.count { out.append(table[Int((v >> 6) & 63)]) }
            if i + 2 < bytes.count { out.append(table[Int(v & 63)]) }
            i += 3
        }
        return out
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}

extension String {
    var trimmingSpaces: Substring { Substring(self).trimmingSpaces }
}
