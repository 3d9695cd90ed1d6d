public import BallastStore
public import Foundation
public import KafkaModel
public import Planner
public import Rebalancer

/// What a rebalance needs to be executed or resumed: stored in the operations store when it begins, read back by
/// `--resume` and `--stop`. No secret is in it (TLS and SASL come from the command line).
public struct RebalanceSpec: Sendable, Hashable, Codable {
    public var bootstrap: String
    /// The Kafka cluster id whose lock the execution holds.
    public var cluster: String
    public var mode: String
    /// The proposal's canonical hash (`Proposal.canonicalHash`).
    public var hash: String
    public var moves: [PlannedMove]
    public var options: RebalanceOptions

    public init(
        bootstrap: String, cluster: String, mode: String, hash: String, moves: [PlannedMove], options: RebalanceOptions
    ) {
        self.bootstrap = bootstrap
        self.cluster = cluster
        self.mode = mode
        self.hash = hash
        self.moves = moves
        self.options = options
    }

    /// A fresh operation id for a new rebalance.
    public static func newOperationId(at date: Date = Date()) -> String {
        "rebalance-\(Int(date.timeIntervalSince1970))-\(UUID().uuidString.prefix(6).lowercased())"
    }

    public func encoded() throws -> Data { try JSONEncoder().encode(self) }
}

/// Where a stored rebalance stands: its spec and each move's journaled status, and the throttle values it saved.
public struct RebalanceResumeState: Sendable {
    public var operationId: String
    public var spec: RebalanceSpec
    public var record: OperationRecord
    public var moves: [Int: (MoveStatus, String)]
    public var priors: [ThrottlePrior]

    /// The rebalance `operationId`, or else the latest one still running, from `store`.
    public static func load(from store: any OperationsStore, operationId: String?) async throws -> Self {
        var id = operationId
        if id == nil { id = try await store.latestRunning(kind: .rebalance) }
        guard let id else {
            throw RebalanceSpecError("there is no running rebalance in \(store.location)")
        }
        guard let record = try await store.operation(id), record.kind == .rebalance else {
            throw RebalanceSpecError("there is no rebalance with operation id \(id) in \(store.location)")
        }
        let spec: RebalanceSpec
        do {
            spec = try JSONDecoder().decode(RebalanceSpec.self, from: record.spec)
        } catch {
            throw RebalanceSpecError("the journal's record of rebalance \(id) is unreadable: \(error)")
        }
        var moves: [Int: (MoveStatus, String)] = [:]
        for item in try await store.items(id) {
            guard item.index >= 0, item.index < spec.moves.count, let status = MoveStatus(rawValue: item.state) else {
                throw RebalanceSpecError(
                    "the journal of rebalance \(id) has an unreadable move record (#\(item.index), \(item.state))")
            }
            moves[item.index] = (status, item.detail)
        }
        let priors = try await store.savedSettings(id).compactMap(ThrottlePrior.init(saved:))
        return Self(operationId: id, spec: spec, record: record, moves: moves, priors: priors)
    }
}

/// A throttle prior as the store keeps it (scope `broker` or `topic`).
extension ThrottlePrior {
    public var savedSetting: SavedSetting {
        SavedSetting(scope: key.resource.kind.rawValue, name: key.resource.name, key: key.key, value: value)
    }

    /// A prior as the store keeps it; nil for a scope that is not a config resource kind.
    public init?(saved s: SavedSetting) {
        guard let kind = ConfigResource.Kind(rawValue: s.scope) else { return nil }
        self.init(key: ThrottleKey(.init(kind: kind, name: s.name), s.key), value: s.value)
    }
}

/// A rebalance that cannot be started, resumed or stopped as asked (bad input: exit 2).
public struct RebalanceSpecError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension RebalanceSpecError: CategorizedError {
    public var category: ErrorCategory { .badInput }
}

/// A proposal file (`ballast plan --json`, or written by hand): only `moves` is required, and of each move only
/// `topic`, `partition`, `oldReplicas` and `newReplicas`.
public struct ProposalFile: Sendable {
    public var mode: String
    public var moves: [Proposal.Move]
    /// The hash the file says it has, if any.
    public var statedHash: String?

    public static func read(_ data: Data, name: String) throws -> ProposalFile {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw RebalanceSpecError("\(name) is not JSON: \(error.localizedDescription)")
        }
        guard let root = object as? [String: Any] else { throw RebalanceSpecError("\(name) is not a JSON object") }
        guard let list = root["moves"] as? [Any] else { throw RebalanceSpecError("\(name): moves: expected an array") }
        var moves: [Proposal.Move] = []
        moves.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            let at = "\(name): moves[\(i)]"
            guard let m = item as? [String: Any] else { throw RebalanceSpecError("\(at): expected an object") }
            func int(_ key: String) throws -> Int {
                guard let n = m[key] as? NSNumber, n.doubleValue == n.doubleValue.rounded() else {
                    throw RebalanceSpecError("\(at).\(key): expected a whole number")
                }
                return n.intValue
            }
            func ints(_ key: String) throws -> [Int] {
                guard let a = m[key] as? [Any] else { throw RebalanceSpecError("\(at).\(key): expected an array") }
                return try a.map {
                    guard let n = $0 as? NSNumber, n.doubleValue == n.doubleValue.rounded() else {
                        throw RebalanceSpecError("\(at).\(key): expected broker ids")
                    }
                    return n.intValue
                }
            }
            guard let topic = m["topic"] as? String else { throw RebalanceSpecError("\(at).topic: expected a string") }
            let new = try ints("newReplicas")
            let move = Proposal.Move(
                topic: topic, partition: try int("partition"), oldReplicas: try ints("oldReplicas"), newReplicas: new,
                oldLeader: m["oldLeader"] == nil ? -1 : try int("oldLeader"),
                newLeader: m["newLeader"] == nil ? (new.first ?? -1) : try int("newLeader"),
                dataToMoveMiB: (m["dataToMoveMiB"] as? NSNumber)?.doubleValue ?? 0,
                crossCluster: (m["crossCluster"] as? Bool) ?? false)
            moves.append(move)
        }
        return ProposalFile(
            mode: root["mode"] as? String ?? "rebalance", moves: moves, statedHash: root["hash"] as? String)
    }
}
