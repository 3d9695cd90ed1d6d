public import Foundation
import GRDB
public import KafkaModel
import Synchronization

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
    /// Alert writes waiting for the next transaction (`recordAlerts`).
    let alertWrites = Mutex(AlertWrites())
    public var location: String { path }

    /// Opens (creating when missing) the store in `directory`, and brings its schema up to date.
    public convenience init(directory: String) throws(StoreError) {
        try self.init(file: (directory as NSString).appendingPathComponent(Self.fileName))
    }

    /// Opens (creating when missing) the store in the SQLite file `file` (`ballast serve`'s `store: sqlite://FILE`).
    public init(file: String) throws(StoreError) {
        path = file
        let directory = (file as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(
                atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true)
            // Another process may hold the file for a moment (`rebalance --stop` or a `roll` checking the lock while
            // a rebalance journals): wait for it rather than fail with SQLITE_BUSY.
            var configuration = Configuration()
            configuration.busyMode = .timeout(30)
            db = try DatabaseQueue(path: path, configuration: configuration)
            // A store a newer Ballast has migrated further may hold what this one cannot read.
            if try db.read({ try Self.migrator.hasBeenSuperseded($0) }) {
                throw StoreError(.corrupt, "the operations store \(path) was written by a newer Ballast")
            }
            try Self.migrator.migrate(db)
        } catch let error as StoreError {
            throw error
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
        registerAgentMigrations(&migrator)
        // Rebalances: each move's latest state, throttle values from before the execution, liveness, stop.
        migrator.registerMigration("v3-items-settings-heartbeat") { db in
            try db.execute(
                sql: """
                    CREATE TABLE items (
                        operationId TEXT NOT NULL REFERENCES operations(id), idx INTEGER NOT NULL,
                        state TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', at DOUBLE NOT NULL,
                        PRIMARY KEY (operationId, idx));
                    CREATE TABLE savedSettings (
                        operationId TEXT NOT NULL REFERENCES operations(id), scope TEXT NOT NULL, name TEXT NOT NULL,
                        key TEXT NOT NULL, value TEXT, PRIMARY KEY (operationId, scope, name, key));
                    ALTER TABLE operations ADD COLUMN heartbeatAt DOUBLE;
                    ALTER TABLE operations ADD COLUMN runner TEXT;
                    ALTER TABLE operations ADD COLUMN stopRequestedAt DOUBLE;
                    """)
        }
        // Leadership leases of engines sharing the store. A released lease keeps its row (holder '') so that the
        // epoch keeps growing.
        migrator.registerMigration("v4-leases") { db in
            try db.execute(
                sql: """
                    CREATE TABLE leases (
                        name TEXT PRIMARY KEY, holder TEXT NOT NULL, expiresAt DOUBLE NOT NULL,
                        epoch INTEGER NOT NULL);
                    """)
        }
        // `ballast serve`: its operations, their event logs, the alerts it received.
        registerServiceMigrations(&migrator)
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

    public func recordItems(_ operationId: String, _ items: [ItemState]) async throws(StoreError) {
        guard !items.isEmpty else { return }
        let at = Date().timeIntervalSince1970
        try await write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO items (operationId, idx, state, detail, at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (operationId, idx) DO UPDATE SET state = excluded.state, detail = excluded.detail,
                    at = excluded.at
                    """)
            for item in items {
                try statement.execute(arguments: [operationId, item.index, item.state, item.detail, at])
            }
        }
    }

    public func items(_ operationId: String) async throws(StoreError) -> [ItemState] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT idx, state, detail FROM items WHERE operationId = ? ORDER BY idx",
                arguments: [operationId]
            ).map { ItemState(index: $0["idx"], state: $0["state"], detail: $0["detail"]) }
        }
    }

    public func saveSettings(_ operationId: String, _ settings: [SavedSetting]) async throws(StoreError) {
        guard !settings.isEmpty else { return }
        try await write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO savedSettings (operationId, scope, name, key, value) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (operationId, scope, name, key) DO UPDATE SET value = excluded.value
                    """)
            for s in settings {
                try statement.execute(arguments: [operationId, s.scope, s.name, s.key, s.value])
            }
        }
    }

    public func savedSettings(_ operationId: String) async throws(StoreError) -> [SavedSetting] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT scope, name, key, value FROM savedSettings WHERE operationId = ? ORDER BY scope, name, key",
                arguments: [operationId]
            ).map { SavedSetting(scope: $0["scope"], name: $0["name"], key: $0["key"], value: $0["value"]) }
        }
    }

    public func heartbeat(_ operationId: String, at: Date, runner: String) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE operations SET heartbeatAt = ?, runner = ? WHERE id = ?",
                arguments: [at.timeIntervalSince1970, runner, operationId])
        }
    }

    public func requestStop(_ operationId: String, at: Date) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE operations SET stopRequestedAt = ? WHERE id = ? AND stopRequestedAt IS NULL",
                arguments: [at.timeIntervalSince1970, operationId])
        }
    }

    public func operation(_ operationId: String) async throws(StoreError) -> OperationRecord? {
        try await read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id, kind, status, spec, createdAt, heartbeatAt, runner, stopRequestedAt FROM operations
                        WHERE id = ?
                        """, arguments: [operationId])
            else { return nil }
            return OperationRecord(
                id: row["id"], kind: OperationKind(rawValue: row["kind"]),
                status: OperationStatus(rawValue: row["status"]) ?? .failed, spec: row["spec"],
                createdAt: Date(timeIntervalSince1970: row["createdAt"]),
                heartbeatAt: (row["heartbeatAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
                runner: row["runner"],
                stopRequestedAt: (row["stopRequestedAt"] as Double?).map(Date.init(timeIntervalSince1970:)))
        }
    }

    public func latestRunning(kind: OperationKind) async throws(StoreError) -> String? {
        try await read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT id FROM operations WHERE status = 'running' AND kind = ?
                    ORDER BY createdAt DESC, rowid DESC LIMIT 1
                    """, arguments: [kind.rawValue])
        }
    }

    public func clusterLockHolder(cluster: String) async throws(StoreError) -> String? {
        try await read { db in
            try String.fetchOne(
                db, sql: "SELECT operationId FROM clusterLocks WHERE cluster = ?", arguments: [cluster])
        }
    }

    public func acquireLease(_ name: String, holder: String, ttl: Duration, now: Date) async throws(StoreError)
        -> Lease
    {
        precondition(ttl > .zero && !holder.isEmpty, "a lease needs a positive ttl and a holder")
        let until = now.timeIntervalSince1970 + ttl.seconds
        return try await write { db -> Lease in
            // One write transaction: SQLite serializes writers, so two engines cannot both see the lease free.
            let row = try Row.fetchOne(
                db, sql: "SELECT holder, expiresAt, epoch FROM leases WHERE name = ?", arguments: [name])
            guard let row else {
                try db.execute(
                    sql: "INSERT INTO leases (name, holder, expiresAt, epoch) VALUES (?, ?, ?, 1)",
                    arguments: [name, holder, until])
                return Lease(holder: holder, expiresAt: Date(timeIntervalSince1970: until), epoch: 1)
            }
            let current = Lease(
                holder: row["holder"], expiresAt: Date(timeIntervalSince1970: row["expiresAt"]), epoch: row["epoch"])
            let lease = current.next(holder: holder, until: until, now: now)
            if lease != current {
                try db.execute(
                    sql: "UPDATE leases SET holder = ?, expiresAt = ?, epoch = ? WHERE name = ?",
                    arguments: [lease.holder, lease.expiresAt.timeIntervalSince1970, lease.epoch, name])
            }
            return lease
        }
    }

    public func releaseLease(_ name: String, holder: String) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE leases SET holder = '', expiresAt = 0 WHERE name = ? AND holder = ?",
                arguments: [name, holder])
        }
    }

    /// Nothing to close: GRDB closes the file when the last reference goes.
    public func close() async {}

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
