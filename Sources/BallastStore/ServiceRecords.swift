public import Foundation

/// What `ballast serve` keeps beside the runners' journals, in the same store: its operations as the API shows
/// them (cluster, kind, state, the idempotency key, the API's own encoding of the rest), each operation's bounded
/// event log, and every alert received (deduplicated on fingerprint + startsAt + status).
///
/// `SQLiteOperationsStore` implements it; a PostgreSQL store implements the same methods.
public protocol ServiceRecordsStore: OperationsStore {
    /// Inserts or replaces an operation (by id); a nil `key` keeps the key it was stored with.
    func putServiceOperation(_ operation: ServiceOperationRow) async throws(StoreError)

    /// The operations matching `query`, newest first.
    func serviceOperations(_ query: ServiceOperationQuery) async throws(StoreError) -> [ServiceOperationRow]

    /// Appends an event to an operation's log, dropping the oldest beyond `keep`.
    func appendEvent(_ operationId: String, _ event: ServiceEventRow, keep: Int) async throws(StoreError)

    /// An operation's events, oldest first.
    func events(_ operationId: String) async throws(StoreError) -> [ServiceEventRow]

    /// Stores alerts in one write; for each, whether it was new (false: the same fingerprint, startsAt and status
    /// were stored before, and nothing changed).
    func recordAlerts(_ alerts: [AlertRow]) async throws(StoreError) -> [Bool]

    /// Sets what was done about a stored alert.
    func setAlertOutcome(_ key: AlertKey, outcome: String, operationId: String?) async throws(StoreError)

    /// Stored alerts, newest first (`cluster` nil: all).
    func alerts(cluster: String?, limit: Int) async throws(StoreError) -> [AlertRow]
}

public struct ServiceOperationRow: Sendable, Hashable {
    public var id: String
    public var cluster: String
    public var kind: String
    public var state: String
    /// The idempotency key (a reconcile's desired-state hash); nil when there is none.
    public var key: String?
    public var createdAt: Date
    /// The rest of the operation as the service encodes it.
    public var body: Data

    public init(id: String, cluster: String, kind: String, state: String, key: String?, createdAt: Date, body: Data) {
        self.id = id
        self.cluster = cluster
        self.kind = kind
        self.state = state
        self.key = key
        self.createdAt = createdAt
        self.body = body
    }
}

/// Filters for `serviceOperations` (nil: any).
public struct ServiceOperationQuery: Sendable, Hashable {
    public var id: String?
    public var cluster: String?
    public var kind: String?
    public var states: [String]?
    public var key: String?
    public var limit: Int
    /// Oldest first instead of newest first (a cluster's queue).
    public var oldestFirst: Bool

    public init(
        id: String? = nil, cluster: String? = nil, kind: String? = nil, states: [String]? = nil, key: String? = nil,
        limit: Int = 100, oldestFirst: Bool = false
    ) {
        self.id = id
        self.cluster = cluster
        self.kind = kind
        self.states = states
        self.key = key
        self.limit = limit
        self.oldestFirst = oldestFirst
    }
}

public struct ServiceEventRow: Sendable, Hashable {
    public var at: Date
    public var level: String
    public var message: String
    public init(at: Date, level: String, message: String) {
        self.at = at
        self.level = level
        self.message = message
    }
}

/// What identifies an alert's state: Alertmanager's fingerprint, its startsAt as sent, and firing/resolved.
public struct AlertKey: Sendable, Hashable {
    public var fingerprint: String
    public var startsAt: String
    public var status: String
    public init(fingerprint: String, startsAt: String, status: String) {
        self.fingerprint = fingerprint
        self.startsAt = startsAt
        self.status = status
    }
}

public struct AlertRow: Sendable, Hashable {
    public var key: AlertKey
    public var cluster: String?
    public var receivedAt: Date
    /// The alert as received (JSON).
    public var body: Data
    public var outcome: String?
    public var operationId: String?

    public init(
        key: AlertKey, cluster: String?, receivedAt: Date, body: Data, outcome: String? = nil,
        operationId: String? = nil
    ) {
        self.key = key
        self.cluster = cluster
        self.receivedAt = receivedAt
        self.body = body
        self.outcome = outcome
        self.operationId = operationId
    }
}
