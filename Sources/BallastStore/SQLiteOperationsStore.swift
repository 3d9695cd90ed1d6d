public import Foundation
import GRDB

/// The operations store in one SQLite file (GRDB): `roller.sqlite` under the state directory (`--state-dir`).
///
/// The roll executor writes a step BEFORE asking an agent to restart a node and AFTER the agent answers, so a roll
/// resumed after a crash knows exactly which nodes it may have touched: those it resumes with the same request id
/// (agents treat a repeated id as the same restart), all others it has not touched. Writes go through GRDB's async
/// API, off the caller's task.
public final class SQLiteOperationsStore: OperationsStore {
    /// The file name under the state directory.
    public static let fileName = "roller.sqlite"

    let db: DatabaseQueue
    public let path: String
    public var location: String { path }

    /// Opens (creating when missing) the store in `directory`, and brings its schema up to date.
    public init(directory: String) throws(StoreError) {
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            db = try DatabaseQueue(path: path)
            try Self.migrator.migrate(db)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw StoreError(.corrupt, "the operations store \(path) is not a SQLite database: \(error.message ?? "")")
        } catch {
            throw StoreError(.unavailable, "the operations store \(path) could not be opened: \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE operations (
                        id TEXT PRIMARY KEY, createdAt DOUBLE NOT NULL, spec BLOB NOT NULL, status TEXT NOT NULL);
                    CREATE TABLE steps (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, operationId TEXT NOT NULL REFERENCES operations(id),
                        at DOUBLE NOT NULL, batch INTEGER NOT NULL, node INTEGER, kind TEXT NOT NULL,
                        detail TEXT NOT NULL DEFAULT '');
                    CREATE INDEX steps_operation ON steps(operationId, seq);
                    """)
        }
        // Rebalances and service operations share the journal; one operation at a time per Kafka cluster.
        migrator.registerMigration("v2-kinds-and-cluster-locks") { db in
            try db.execute(
                sql: """
                    ALTER TABLE operations ADD COLUMN kind TEXT NOT NULL DEFAULT 'roll';
                    CREATE TABLE clusterLocks (
                        cluster TEXT PRIMARY KEY, operationId TEXT NOT NULL, since DOUBLE NOT NULL);
                    """)
        }
        return migrator
    }

    public func begin(operationId: String, kind: OperationKind, spec: Data, at: Date) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO operations (id, createdAt, spec, status, kind) VALUES (?, ?, ?, 'running', ?)",
                arguments: [operationId, at.timeIntervalSince1970, spec, kind.rawValue])
        }
    }

    public func record(_ operationId: String, batch: Int, node: Int32?, _ kind: RollStepKind, detail: String)
        async throws(StoreError)
    {
        let at = Date().timeIntervalSince1970
        try await write { db in
            try db.execute(
                sql: "INSERT INTO steps (operationId, at, batch, node, kind, detail) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [operationId, at, batch, node.map { Int($0) }, kind.rawValue, detail])
            if kind == .finished || kind == .failed {
                let status: OperationStatus = kind == .finished ? .finished : .failed
                try db.execute(
                    sql: "UPDATE operations SET status = ? WHERE id = ?", arguments: [status.rawValue, operationId])
                try db.execute(sql: "DELETE FROM clusterLocks WHERE operationId = ?", arguments: [operationId])
            }
        }
    }

    public func steps(_ operationId: String) async throws(StoreError) -> [RollStep] {
        try await read { db in try Self.steps(db, operationId) }
    }

    static func steps(_ db: Database, _ operationId: String) throws -> [RollStep] {
        try Row.fetchAll(
            db, sql: "SELECT batch, node, kind, detail FROM steps WHERE operationId = ? ORDER BY seq",
            arguments: [operationId]
        ).map { row in
            RollStep(
                batch: row["batch"], node: (row["node"] as Int?).map { Int32($0) },
                kind: RollStepKind(rawValue: row["kind"]) ?? .failed, detail: row["detail"])
        }
    }

    public func latestUnfinished(kind: OperationKind) async throws(StoreError) -> String? {
        try await read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT id FROM operations WHERE status != 'finished' AND kind = ?
                    ORDER BY createdAt DESC, rowid DESC LIMIT 1
                    """, arguments: [kind.rawValue])
        }
    }

    public func resumeState(_ operationId: String) async throws(StoreError) -> RollResumeState {
        let found = try await read { db -> (Data, String, [RollStep])? in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT spec, status FROM operations WHERE id = ?", arguments: [operationId])
            else { return nil }
            return (row["spec"], row["status"], try Self.steps(db, operationId))
        }
        guard let (spec, status, steps) = found else {
            throw StoreError(.notFound, "no roll with operation id \(operationId) in \(path)")
        }
        return RollResumeState(
            operationId: operationId, spec: spec, status: OperationStatus(rawValue: status) ?? .failed, steps: steps)
    }

    public func acquireClusterLock(cluster: String, operationId: String, at: Date) async throws(StoreError)
        -> String?
    {
        try await write { db -> String? in
            if let holder = try String.fetchOne(
                db, sql: "SELECT operationId FROM clusterLocks WHERE cluster = ?", arguments: [cluster])
            {
                return holder == operationId ? nil : holder
            }
            try db.execute(
                sql: "INSERT INTO clusterLocks (cluster, operationId, since) VALUES (?, ?, ?)",
                arguments: [cluster, operationId, at.timeIntervalSince1970])
            return nil
        }
    }

    public func releaseClusterLock(cluster: String, operationId: String) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM clusterLocks WHERE cluster = ? AND operationId = ?",
                arguments: [cluster, operationId])
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await db.write(body)
        } catch {
            throw StoreError(.writeFailed, "the operations store \(path) could not be written: \(error)")
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await db.read(body)
        } catch {
            throw StoreError(.unavailable, "the operations store \(path) could not be read: \(error)")
        }
    }
}
