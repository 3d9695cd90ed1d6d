import KafkaModel

/// Partition reassignments (KIP-455): add the new replicas, copy data at the (throttled) rate, then drop
/// the removed ones.
extension SimCluster {
    /// Starts, replaces (`target` non-nil) or cancels (`target` nil) the reassignment of one partition.
    public mutating func alterReassignment(topic name: String, partition: Int32, target: [Int32]?) throws(SimFailure) {
        guard let p = partitionIndex(topic: name, partition: partition) else {
            throw SimFailure(.unknownTopicOrPartition, "The partition does not exist.")
        }
        try requireQuorum()
        guard let target else {
            try cancelReassignment(p)
            stats.reassignmentsCancelled[TopicPartition(name, partition), default: 0] += 1
            return
        }
        guard !target.isEmpty else {
            throw SimFailure(
                .invalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
        }
        try validateAssignment(target)
        let original = reassignments[p]?.originalReplicas ?? partitions[Int(p)].replicas
        if reassignments[p] == nil && target == original { return }
        // Replicas that an earlier reassignment added and this one no longer wants are dropped.
        if let old = reassignments[p] {
            for b in old.adding where !target.contains(b) { dropReplica(p, broker: b) }
        }
        let adding = target.filter { !original.contains($0) }
        let removing = original.filter { !target.contains($0) }
        partitions[Int(p)].replicas = target + removing
        partitions[Int(p)].partitionEpoch += 1
        for b in adding {
            let key = ReplicaKey(partition: p, broker: b)
            if !partitions[Int(p)].isr.contains(b), replicaBytes[key] == nil { replicaBytes[key] = 0 }
        }
        reassignments[p] = SimReassignment(
            originalReplicas: original, targetReplicas: target, adding: adding, removing: removing, startedMs: now)
        stats.reassignmentsStarted[TopicPartition(name, partition), default: 0] += 1
        quorum.append(records: 1)
        maybeCompleteReassignment(p)
        healthDirty = true
    }

    mutating func cancelReassignment(_ p: Int32) throws(SimFailure) {
        guard let r = reassignments[p] else {
            throw SimFailure(.noReassignmentInProgress, "No reassignment is in progress for this partition.")
        }
        for b in r.adding { dropReplica(p, broker: b) }
        partitions[Int(p)].replicas = r.originalReplicas
        reassignments[p] = nil
        if !r.originalReplicas.contains(partitions[Int(p)].leader) { electLeader(p, allowUnclean: false) }
        partitions[Int(p)].partitionEpoch += 1
        quorum.append(records: 1)
    }

    mutating func dropReplica(_ p: Int32, broker b: Int32) {
        replicaBytes[ReplicaKey(partition: p, broker: b)] = nil
        var part = partitions[Int(p)]
        part.replicas.removeAll { $0 == b }
        if part.isr.count > 1 { part.isr.removeAll { $0 == b } }
        partitions[Int(p)] = part
        if part.leader == b { electLeader(p, allowUnclean: false) }
    }

    /// When every target replica is in the ISR, the removed replicas go and the leader moves into the target set.
    mutating func maybeCompleteReassignment(_ p: Int32) {
        guard let r = reassignments[p] else { return }
        let part = partitions[Int(p)]
        guard r.targetReplicas.allSatisfy({ part.isr.contains($0) }) else { return }
        partitions[Int(p)].replicas = r.targetReplicas
        partitions[Int(p)].isr = part.isr.filter { r.targetReplicas.contains($0) }
        for b in r.removing { replicaBytes[ReplicaKey(partition: p, broker: b)] = nil }
        reassignments[p] = nil
        if !r.targetReplicas.contains(part.leader) { electLeader(p, allowUnclean: false) }
        partitions[Int(p)].partitionEpoch += 1
        quorum.append(records: 1)
        healthDirty = true
    }

    /// A reassignment in progress, as ListPartitionReassignments reports it.
    public struct ReassignmentStatus: Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var replicas: [Int32]
        public var adding: [Int32]
        public var removing: [Int32]
        /// Bytes copied to the adding replicas so far, and the bytes they need (progress, not in Kafka's API).
        public var copiedBytes: Int64
        public var totalBytes: Int64
    }

    public func listReassignments(only: [(String, Int32)]? = nil) -> [ReassignmentStatus] {
        let wanted: [Int32]
        if let only {
            wanted = only.compactMap { partitionIndex(topic: $0.0, partition: $0.1) }.filter {
                reassignments[$0] != nil
            }
        } else {
            wanted = reassignments.keys.sorted()
        }
        return wanted.map { p in
            let r = reassignments[p]!
            let part = partitions[Int(p)]
            let size = self.size(of: p)
            let copied = r.adding.reduce(Int64(0)) { $0 + replicaSize(partition: p, broker: $1) }
            return ReassignmentStatus(
                topic: topics[Int(part.topic)].name, partition: part.id, replicas: part.replicas, adding: r.adding,
                removing: r.removing, copiedBytes: copied, totalBytes: size * Int64(r.adding.count))
        }
    }
}
