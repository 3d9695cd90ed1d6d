import Crypto
public import Foundation
import KafkaModel
public import Planner
public import Rebalancer

extension Proposal {
    /// The identity of what a proposal would do to the cluster: `sha256:` and the SHA-256 (lowercase hex) of the
    /// canonical JSON of its moves. Canonical JSON: the moves sorted by topic, then partition, each as an object
    /// with exactly the keys `newReplicas`, `oldReplicas`, `partition`, `topic` in that (sorted) order, no
    /// whitespace, UTF-8 — e.g. `[{"newReplicas":[4,2,3],"oldReplicas":[1,2,3],"partition":0,"topic":"orders"}]`.
    /// The proposed leader is `newReplicas[0]`, so leadership is part of it; sizes, goals and statistics are not.
    /// `ballast plan` prints it, `ballast rebalance` prints the one it executes and journals it.
    public var canonicalHash: String { Self.canonicalHash(moves) }

    public static func canonicalHash(_ moves: [Move]) -> String {
        let digest = SHA256.hash(data: canonicalMovesJSON(moves))
        return "sha256:" + digest.map { String(format: "%02x", $0) }.joined()
    }

    struct CanonicalMove: Encodable {
        var newReplicas: [Int]
        var oldReplicas: [Int]
        var partition: Int
        var topic: String
    }

    /// The bytes the hash is taken of.
    public static func canonicalMovesJSON(_ moves: [Move]) -> Data {
        let sorted = moves.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }.map {
            CanonicalMove(
                newReplicas: $0.newReplicas, oldReplicas: $0.oldReplicas, partition: $0.partition, topic: $0.topic)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(sorted)) ?? Data()
    }

    /// The moves as the executor carries them out, in the proposal's order (their index is their journal id).
    public var plannedMoves: [PlannedMove] { Self.plannedMoves(moves) }

    public static func plannedMoves(_ moves: [Move]) -> [PlannedMove] {
        moves.map { m in
            let added = m.newReplicas.filter { !m.oldReplicas.contains($0) }.count
            let bytesPerReplica = added > 0 ? m.dataToMoveMiB / Double(added) * 1_048_576 : 0
            return PlannedMove(
                topicPartition: TopicPartition(m.topic, Int32(m.partition)), oldReplicas: m.oldReplicas.map(Int32.init),
                newReplicas: m.newReplicas.map(Int32.init), oldLeader: Int32(m.oldLeader),
                bytes: Int64(bytesPerReplica.rounded()), crossCluster: m.crossCluster)
        }
    }

    /// The first reason these moves cannot be executed as given (a duplicate partition, an empty or repeating
    /// replica list, a negative id or size), naming the move; nil when they can.
    public var executionProblem: String? { Self.executionProblem(moves) }

    public static func executionProblem(_ moves: [Move]) -> String? {
        var seen = Set<TopicPartition>()
        for (i, m) in moves.enumerated() {
            let tp = TopicPartition(m.topic, Int32(clamping: m.partition))
            let at = "moves[\(i)] (\(m.topic)-\(m.partition))"
            if m.topic.isEmpty { return "moves[\(i)]: the topic is empty" }
            if m.partition < 0 || m.partition > Int(Int32.max) { return "\(at): partition must be 0 or more" }
            if !seen.insert(tp).inserted { return "\(at): the partition appears in more than one move" }
            for (name, list) in [("oldReplicas", m.oldReplicas), ("newReplicas", m.newReplicas)] {
                if list.isEmpty { return "\(at): \(name) is empty" }
                if Set(list).count != list.count { return "\(at): \(name) repeats a broker" }
                if list.contains(where: { $0 < 0 || $0 > Int(Int32.max) }) {
                    return "\(at): \(name) holds an id that is not a broker id"
                }
            }
            if m.newLeader != m.newReplicas[0] {
                return "\(at): newLeader \(m.newLeader) is not newReplicas[0] (\(m.newReplicas[0]))"
            }
            if !(m.dataToMoveMiB >= 0) || !m.dataToMoveMiB.isFinite {
                return "\(at): dataToMoveMiB must be a size of 0 or more"
            }
        }
        return nil
    }
}
