public import BallastStore
public import Foundation
public import KafkaModel
public import Rebalancer

#if canImport(Glibc)
    import Glibc
#endif

/// `ballast rebalance --stop`: ask the running execution to stop and wait for it, or take a dead one over.
public enum RebalanceStop {
    /// This process, as a runner writes itself into its heartbeat: `host:pid`.
    public static var thisRunner: String { "\(hostName):\(getpid())" }

    /// gethostname(2): no DNS lookup, unlike Foundation's `hostName`.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether the operation's runner is alive. A runner on this host is alive while its process is; one on
    /// another host while it wrote a heartbeat within `3 × poll + 20` seconds (it writes one at every read, and at
    /// every retry of a failing read).
    public static func runnerIsAlive(_ record: OperationRecord, pollSeconds: Double, now: Date = Date()) -> Bool {
        guard record.status == .running, let beat = record.heartbeatAt else { return false }
        if let runner = record.runner, let colon = runner.lastIndex(of: ":"),
            String(runner[..<colon]) == hostName,
            let pid = Int32(runner[runner.index(after: colon)...])
        {
            // Signal 0 checks that the process exists; a dead one's pid answers ESRCH.
            return kill(pid, 0) == 0 || errno == EPERM
        }
        return now.timeIntervalSince(beat) <= 3 * pollSeconds + 20
    }

    /// Waits until the operation has ended (its runner recorded the end), polling the store every `every`; returns
    /// nil when the runner stops beating before that (it died: take it over).
    public static func awaitEnd<C: Clock>(
        _ store: any OperationsStore, operationId: String, pollSeconds: Double, every: Duration = .seconds(1),
        clock: C
    ) async throws -> OperationRecord? where C.Duration == Duration {
        while true {
            guard let record = try await store.operation(operationId) else { return nil }
            if record.status != .running { return record }
            if !runnerIsAlive(record, pollSeconds: pollSeconds) { return nil }
            try await clock.sleep(for: every)
        }
    }

    /// The partitions of `moves` that Kafka is still moving to their proposed replicas: Ballast's reassignments in
    /// flight (a reassignment of the same partition to other replicas is not Ballast's).
    public static func ours(in list: [PartitionReassignment], moves: [PlannedMove]) -> [TopicPartition] {
        var target: [TopicPartition: [Int32]] = [:]
        for m in moves { target[m.topicPartition] = m.newReplicas }
        return list.filter { target[$0.topicPartition] == $0.targetReplicas }.map(\.topicPartition)
    }
}
