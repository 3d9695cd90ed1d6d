import Foundation
import GRDB

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

    public func recordAlerts(_ alerts: [AlertRow]) async throws(StoreError) -> [Bool] {
        try await write { db in
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
