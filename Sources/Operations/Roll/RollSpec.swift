public import BallastStore
public import Foundation
public import KafkaModel
public import Roller

/// What a roll needs to be started or resumed: stored in the operations store when it begins, read back by
/// `--resume`. No secret is in it (TLS and SASL come from the resuming command line).
public struct RollSpec: Sendable, Hashable, Codable {
    public var bootstrap: String?
    public var agents: [String]
    /// Only these nodes; nil: every node the agents manage.
    public var nodes: [Int32]?
    public var options: RollOptions
    public var blockingSignals: Int

    public init(bootstrap: String?, agents: [String], nodes: [Int32]?, options: RollOptions, blockingSignals: Int) {
        self.bootstrap = bootstrap
        self.agents = agents
        self.nodes = nodes
        self.options = options
        self.blockingSignals = blockingSignals
    }

    /// A fresh operation id for a new roll.
    public static func newOperationId(at date: Date = Date()) -> String {
        "roll-\(Int(date.timeIntervalSince1970))-\(UUID().uuidString.prefix(6).lowercased())"
    }

    /// The roll to resume: the given operation id, or the latest unfinished roll in `store`.
    public static func resume(from store: any OperationsStore, operationId: String?) async throws
        -> (spec: RollSpec, state: RollResumeState)
    {
        var id = operationId
        if id == nil { id = try await store.latestUnfinished() }
        guard let id else {
            throw RollSpecError("there is no unfinished roll to resume in \(store.location)")
        }
        let state = try await store.resumeState(id)
        guard state.status != .finished else { throw RollSpecError("roll \(id) already finished") }
        do {
            return (try JSONDecoder().decode(RollSpec.self, from: state.spec), state)
        } catch {
            throw RollSpecError("the journal's record of roll \(id) is unreadable: \(error)")
        }
    }

    public func encoded() throws -> Data { try JSONEncoder().encode(self) }
}

/// A roll that cannot be started or resumed as asked (bad input: exit 2).
public struct RollSpecError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension RollSpecError: CategorizedError {
    public var category: ErrorCategory { .badInput }
}
