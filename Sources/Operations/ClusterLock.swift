public import BallastStore
import Foundation

/// Mutating operations on one Kafka cluster are exclusive: a roll and a rebalance never run at once. The lock is
/// the operations store's, held by operation id: released when the operation finishes or fails, kept when its
/// runner crashes so that `--resume` gets it back.
public enum ClusterLock {
    /// The lock's name for a cluster: its Kafka cluster id, else (a cluster that reports none) its bootstrap list.
    public static func name(clusterId: String?, bootstrap: String) -> String {
        if let clusterId, !clusterId.isEmpty { return clusterId }
        return "bootstrap:" + bootstrap
    }

    /// Takes the lock for `operationId`, or throws naming the operation that holds it.
    public static func acquire(
        _ store: any OperationsStore, cluster: String, operationId: String, what: String
    ) async throws {
        guard let holder = try await store.acquireClusterLock(cluster: cluster, operationId: operationId, at: .now)
        else { return }
        let kind = (try? await store.operation(holder))?.kind.rawValue ?? "operation"
        throw ClusterLockError(
            "Kafka cluster \(cluster) is locked by \(kind) \(holder), which has not finished: \(what) cannot run "
                + "while it does (resume or stop it: `ballast \(kind) --resume --operation-id \(holder)`)")
    }
}

/// Another operation holds the cluster (refused for safety: exit 1).
public struct ClusterLockError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
