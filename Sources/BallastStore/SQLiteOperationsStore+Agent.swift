public import Foundation
import GRDB

/// One of the agent's operations as the store keeps it: its id and the agent's own encoding of it.
public struct StoredAgentOperation: Sendable, Hashable {
    public var id: String
    public var body: Data

    public init(id: String, body: Data) {
        self.id = id
        self.body = body
    }
}

/// Everything the agent keeps: its operation id counter and its operations, oldest first.
public struct StoredAgentOperations: Sendable, Hashable {
    public var counter: Int
    public var operations: [StoredAgentOperation]

    public init(counter: Int, operations: [StoredAgentOperation]) {
        self.counter = counter
        self.operations = operations
    }
}

/// What changed in the agent's operations since the last write: rows to insert or replace (an operation keeps the
/// place it was first written at) and rows to drop.
public struct AgentOperationsChange: Sendable, Hashable {
    public var counter: Int
    public var upserts: [StoredAgentOperation]
    public var deletions: [String]

    public init(counter: Int, upserts: [StoredAgentOperation], deletions: [String]) {
        self.counter = counter
        self.upserts = upserts
        self.deletions = deletions
    }
}

/// The agent's operations (restarts, pool scales) in the same store as the engine's journals: an agent opens the
/// store in its own state directory and uses these tables only.
extension SQLiteOperationsStore {
    static func registerAgentMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-agent-operations") { db in
            try db.execute(
                sql: """
                    CREATE TABLE agentOperations (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, body BLOB NOT NULL);
                    CREATE TABLE agentCounter (one INTEGER PRIMARY KEY CHECK (one = 1), counter INTEGER NOT NULL);
                    """)
        }
    }

    /// The agent's operations, or nil when no agent has written here yet. Blocks: for an agent's start only.
    public func agentOperations() throws(StoreError) -> StoredAgentOperations? {
        do {
            return try db.read { db -> StoredAgentOperations? in
                guard let counter = try Int.fetchOne(db, sql: "SELECT counter FROM agentCounter") else { return nil }
                let operations = try Row.fetchAll(db, sql: "SELECT id, body FROM agentOperations ORDER BY seq").map {
                    StoredAgentOperation(id: $0["id"], body: $0["body"])
                }
                return StoredAgentOperations(counter: counter, operations: operations)
            }
        } catch {
            throw StoreError(.unavailable, "the operations store \(path) could not be read: \(error)")
        }
    }

    /// Replaces all of the agent's operations in one transaction. Blocks: for an agent's start only.
    public func replaceAgentOperations(_ state: StoredAgentOperations) throws(StoreError) {
        do {
            try db.write { db in
                try db.execute(sql: "DELETE FROM agentOperations")
                try Self.apply(
                    AgentOperationsChange(counter: state.counter, upserts: state.operations, deletions: []), db)
            }
        } catch {
            throw StoreError(.writeFailed, "the operations store \(path) could not be written: \(error)")
        }
    }

    /// Writes one change, computed by `change` inside the write transaction. Writes are serialized, so computing the
    /// change there (from the caller's newest state) means the last write always carries the newest state, whatever
    /// order concurrent callers reach this in.
    public func changeAgentOperations(_ change: @escaping @Sendable () -> AgentOperationsChange)
        async throws(StoreError)
    {
        try await write { db in try Self.apply(change(), db) }
    }

    static func apply(_ change: AgentOperationsChange, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO agentCounter (one, counter) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET counter = ?",
            arguments: [change.counter, change.counter])
        if !change.upserts.isEmpty {
            let upsert = try db.makeStatement(
                sql: """
                    INSERT INTO agentOperations (id, body) VALUES (?, ?)
                    ON CONFLICT (id) DO UPDATE SET body = excluded.body
                    """)
            for op in change.upserts { try upsert.execute(arguments: [op.id, op.body]) }
        }
        if !change.deletions.isEmpty {
            let delete = try db.makeStatement(sql: "DELETE FROM agentOperations WHERE id = ?")
            for id in change.deletions { try delete.execute(arguments: [id]) }
        }
    }
}
