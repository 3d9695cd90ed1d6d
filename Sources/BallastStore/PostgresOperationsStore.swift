public import Foundation
public import KafkaModel
import Logging
import NIOSSL
import PostgresNIO

/// The operations store in PostgreSQL (postgres-nio): what several `ballast serve` engines share for high
/// availability. Same semantics as `SQLiteOperationsStore`: every method is one transaction; the cluster lock and the
/// leadership lease are taken with row locks (`INSERT … ON CONFLICT`, `SELECT … FOR UPDATE`), so two engines racing
/// for them never both win. Connections come from a pool (`PostgresClient`), whose background task this store owns
/// until `close()`.
///
/// Times are stored as seconds since 1970 (`DOUBLE PRECISION`), as SQLite stores them, so a `Date` reads back
/// exactly. A lease's expiry is judged by the `now` its caller passes (the engines' clocks, kept in step by NTP), not
/// by the database's clock: the one rule (`Lease.next`) then holds for every store, and tests drive time.
public final class PostgresOperationsStore: ServiceRecordsStore {
    /// The URL without its password.
    public let location: String

    let client: PostgresClient
    let runTask: Task<Void, Never>
    /// Kept only to scrub it from error messages.
    let password: String?
    let logger = Logger(label: "ballast.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Connects to the database `url` names (see `PostgresLocation`), and creates or migrates its schema.
    public static func open(url: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        async throws(StoreError) -> PostgresOperationsStore
    {
        let target = try PostgresLocation(url: url, environment: environment)
        try await probe(target)
        let store = PostgresOperationsStore(target)
        do {
            try await store.migrate()
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    /// Connects once, on a connection of its own, so that a wrong password, a missing database or an unreachable
    /// server is reported at once with the server's reason (the pool would retry it for a minute, then say only that
    /// it gave up).
    static func probe(_ target: PostgresLocation) async throws(StoreError) {
        let logger = Logger(label: "ballast.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        do {
            var configuration = try target.connectionConfiguration()
            configuration.options.connectTimeout = .seconds(Int64(PostgresLocation.connectTimeout.components.seconds))
            let connection = try await PostgresConnection.connect(
                configuration: configuration, id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw StoreError(
                .unavailable,
                "the operations store \(target.location) could not be opened: "
                    + PostgresLocation.describe(error, hiding: target.configuration.password))
        }
    }

    init(_ target: PostgresLocation) {
        location = target.location
        password = target.configuration.password
        client = PostgresClient(configuration: target.configuration)
        let client = client
        runTask = Task { await client.run() }
    }

    deinit { runTask.cancel() }

    /// Closes the pool's connections. The store cannot be used afterwards.
    public func close() async {
        runTask.cancel()
        await runTask.value
    }

    // MARK: Schema

    /// The schema, version by version. Never edit one that has shipped: add the next.
    static let migrations: [(version: Int, statements: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE ballast_operations (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, id TEXT PRIMARY KEY,
                    kind TEXT NOT NULL, status TEXT NOT NULL, spec BYTEA NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL, heartbeat_at DOUBLE PRECISION, runner TEXT,
                    stop_requested_at DOUBLE PRECISION)
                """,
                """
                CREATE TABLE ballast_steps (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    operation_id TEXT NOT NULL REFERENCES ballast_operations(id), at DOUBLE PRECISION NOT NULL,
                    batch BIGINT NOT NULL, node INTEGER, kind TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')
                """,
                "CREATE INDEX ballast_steps_operation ON ballast_steps(operation_id, seq)",
                """
                CREATE TABLE ballast_cluster_locks (
                    cluster TEXT PRIMARY KEY, operation_id TEXT NOT NULL, since DOUBLE PRECISION NOT NULL)
                """,
                """
                CREATE TABLE ballast_items (
                    operation_id TEXT NOT NULL REFERENCES ballast_operations(id), idx BIGINT NOT NULL,
                    state TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (operation_id, idx))
                """,
                """
                CREATE TABLE ballast_saved_settings (
                    operation_id TEXT NOT NULL REFERENCES ballast_operations(id), scope TEXT NOT NULL,
                    name TEXT NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY (operation_id, scope, name, key))
                """,
                // A released lease keeps its row (holder '') so that the epoch keeps growing.
                """
                CREATE TABLE ballast_leases (
                    name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
                    epoch BIGINT NOT NULL)
                """,
            ]
        ),
        // `ballast serve`: its operations as the API shows them, their event logs, the alerts it received.
        (
            2,
            [
                """
                CREATE TABLE ballast_service_operations (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, id TEXT PRIMARY KEY, cluster TEXT NOT NULL,
                    kind TEXT NOT NULL, state TEXT NOT NULL, key TEXT, created_at DOUBLE PRECISION NOT NULL,
                    body BYTEA NOT NULL)
                """,
                "CREATE INDEX ballast_service_operations_cluster ON ballast_service_operations(cluster, created_at)",
                "CREATE INDEX ballast_service_operations_key ON ballast_service_operations(key)",
                """
                CREATE TABLE ballast_service_events (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, operation_id TEXT NOT NULL,
                    at DOUBLE PRECISION NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL)
                """,
                "CREATE INDEX ballast_service_events_operation ON ballast_service_events(operation_id, seq)",
                """
                CREATE TABLE ballast_alerts (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, fingerprint TEXT NOT NULL,
                    starts_at TEXT NOT NULL, status TEXT NOT NULL, cluster TEXT,
                    received_at DOUBLE PRECISION NOT NULL, body BYTEA NOT NULL, outcome TEXT, operation_id TEXT,
                    UNIQUE (fingerprint, starts_at, status))
                """,
                "CREATE INDEX ballast_alerts_cluster ON ballast_alerts(cluster, seq)",
            ]
        ),
    ]

    /// Brings the schema up to date, refusing a database a newer Ballast has migrated further. Engines starting at
    /// once take turns on an advisory lock.
    func migrate() async throws(StoreError) {
        let latest = Self.migrations.last?.version ?? 0
        let found = try await transaction(writing: true) { c -> Int in
            try await c.query("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))", logger: self.logger)
            try await c.query(
                """
                CREATE TABLE IF NOT EXISTS ballast_schema_migrations (
                    version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)
                """, logger: self.logger)
            var current = 0
            for try await v in try await c.query(
                "SELECT COALESCE(MAX(version), 0) FROM ballast_schema_migrations", logger: self.logger
            ).decode(Int.self) {
                current = v
            }
            guard current <= latest else { return current }
            let now = Date().timeIntervalSince1970
            for migration in Self.migrations where migration.version > current {
                for statement in migration.statements {
                    try await c.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await c.query(
                    "INSERT INTO ballast_schema_migrations (version, applied_at) VALUES (\(migration.version), \(now))",
                    logger: self.logger)
            }
            return current
        }
        if found > latest {
            throw StoreError(
                .corrupt,
                "the operations store \(location) was written by a newer Ballast (schema version \(found); this one "
                    + "knows up to \(latest))")
        }
    }

    /// The advisory lock key engines take while migrating ("ballast" in ASCII).
    static let migrationLockKey: Int64 = 0x62_616c_6c61_7374

    // MARK: Journal

    public func begin(operationId: String, kind: OperationKind, spec: Data, at: Date) async throws(StoreError) {
        try await transaction(writing: true) { c in
            try await c.query(
                """
                INSERT INTO ballast_operations (id, kind, status, spec, created_at)
                VALUES (\(operationId), \(kind.rawValue), 'running', \(spec), \(at.timeIntervalSince1970))
                """, logger: self.logger)
        }
    }

    public func record(_ operationId: String, batch: Int, node: Int32?, _ kind: RollStepKind, detail: String)
        async throws(StoreError)
    {
        let at = Date().timeIntervalSince1970
        try await transaction(writing: true) { c in
            try await c.query(
                """
                INSERT INTO ballast_steps (operation_id, at, batch, node, kind, detail)
                VALUES (\(operationId), \(at), \(batch), \(node), \(kind.rawValue), \(detail))
                """, logger: self.logger)
            if kind == .finished || kind == .failed {
                let status: OperationStatus = kind == .finished ? .finished : .failed
                try await c.query(
                    "UPDATE ballast_operations SET status = \(status.rawValue) WHERE id = \(operationId)",
                    logger: self.logger)
                try await c.query(
                    "DELETE FROM ballast_cluster_locks WHERE operation_id = \(operationId)", logger: self.logger)
            }
        }
    }

    public func steps(_ operationId: String) async throws(StoreError) -> [RollStep] {
        try await transaction(writing: false) { c in try await self.steps(c, operationId) }
    }

    func steps(_ c: PostgresConnection, _ operationId: String) async throws -> [RollStep] {
        var steps: [RollStep] = []
        let rows = try await c.query(
            "SELECT batch, node, kind, detail FROM ballast_steps WHERE operation_id = \(operationId) ORDER BY seq",
            logger: logger)
        for try await (batch, node, kind, detail) in rows.decode((Int, Int32?, String, String).self) {
            steps.append(
                RollStep(batch: batch, node: node, kind: RollStepKind(rawValue: kind) ?? .failed, detail: detail))
        }
        return steps
    }

    public func latestUnfinished(kind: OperationKind) async throws(StoreError) -> String? {
        try await firstString(
            """
            SELECT id FROM ballast_operations WHERE status != 'finished' AND kind = \(kind.rawValue)
            ORDER BY created_at DESC, seq DESC LIMIT 1
            """)
    }

    public func resumeState(_ operationId: String) async throws(StoreError) -> RollResumeState {
        let found = try await transaction(writing: false, snapshot: true) { c -> (Data, String, [RollStep])? in
            let rows = try await c.query(
                "SELECT spec, status FROM ballast_operations WHERE id = \(operationId)", logger: self.logger)
            var row: (Data, String)?
            for try await r in rows.decode((Data, String).self) { row = r }
            guard let (spec, status) = row else { return nil }
            return (spec, status, try await self.steps(c, operationId))
        }
        guard let (spec, status, steps) = found else {
            throw StoreError(.notFound, "no roll with operation id \(operationId) in \(location)")
        }
        return RollResumeState(
            operationId: operationId, spec: spec, status: OperationStatus(rawValue: status) ?? .failed, steps: steps)
    }

    // MARK: Cluster locks

    public func acquireClusterLock(cluster: String, operationId: String, at: Date) async throws(StoreError)
        -> String?
    {
        // One statement: inserts the lock, or (a no-op update that locks the row) returns the operation holding it.
        let holder = try await firstString(
            """
            INSERT INTO ballast_cluster_locks (cluster, operation_id, since)
            VALUES (\(cluster), \(operationId), \(at.timeIntervalSince1970))
            ON CONFLICT (cluster) DO UPDATE SET operation_id = ballast_cluster_locks.operation_id
            RETURNING operation_id
            """, writing: true)
        return holder == operationId ? nil : holder
    }

    public func releaseClusterLock(cluster: String, operationId: String) async throws(StoreError) {
        try await transaction(writing: true) { c in
            try await c.query(
                "DELETE FROM ballast_cluster_locks WHERE cluster = \(cluster) AND operation_id = \(operationId)",
                logger: self.logger)
        }
    }

    public func clusterLockHolder(cluster: String) async throws(StoreError) -> String? {
        try await firstString("SELECT operation_id FROM ballast_cluster_locks WHERE cluster = \(cluster)")
    }

    // MARK: Items, saved settings, liveness and stop requests

    public func recordItems(_ operationId: String, _ items: [ItemState]) async throws(StoreError) {
        guard !items.isEmpty else { return }
        let at = Date().timeIntervalSince1970
        try await transaction(writing: true) { c in
            for item in items {
                try await c.query(
                    """
                    INSERT INTO ballast_items (operation_id, idx, state, detail, at)
                    VALUES (\(operationId), \(item.index), \(item.state), \(item.detail), \(at))
                    ON CONFLICT (operation_id, idx) DO UPDATE SET state = excluded.state, detail = excluded.detail,
                    at = excluded.at
                    """, logger: self.logger)
            }
        }
    }

    public func items(_ operationId: String) async throws(StoreError) -> [ItemState] {
        try await transaction(writing: false) { c in
            var items: [ItemState] = []
            let rows = try await c.query(
                "SELECT idx, state, detail FROM ballast_items WHERE operation_id = \(operationId) ORDER BY idx",
                logger: self.logger)
            for try await (idx, state, detail) in rows.decode((Int, String, String).self) {
                items.append(ItemState(index: idx, state: state, detail: detail))
            }
            return items
        }
    }

    public func saveSettings(_ operationId: String, _ settings: [SavedSetting]) async throws(StoreError) {
        guard !settings.isEmpty else { return }
        try await transaction(writing: true) { c in
            for s in settings {
                try await c.query(
                    """
                    INSERT INTO ballast_saved_settings (operation_id, scope, name, key, value)
                    VALUES (\(operationId), \(s.scope), \(s.name), \(s.key), \(s.value))
                    ON CONFLICT (operation_id, scope, name, key) DO UPDATE SET value = excluded.value
                    """, logger: self.logger)
            }
        }
    }

    public func savedSettings(_ operationId: String) async throws(StoreError) -> [SavedSetting] {
        try await transaction(writing: false) { c in
            var settings: [SavedSetting] = []
            // COLLATE "C": the byte order SQLite sorts by, whatever the database's locale.
            let rows = try await c.query(
                """
                SELECT scope, name, key, value FROM ballast_saved_settings WHERE operation_id = \(operationId)
                ORDER BY scope COLLATE "C", name COLLATE "C", key COLLATE "C"
                """, logger: self.logger)
            for try await (scope, name, key, value) in rows.decode((String, String, String, String?).self) {
                settings.append(SavedSetting(scope: scope, name: name, key: key, value: value))
            }
            return settings
        }
    }

    public func heartbeat(_ operationId: String, at: Date, runner: String) async throws(StoreError) {
        try await transaction(writing: true) { c in
            try await c.query(
                """
                UPDATE ballast_operations SET heartbeat_at = \(at.timeIntervalSince1970), runner = \(runner)
                WHERE id = \(operationId)
                """, logger: self.logger)
        }
    }

    public func requestStop(_ operationId: String, at: Date) async throws(StoreError) {
        try await transaction(writing: true) { c in
            try await c.query(
                """
                UPDATE ballast_operations SET stop_requested_at = \(at.timeIntervalSince1970)
                WHERE id = \(operationId) AND stop_requested_at IS NULL
                """, logger: self.logger)
        }
    }

    public func operation(_ operationId: String) async throws(StoreError) -> OperationRecord? {
        try await transaction(writing: false) { c in
            let rows = try await c.query(
                """
                SELECT id, kind, status, spec, created_at, heartbeat_at, runner, stop_requested_at
                FROM ballast_operations WHERE id = \(operationId)
                """, logger: self.logger)
            var record: OperationRecord?
            for try await (id, kind, status, spec, createdAt, heartbeatAt, runner, stopRequestedAt) in rows.decode(
                (String, String, String, Data, Double, Double?, String?, Double?).self)
            {
                record = OperationRecord(
                    id: id, kind: OperationKind(rawValue: kind), status: OperationStatus(rawValue: status) ?? .failed,
                    spec: spec, createdAt: Date(timeIntervalSince1970: createdAt),
                    heartbeatAt: heartbeatAt.map(Date.init(timeIntervalSince1970:)), runner: runner,
                    stopRequestedAt: stopRequestedAt.map(Date.init(timeIntervalSince1970:)))
            }
            return record
        }
    }

    public func latestRunning(kind: OperationKind) async throws(StoreError) -> String? {
        try await firstString(
            """
            SELECT id FROM ballast_operations WHERE status = 'running' AND kind = \(kind.rawValue)
            ORDER BY created_at DESC, seq DESC LIMIT 1
            """)
    }

    // MARK: Leadership

    public func acquireLease(_ name: String, holder: String, ttl: Duration, now: Date) async throws(StoreError)
        -> Lease
    {
        precondition(ttl > .zero && !holder.isEmpty, "a lease needs a positive ttl and a holder")
        let until = now.timeIntervalSince1970 + ttl.seconds
        return try await transaction(writing: true) { c -> Lease in
            // The row exists (free, epoch 0, when new), then is locked: engines asking at once take turns on it.
            try await c.query(
                """
                INSERT INTO ballast_leases (name, holder, expires_at, epoch) VALUES (\(name), '', 0, 0)
                ON CONFLICT (name) DO NOTHING
                """, logger: self.logger)
            var current: Lease?
            for try await (h, expiresAt, epoch) in try await c.query(
                "SELECT holder, expires_at, epoch FROM ballast_leases WHERE name = \(name) FOR UPDATE",
                logger: self.logger
            ).decode((String, Double, Int64).self) {
                current = Lease(holder: h, expiresAt: Date(timeIntervalSince1970: expiresAt), epoch: epoch)
            }
            guard let current else { throw StoreError(.writeFailed, "the lease \(name) vanished while taken") }
            let lease = current.next(holder: holder, until: until, now: now)
            if lease != current {
                try await c.query(
                    """
                    UPDATE ballast_leases SET holder = \(lease.holder),
                    expires_at = \(lease.expiresAt.timeIntervalSince1970), epoch = \(lease.epoch) WHERE name = \(name)
                    """, logger: self.logger)
            }
            return lease
        }
    }

    public func releaseLease(_ name: String, holder: String) async throws(StoreError) {
        try await transaction(writing: true) { c in
            try await c.query(
                "UPDATE ballast_leases SET holder = '', expires_at = 0 WHERE name = \(name) AND holder = \(holder)",
                logger: self.logger)
        }
    }

    // MARK: Transactions and errors

    /// Runs `body` in one transaction (`snapshot`: every read sees the same snapshot), naming the store and what
    /// went wrong, never the password, when it fails.
    @discardableResult
    func transaction<T: Sendable>(
        writing: Bool, snapshot: Bool = false, _ body: (PostgresConnection) async throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await client.withTransaction(logger: logger) { c in
                if snapshot {
                    try await c.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: self.logger)
                }
                return try await body(c)
            }
        } catch {
            throw storeError(error, writing: writing)
        }
    }

    /// The first column of the first row, as one transaction.
    func firstString(_ query: PostgresQuery, writing: Bool = false) async throws(StoreError) -> String? {
        try await transaction(writing: writing) { c in
            var first: String?
            for try await value in try await c.query(query, logger: self.logger).decode(String.self) where first == nil
            {
                first = value
            }
            return first
        }
    }

    func storeError(_ error: any Error, writing: Bool) -> StoreError {
        if let e = error as? StoreError { return e }
        if let e = error as? PostgresTransactionError,
            let inner = e.closureError ?? e.beginError ?? e.commitError ?? e.rollbackError
        {
            return storeError(inner, writing: writing)
        }
        let what = writing ? "written" : "read"
        let code: StoreError.Code =
            PostgresLocation.isUnreachable(error) ? .unavailable : writing ? .writeFailed : .unavailable
        return StoreError(
            code,
            "the operations store \(location) could not be \(what): \(PostgresLocation.describe(error, hiding: password))"
        )
    }
}
