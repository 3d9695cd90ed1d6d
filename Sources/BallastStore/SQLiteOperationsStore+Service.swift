import Foundation
import GRDB
import Synchronization

extension SQLiteOperationsStore: ServiceRecordsStore {
    static func registerServiceMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-service") { db in
            try db.execute(
                sql: """
                    CREATE TABLE serviceOperations (
                        id TEXT PRIMARY KEY, cluster TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
                        key TEXT, createdAt DOUBLE NOT NULL, body BLOB NOT NULL);
                    CREATE INDEX serviceOperations_cluster ON serviceOperations(cluster, createdAt);
                    CREATE INDEX serviceOperations_key ON serviceOperations(key);
                    CREATE TABLE serviceEvents (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, operationId TEXT NOT NULL, at DOUBLE NOT NULL,
                        level TEXT NOT NULL, message TEXT NOT NULL);
                    CREATE INDEX serviceEvents_operation ON serviceEvents(operationId, seq);
                    CREATE TABLE alerts (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, fingerprint TEXT NOT NULL, startsAt TEXT NOT NULL,
                        status TEXT NOT NULL, cluster TEXT, receivedAt DOUBLE NOT NULL, body BLOB NOT NULL,
                        outcome TEXT, operationId TEXT, UNIQUE (fingerprint, startsAt, status));
                    CREATE INDEX alerts_cluster ON alerts(cluster, seq);
                    """)
        }
    }

    public func putServiceOperation(_ o: ServiceOperationRow) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO serviceOperations (id, cluster, kind, state, key, createdAt, body)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET state = excluded.state, key = COALESCE(excluded.key, serviceOperations.key),
                        body = excluded.body
                    """,
                arguments: [o.id, o.cluster, o.kind, o.state, o.key, o.createdAt.timeIntervalSince1970, o.body])
        }
    }

    public func serviceOperations(_ q: ServiceOperationQuery) async throws(StoreError) -> [ServiceOperationRow] {
        try await read { db in
            var clauses: [String] = []
            var arguments: StatementArguments = []
            if let id = q.id {
                clauses.append("id = ?")
                _ = arguments.append(contentsOf: [id])
            }
            if let cluster = q.cluster {
                clauses.append("cluster = ?")
                _ = arguments.append(contentsOf: [cluster])
            }
            if let kind = q.kind {
                clauses.append("kind = ?")
                _ = arguments.append(contentsOf: [kind])
            }
            if let key = q.key {
                clauses.append("key = ?")
                _ = arguments.append(contentsOf: [key])
            }
            if let states = q.states {
                clauses.append("state IN (\(states.map { _ in "?" }.joined(separator: ",")))")
                _ = arguments.append(contentsOf: StatementArguments(states))
            }
            let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            let order = q.oldestFirst ? "ASC" : "DESC"
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT id, cluster, kind, state, key, createdAt, body FROM serviceOperations \(whereSQL)
                    ORDER BY createdAt \(order), rowid \(order) LIMIT \(max(1, q.limit))
                    """, arguments: arguments
            ).map { row in
                ServiceOperationRow(
                    id: row["id"], cluster: row["cluster"], kind: row["kind"], state: row["state"], key: row["key"],
                    createdAt: Date(timeIntervalSince1970: row["createdAt"]), body: row["body"])
            }
        }
    }

    public func appendEvent(_ operationId: String, _ e: ServiceEventRow, keep: Int) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO serviceEvents (operationId, at, level, message) VALUES (?, ?, ?, ?)",
                arguments: [operationId, e.at.timeIntervalSince1970, e.level, e.message])
            try db.execute(
                sql: """
                    DELETE FROM serviceEvents WHERE operationId = ? AND seq <= (
                        SELECT seq FROM serviceEvents WHERE operationId = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)
                    """, arguments: [operationId, operationId, max(1, keep)])
        }
    }

    public func events(_ operationId: String) async throws(StoreError) -> [ServiceEventRow] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT at, level, message FROM serviceEvents WHERE operationId = ? ORDER BY seq",
                arguments: [operationId]
            ).map {
                ServiceEventRow(at: Date(timeIntervalSince1970: $0["at"]), level: $0["level"], message: $0["message"])
            }
        }
    }

    /// Group commit: webhooks that arrive while a transaction is being written wait and go into the next one
    /// together, so that each commit (a few fsyncs in SQLite's rollback journal, about 5 ms on a VM disk) carries
    /// every alert that arrived meanwhile instead of one. Each caller returns once its alerts are committed; when the
    /// transaction fails, every caller in it gets the error (and Alertmanager retries: nothing is half-stored).
    public func recordAlerts(_ alerts: [AlertRow]) async throws(StoreError) -> [Bool] {
        let result: Result<[Bool], StoreError> = await withCheckedContinuation { c in
            let startWriter = alertWrites.withLock { w in
                w.waiting.append((alerts, c))
                defer { w.writing = true }
                return !w.writing
            }
            if startWriter { Task { await self.writeAlertBatches() } }
        }
        return try result.get()
    }

    /// Writes what waits, one transaction per round, until nothing does.
    func writeAlertBatches() async {
        while true {
            let batch = alertWrites.withLock { w in
                defer { w.waiting = [] }
                if w.waiting.isEmpty { w.writing = false }
                return w.waiting
            }
            guard !batch.isEmpty else { return }
            let rows = batch.map(\.0)
            do {
                let fresh = try await write { db in try rows.map { try Self.insert($0, db) } }
                for (i, (_, c)) in batch.enumerated() { c.resume(returning: .success(fresh[i])) }
            } catch {
                for (_, c) in batch { c.resume(returning: .failure(error)) }
            }
        }
    }

    static func insert(_ alerts: [AlertRow], _ db: Database) throws -> [Bool] {
        try alerts.map { a in
            try db.execute(
                sql: """
                    INSERT INTO alerts (fingerprint, startsAt, status, cluster, receivedAt, body, outcome, operationId)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(fingerprint, startsAt, status) DO NOTHING
                    """,
                arguments: [
                    a.key.fingerprint, a.key.startsAt, a.key.status, a.cluster, a.receivedAt.timeIntervalSince1970,
                    a.body, a.outcome, a.operationId,
                ])
            return db.changesCount > 0
        }
    }

    public func setAlertOutcome(_ key: AlertKey, outcome: String, operationId: String?) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql:
                    "UPDATE alerts SET outcome = ?, operationId = ? WHERE fingerprint = ? AND startsAt = ? AND status = ?",
                arguments: [outcome, operationId, key.fingerprint, key.startsAt, key.status])
        }
    }

    public func alerts(cluster: String?, limit: Int) async throws(StoreError) -> [AlertRow] {
        try await read { db in
            let whereSQL = cluster == nil ? "" : "WHERE cluster = ?"
            let arguments: StatementArguments = cluster.map { [$0] } ?? []
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT fingerprint, startsAt, status, cluster, receivedAt, body, outcome, operationId FROM alerts
                    \(whereSQL) ORDER BY seq DESC LIMIT \(max(1, limit))
                    """, arguments: arguments
            ).map { row in
                AlertRow(
                    key: AlertKey(fingerprint: row["fingerprint"], startsAt: row["startsAt"], status: row["status"]),
                    cluster: row["cluster"], receivedAt: Date(timeIntervalSince1970: row["receivedAt"]),
                    body: row["body"], outcome: row["outcome"], operationId: row["operationId"])
            }
        }
    }
}

/// `recordAlerts` callers waiting for the next transaction, and whether a writer is running.
struct AlertWrites: Sendable {
    var waiting: [([AlertRow], CheckedContinuation<Result<[Bool], StoreError>, Never>)] = []
    var writing = false
}
