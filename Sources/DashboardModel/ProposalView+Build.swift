public import KafkaModel

extension ProposalView {
    /// The before/after balance of a proposal: replicas per broker from the snapshot, then with every move applied;
    /// data per broker from each partition's size (`partitionMiB`; for a moved partition missing there, the move's data). Brokers named only by a move (new ones) are included.
    public static func build(
        hash: String?, mode: String, snapshot: ClusterSnapshot, moves: [MoveView],
        partitionMiB: [TopicPartition: Double] = [:]
    ) -> ProposalView {
        var sizes = partitionMiB
        for m in moves where sizes[TopicPartition(m.topic, m.partition)] == nil {
            sizes[TopicPartition(m.topic, m.partition)] = m.dataMiB
        }
        var before: [Int32: (replicas: Int, mib: Double)] = [:]
        for b in snapshot.brokers { before[b.id] = (0, 0) }
        var assignment: [TopicPartition: [Int32]] = [:]
        for p in snapshot.allPartitions {
            let tp = TopicPartition(p.topic, p.partition)
            assignment[tp] = p.replicas
            for r in p.replicas { before[r, default: (0, 0)].replicas += 1 }
            for r in p.replicas { before[r, default: (0, 0)].mib += sizes[tp] ?? 0 }
        }
        var after = before.mapValues { _ in (replicas: 0, mib: 0.0) }
        for m in moves { assignment[TopicPartition(m.topic, m.partition)] = m.newReplicas }
        for (tp, replicas) in assignment {
            for r in replicas {
                after[r, default: (0, 0)].replicas += 1
                after[r, default: (0, 0)].mib += sizes[tp] ?? 0
            }
        }
        let ids = Set(before.keys).union(after.keys).sorted()
        return ProposalView(
            hash: hash, mode: mode,
            brokers: ids.map { id in
                BalanceBar(
                    broker: id, replicasBefore: before[id]?.replicas ?? 0, replicasAfter: after[id]?.replicas ?? 0,
                    diskBeforeMiB: before[id]?.mib ?? 0, diskAfterMiB: after[id]?.mib ?? 0)
            }, moves: moves, dataToMoveMiB: moves.reduce(0) { $0 + $1.dataMiB },
            crossClusterDataMiB: moves.filter(\.crossCluster).reduce(0) { $0 + $1.dataMiB })
    }
}
