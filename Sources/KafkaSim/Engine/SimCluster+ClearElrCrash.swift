import KafkaPolicies

/// Kafka 4.1.0's start-up crash replaying an all-topics ClearElrRecord, reproduced on real Kafka
/// (docs/real-kafka-4.1.md, "Kafka 4.1.0 bug hit here"; Scripts/realkafka-repro-clearelr.sh): with ELR on, a
/// change of the cluster-default min.insync.replicas makes the controller write a ClearElrRecord for all topics.
/// A node that restarts and replays, from its latest metadata snapshot, a topic deletion followed by that record
/// dies with a NullPointerException: combined and controller nodes exit, broker-only nodes stay up but never
/// register. The same steps without the deleted topic restart fine.
///
/// The model: every node notes a topic deletion, then a cluster-default min.insync.replicas change after it;
/// a node whose process is running forgets both when it takes a metadata snapshot (every
/// `metadata.log.max.snapshot.interval.ms` of its uptime, 1 hour by default; 0 disables it; the 20 MiB
/// `metadata.log.max.record.bytes.between.snapshots` trigger is not modelled). A node that starts with both
/// noted fails that start, and every later one until a snapshot would cover them (it cannot take one while
/// down). Modelled for the 4.1 tables, which stand for 4.1.0, the release reproduced; whether a later 4.1
/// patch fixes it is not known here. `SimSettings.modelClearElrStartupCrash` turns it off.
extension SimCluster {
    var modelsClearElrStartupCrash: Bool {
        guard settings.modelClearElrStartupCrash, let v = KafkaVersion(catalog.kafkaVersion) else { return false }
        return v.major == 4 && v.minor == 1
    }

    /// A topic was deleted: every node's log now holds the deletion after its latest snapshot.
    mutating func noteTopicDeletionForClearElr() {
        guard modelsClearElrStartupCrash else { return }
        for i in nodes.indices where !nodes[i].removed && !nodes[i].deletionSinceSnapshot {
            // The snapshots a running node took while nothing was noted (NoOpRecords keep the log growing).
            let interval = snapshotInterval(i)
            if snapshotsNow(i), interval > 0, now > nodes[i].lastSnapshotMs {
                nodes[i].lastSnapshotMs += (now - nodes[i].lastSnapshotMs) / interval * interval
            }
            nodes[i].deletionSinceSnapshot = true
        }
    }

    /// The cluster-default min.insync.replicas changed: the controller wrote a ClearElrRecord for all topics.
    mutating func noteClusterClearElr() {
        guard modelsClearElrStartupCrash else { return }
        for i in nodes.indices where nodes[i].deletionSinceSnapshot { nodes[i].clearElrCrashOnStart = true }
    }

    /// Whether a node starting now dies replaying its metadata log.
    func failsStartOnClearElr(_ i: Int) -> Bool { nodes[i].clearElrCrashOnStart }

    func snapshotInterval(_ i: Int) -> Int64 {
        Int64(brokerConfig(nodes[i].id, "metadata.log.max.snapshot.interval.ms")?.value ?? "") ?? 3_600_000
    }

    /// The next time a node that has something noted takes a snapshot; nil when none will.
    func nextClearElrSnapshot() -> Int64? {
        var next: Int64?
        for i in nodes.indices where nodes[i].deletionSinceSnapshot && snapshotsNow(i) {
            let interval = snapshotInterval(i)
            guard interval > 0 else { continue }
            let t = nodes[i].lastSnapshotMs + interval
            if next.map({ t < $0 }) ?? true { next = t }
        }
        return next
    }

    /// A node takes snapshots while its process runs and has loaded the metadata log.
    func snapshotsNow(_ i: Int) -> Bool {
        !nodes[i].removed && (nodes[i].state == .running || nodes[i].state == .stopping)
    }

    mutating func takeDueSnapshots() {
        for i in nodes.indices where nodes[i].deletionSinceSnapshot && snapshotsNow(i) {
            let interval = snapshotInterval(i)
            guard interval > 0, now >= nodes[i].lastSnapshotMs + interval else { continue }
            nodes[i].lastSnapshotMs = now
            nodes[i].deletionSinceSnapshot = false
            nodes[i].clearElrCrashOnStart = false
        }
    }
}
