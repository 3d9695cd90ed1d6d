import Foundation
import PostgresNIO

/// `ballast serve`'s records in PostgreSQL, with the semantics of `SQLiteOperationsStore+Service.swift`.
extension PostgresOperationsStore {
    public func putServiceOperation(_ o: ServiceOperationRow) async throws(StoreError) {
        try await transaction(writing: true) { c in
            try await c.query(
                """
                INSERT INTO ballast_service_operations (id, cluster, kind, state, key, created_at, body)
                VALUES (\(o.id), \(o.cluster), \(o.kind), \(o.state), \(o.key), \(o.createdAt.timeIntervalSince1970),
                \(o.body))
                ON CONFLICT (id) DO UPDATE SET state = excluded.state,
                key = COALESCE(excluded.key, ballast_service_operations.key), body = excluded.body
                """, logger: self.logger)
        }
    }

    public func serviceOperations(_ q: ServiceOperationQuery) async throws(StoreError) -> [ServiceOperationRow] {
        var clauses: [String] = []
        var binds = PostgresBindings()
        func filter(_ column: String, _ value: String?) {
            guard let value else { return }
            binds.append(value)
            clauses.append("\(column) = $\(binds.count)")
        }
        filter("id", q.id)
        filter("cluster", q.cluster)
        filter("kind", q.kind)
        filter("key", q.key)
        if let states = q.states {
            binds.append(states)
            clauses.append("state = ANY($\(binds.count))")
        }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let order = q.oldestFirst ? "ASC" : "DESC"
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT id, cluster, kind, state, key, created_at, body FROM ballast_service_operations \(whereSQL)
                ORDER BY created_at \(order), seq \(order) LIMIT \(max(1, q.limit))
                """, binds: binds)
        return try await transaction(writing: false) { c in
            var rows: [ServiceOperationRow] = []
            for try await (id, cluster, kind, state, key, createdAt, body) in try await c.query(
                query, logger: self.logger
            ).decode((String, String, String, String, String?, Double, Data).self) {
                rows.append(
                    ServiceOperationRow(
                        id: id, cluster: cluster, kind: kind, state: state, key: key,
                        createdAt: Date(timeIntervalSince1970: createdAt), body: body))
            }
            return rows
        }
    }

    public func appendEvent(_ operationId: String, _ e: ServiceEventRow, keep: Int) async throws(StoreError) {
        let keep = max(1, keep)
        try await transaction(writing: true) { c in
            try await c.query(
                """
                INSERT INTO ballast_service_events (operation_id, at, level, message)
                VALUES (\(operationId), \(e.at.timeIntervalSince1970), \(e.level), \(e.message))
                """, logger: self.logger)
            try await c.query(
                """
                DELETE FROM ballast_service_events WHERE operation_id = \(operationId) AND seq <= (
                    SELECT seq FROM ballast_service_events WHERE operation_id = \(operationId)
                    ORDER BY seq DESC LIMIT 1 OFFSET \(keep))
                """, logger: self.logger)
        }
    }

    public func events(_ operationId: String) async throws(StoreError) -> [ServiceEventRow] {
        try await transaction(writing: false) { c in
            var events: [ServiceEventRow] = []
            for try await (at, level, message) in try await c.query(
                "SELECT at, level, message FROM ballast_service_events WHERE operation_id = \(operationId) ORDER BY seq",
                logger: self.logger
            ).decode((Double, String, String).self) {
                events.append(ServiceEventRow(at: Date(timeIntervalSince1970: at), level: level, message: message))
            }
            return events
        }
    }

    public func recordAlerts(_ alerts: [AlertRow]) async throws(StoreError) -> [Bool] {
        try await transaction(writing: true) { c in
            var fresh: [Bool] = []
            for a in alerts {
                var inserted = false
                for try await _ in try await c.query(
                    """
                    INSERT INTO ballast_alerts (fingerprint, starts_at, status, cluster, received_at, body, outcome,
                    operation_id)
                    VALUES (\(a.key.fingerprint), \(a.key.startsAt), \(a.key.status), \(a.cluster),
                    \(a.receivedAt.timeIntervalSince1970), \(a.body), \(a.outcome), \(a.operationId))
                    ON CONFLICT (fingerprint, starts_at, status) DO NOTHING RETURNING seq
                    """, logger: self.logger
                ).decode(Int64.self) {
                    inserted = true
                }
                fresh.append(inserted)
            }
            return fresh
        }
    }

    public func setAlertOutcome(_ key: AlertKey, outcome: String, operationId: String?) async throws(StoreError) {
        try await transaction(writing: true) { c in
            try await c.query(
                """
                UPDATE ballast_alerts SET outcome = \(outcome), operation_id = \(operationId)
                WHERE fingerprint = \(key.fingerprint) AND starts_at = \(key.startsAt) AND status = \(key.status)
                """, logger: self.logger)
        }
    }

    public func alerts(cluster: String?, limit: Int) async throws(StoreError) -> [AlertRow] {
        var binds = PostgresBindings()
        var whereSQL = ""
        if let cluster {
            binds.append(cluster)
            whereSQL = "WHERE cluster = $1"
        }
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT fingerprint, starts_at, status, cluster, received_at, body, outcome, operation_id
                FROM ballast_alerts \(whereSQL) ORDER BY seq DESC LIMIT \(max(1, limit))
                """, binds: binds)
        return try await transaction(writing: false) { c in
            var rows: [AlertRow] = []
            for try await (fingerprint, startsAt, status, cluster, receivedAt, body, outcome, operationId)
                in try await c
                .query(query, logger: self.logger).decode(
                    (String, String, String, String?, Double, Data, String?, String?).self)
            {
                rows.append(
                    AlertRow(
                        key: AlertKey(fingerprint: fingerprint, startsAt: startsAt, status: status), cluster: cluster,
                        receivedAt: Date(timeIntervalSince1970: receivedAt), body: body, outcome: outcome,
                        operationId: operationId))
            }
            return rows
        }
    }
}
