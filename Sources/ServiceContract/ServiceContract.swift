public import Foundation
public import KafkaModel
public import Planner

// The `ballast serve` HTTP API (openapi.yaml) as Codable types, shared by the server and its clients (the
// `ballast operations` and `ballast rebalance --server` commands). Dates are ISO 8601 (`ServiceJSON`).

/// Every error body: one sentence naming what is wrong.
public struct ServiceErrorBody: Sendable, Hashable, Codable {
    public var error: String
    public init(error: String) { self.error = error }
}

/// The JSON coders the API uses (ISO 8601 dates, sorted keys so that answers are stable).
public enum ServiceJSON {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(formatter.string(from: date))
        }
        e.outputFormatting = [.sortedKeys]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let s = try c.decode(String.self)
            guard let date = parseDate(s) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)' is not an RFC 3339 date")
            }
            return date
        }
        return d
    }

    nonisolated(unsafe) static let formatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
    nonisolated(unsafe) static let plain: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f
    }()

    /// RFC 3339's `date-time` (`2026-12-01T08:00:00.123456789Z`, any number of fractional digits, `Z` or `±HH:MM`,
    /// `T`/`Z` in either case, a leap second's `:60`), parsed by hand: the webhook checks two times per alert, and
    /// `ISO8601DateFormatter` was three quarters of the webhook's CPU in the engine (docs/service.md, the load test).
    public static func parseRFC3339(_ s: String) -> Date? {
        let b = Array(s.utf8)
        func number(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var v = 0
            for c in b[at..<at + count] {
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        func `is`(_ at: Int, _ chars: String) -> Bool { at < b.count && chars.utf8.contains(b[at]) }
        guard let year = number(0, 4), `is`(4, "-"), let month = number(5, 2), `is`(7, "-"), let day = number(8, 2),
            `is`(10, "Tt"), let hour = number(11, 2), `is`(13, ":"), let minute = number(14, 2), `is`(16, ":"),
            let second = number(17, 2), (1...12).contains(month), hour <= 23, minute <= 59, second <= 60
        else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day >= 1 && day <= monthDays[month - 1] else { return nil }
        var i = 19
        var fraction = 0.0
        if `is`(i, ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        var offset = 0
        if `is`(i, "Zz") {
            i += 1
        } else if `is`(i, "+-"), let h = number(i + 1, 2), `is`(i + 3, ":"), let m = number(i + 4, 2), h <= 23, m <= 59
        {
            offset = (h * 3600 + m * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// RFC 3339 with or without fractional seconds (Alertmanager sends nanoseconds: cut to milliseconds).
    public static func parseDate(_ s: String) -> Date? {
        if let d = parseRFC3339(s) { return d }
        if let d = formatter.date(from: s) ?? plain.date(from: s) { return d }
        // 2026-12-01T08:00:00.123456789Z → keep three fractional digits.
        guard let dot = s.firstIndex(of: "."), let end = s[dot...].firstIndex(where: { !$0.isNumber && $0 != "." })
        else { return nil }
        let digits = s[s.index(after: dot)..<end]
        let cut =
            String(s[..<dot]) + "." + String(digits.prefix(3)).padding(toLength: 3, withPad: "0", startingAt: 0)
            + String(s[end...])
        return formatter.date(from: cut)
    }

    public static func string(_ date: Date) -> String { formatter.string(from: date) }
}

// MARK: Probes

public struct Health: Sendable, Hashable, Codable {
    public var status: String
    public init(status: String = "ok") { self.status = status }
}

public struct Readiness: Sendable, Hashable, Codable {
    public var ready: Bool
    public var engine: String
    public var leader: Bool
    public var leaderEngine: String?
    public var leaseEpoch: Int64?
    public var store: String?
    public var reason: String?

    public init(
        ready: Bool, engine: String, leader: Bool, leaderEngine: String? = nil, leaseEpoch: Int64? = nil,
        store: String? = nil, reason: String? = nil
    ) {
        self.ready = ready
        self.engine = engine
        self.leader = leader
        self.leaderEngine = leaderEngine
        self.leaseEpoch = leaseEpoch
        self.store = store
        self.reason = reason
    }
}

// MARK: Clusters

public struct PoolLimitsBody: Sendable, Hashable, Codable {
    public var name: String
    public var min: Int?
    public var max: Int?
    public init(name: String, min: Int?, max: Int?) {
        self.name = name
        self.min = min
        self.max = max
    }
}

public struct ClusterSummary: Sendable, Hashable, Codable {
    public var name: String
    public var bootstrap: String
    public var pools: [PoolLimitsBody]
    public init(name: String, bootstrap: String, pools: [PoolLimitsBody]) {
        self.name = name
        self.bootstrap = bootstrap
        self.pools = pools
    }
}

public struct ClusterList: Sendable, Hashable, Codable {
    public var clusters: [ClusterSummary]
    public init(clusters: [ClusterSummary]) { self.clusters = clusters }
}

/// The describe snapshot with its derived views (`ballast describe --json`, `GET /v1/clusters/{c}`'s `health`).
public struct ClusterHealth: Sendable, Hashable, Codable {
    public var clusterId: String?
    public var controllerId: Int32
    public var brokers: [BrokerInfo]
    public var topics: [TopicInfo]
    public var quorum: QuorumInfo?
    public var summary: Summary
    public var offlinePartitions: [PartitionInfo]
    public var underReplicatedPartitions: [PartitionInfo]
    public var underMinIsrPartitions: [PartitionInfo]
    public var atMinIsrPartitions: [PartitionInfo]

    public struct Summary: Sendable, Hashable, Codable {
        public var brokers: Int
        public var racks: Int
        public var topics: Int
        public var partitions: Int
        public var offline: Int
        public var underReplicated: Int
        public var underMinIsr: Int
        public var atMinIsr: Int
    }

    public init(_ s: ClusterSnapshot) {
        clusterId = s.clusterId
        controllerId = s.controllerId
        brokers = s.brokers
        topics = s.topics
        quorum = s.quorum
        offlinePartitions = s.offlinePartitions
        underReplicatedPartitions = s.underReplicatedPartitions
        underMinIsrPartitions = s.underMinIsrPartitions
        atMinIsrPartitions = s.atMinIsrPartitions
        summary = Summary(
            brokers: s.brokers.count, racks: Set(s.brokers.compactMap(\.rack)).count, topics: s.topics.count,
            partitions: s.allPartitions.count, offline: offlinePartitions.count,
            underReplicated: underReplicatedPartitions.count, underMinIsr: underMinIsrPartitions.count,
            atMinIsr: atMinIsrPartitions.count)
    }
}

public struct Pause: Sendable, Hashable, Codable {
    public var reason: String
    public var alert: String?
    public var fingerprint: String?
    public var since: Date
    public init(reason: String, alert: String?, fingerprint: String?, since: Date) {
        self.reason = reason
        self.alert = alert
        self.fingerprint = fingerprint
        self.since = since
    }
}

public struct ClusterStatus: Sendable, Hashable, Codable {
    public var name: String
    public var leader: Readiness
    public var health: ClusterHealth?
    public var healthError: String?
    public var rollsPaused: Bool
    public var pauses: [Pause]
    public var lockHolder: String?
    public var operations: [OperationSummary]

    public init(
        name: String, leader: Readiness, health: ClusterHealth?, healthError: String?, rollsPaused: Bool,
        pauses: [Pause], lockHolder: String?, operations: [OperationSummary]
    ) {
        self.name = name
        self.leader = leader
        self.health = health
        self.healthError = healthError
        self.rollsPaused = rollsPaused
        self.pauses = pauses
        self.lockHolder = lockHolder
        self.operations = operations
    }
}

// MARK: Operations

public enum ServiceOperationKind: String, Sendable, Hashable, Codable, CaseIterable {
    case roll, rebalance, reconcile, upscale, downscale, config
}

public enum ServiceOperationState: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, running, paused, succeeded, failed, cancelled

    /// Whether the operation has ended (nothing more happens to it).
    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

public struct Trigger: Sendable, Hashable, Codable {
    public enum Source: String, Sendable, Hashable, Codable { case api, alert, reconcile, cli }
    public var source: Source
    public var detail: String?
    public init(source: Source, detail: String? = nil) {
        self.source = source
        self.detail = detail
    }
}

public struct Progress: Sendable, Hashable, Codable {
    public var done: Int
    public var total: Int
    public var unit: String?
    public var message: String?
    public init(done: Int = 0, total: Int = 0, unit: String? = nil, message: String? = nil) {
        self.done = done
        self.total = total
        self.unit = unit
        self.message = message
    }
}

public struct OperationSummary: Sendable, Hashable, Codable {
    public var id: String
    public var cluster: String
    public var kind: ServiceOperationKind
    public var state: ServiceOperationState
    public var trigger: Trigger
    public var createdAt: Date
    public var updatedAt: Date
    public var progress: Progress
    public var error: String?

    public init(
        id: String, cluster: String, kind: ServiceOperationKind, state: ServiceOperationState, trigger: Trigger,
        createdAt: Date, updatedAt: Date, progress: Progress, error: String? = nil
    ) {
        self.id = id
        self.cluster = cluster
        self.kind = kind
        self.state = state
        self.trigger = trigger
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.progress = progress
        self.error = error
    }
}

public struct OperationEvent: Sendable, Hashable, Codable {
    public enum Level: String, Sendable, Hashable, Codable { case info, warning, error }
    public var at: Date
    public var level: Level
    public var message: String
    public init(at: Date, level: Level = .info, message: String) {
        self.at = at
        self.level = level
        self.message = message
    }
}

/// One operation with its events (`GET /v1/operations/{id}`): the summary's fields and `events`.
public struct OperationDetail: Sendable, Hashable, Codable {
    public var summary: OperationSummary
    public var events: [OperationEvent]

    public init(summary: OperationSummary, events: [OperationEvent]) {
        self.summary = summary
        self.events = events
    }

    enum Key: String, CodingKey { case events }

    public init(from decoder: any Decoder) throws {
        summary = try OperationSummary(from: decoder)
        events = try decoder.container(keyedBy: Key.self).decode([OperationEvent].self, forKey: .events)
    }

    public func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(events, forKey: .events)
    }
}

public struct OperationList: Sendable, Hashable, Codable {
    public var operations: [OperationSummary]
    public init(operations: [OperationSummary]) { self.operations = operations }
}

// MARK: Rebalance

public struct RebalanceRequest: Sendable, Hashable, Codable {
    public var dryRun: Bool?
    public var mode: String?
    public var brokers: [Int]?
    public var goals: [String]?
    public var proposalHash: String?
    public var throttleBytesPerSecond: Int64?

    public init(
        dryRun: Bool? = nil, mode: String? = nil, brokers: [Int]? = nil, goals: [String]? = nil,
        proposalHash: String? = nil, throttleBytesPerSecond: Int64? = nil
    ) {
        self.dryRun = dryRun
        self.mode = mode
        self.brokers = brokers
        self.goals = goals
        self.proposalHash = proposalHash
        self.throttleBytesPerSecond = throttleBytesPerSecond
    }
}

public struct RebalanceResponse: Sendable, Hashable, Codable {
    public var dryRun: Bool
    public var hash: String
    public var proposal: Proposal
    public var operationId: String?
    public var operation: OperationSummary?

    public init(
        dryRun: Bool, hash: String, proposal: Proposal, operationId: String? = nil, operation: OperationSummary? = nil
    ) {
        self.dryRun = dryRun
        self.hash = hash
        self.proposal = proposal
        self.operationId = operationId
        self.operation = operation
    }
}

// MARK: Alerts

/// Alertmanager's webhook payload, version 4.
public struct AlertmanagerWebhook: Sendable, Hashable, Codable {
    public var version: String
    public var groupKey: String?
    public var truncatedAlerts: Int?
    public var status: String
    public var receiver: String?
    public var groupLabels: [String: String]?
    public var commonLabels: [String: String]?
    public var commonAnnotations: [String: String]?
    public var externalURL: String?
    public var alerts: [AlertmanagerAlert]

    public init(
        version: String = "4", status: String, commonLabels: [String: String]? = nil,
        commonAnnotations: [String: String]? = nil, alerts: [AlertmanagerAlert]
    ) {
        self.version = version
        self.status = status
        self.commonLabels = commonLabels
        self.commonAnnotations = commonAnnotations
        self.alerts = alerts
    }
}

public struct AlertmanagerAlert: Sendable, Hashable, Codable {
    public var status: String
    public var labels: [String: String]
    public var annotations: [String: String]?
    /// RFC 3339 as Alertmanager sends it (kept as text: the dedupe key is exactly what was sent).
    public var startsAt: String
    public var endsAt: String?
    public var generatorURL: String?
    public var fingerprint: String

    public init(
        status: String, labels: [String: String], annotations: [String: String]? = nil, startsAt: String,
        endsAt: String? = nil, fingerprint: String
    ) {
        self.status = status
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.fingerprint = fingerprint
    }
}

public enum AlertActionKind: String, Sendable, Hashable, Codable, CaseIterable {
    case upscale, downscale
    case pauseRollouts = "pause-rollouts"
}

public struct AlertAction: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        case operationCreated = "operation-created"
        case batched, cooldown, paused, unpaused, duplicate, refused, ignored
    }
    public var cluster: String
    public var action: AlertActionKind
    public var pool: String?
    public var count: Int?
    public var outcome: Outcome
    public var operationId: String?
    public var reason: String?

    public init(
        cluster: String, action: AlertActionKind, pool: String? = nil, count: Int? = nil, outcome: Outcome,
        operationId: String? = nil, reason: String? = nil
    ) {
        self.cluster = cluster
        self.action = action
        self.pool = pool
        self.count = count
        self.outcome = outcome
        self.operationId = operationId
        self.reason = reason
    }
}

public struct AlertsReceipt: Sendable, Hashable, Codable {
    public var received: Int
    public var stored: Int
    public var duplicates: Int
    public var ignored: Int
    public var actions: [AlertAction]
    public init(received: Int, stored: Int, duplicates: Int, ignored: Int, actions: [AlertAction]) {
        self.received = received
        self.stored = stored
        self.duplicates = duplicates
        self.ignored = ignored
        self.actions = actions
    }
}

public struct StoredAlertBody: Sendable, Hashable, Codable {
    public var fingerprint: String
    public var startsAt: String
    public var endsAt: String?
    public var status: String
    public var labels: [String: String]
    public var annotations: [String: String]
    public var cluster: String?
    public var action: String?
    public var receivedAt: Date
    public var outcome: String?
    public var operationId: String?

    public init(
        fingerprint: String, startsAt: String, endsAt: String?, status: String, labels: [String: String],
        annotations: [String: String], cluster: String?, action: String?, receivedAt: Date, outcome: String?,
        operationId: String?
    ) {
        self.fingerprint = fingerprint
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.status = status
        self.labels = labels
        self.annotations = annotations
        self.cluster = cluster
        self.action = action
        self.receivedAt = receivedAt
        self.outcome = outcome
        self.operationId = operationId
    }
}

public struct AlertList: Sendable, Hashable, Codable {
    public var alerts: [StoredAlertBody]
    public init(alerts: [StoredAlertBody]) { self.alerts = alerts }
}

// MARK: Reconcile

public struct ReconcileRequest: Sendable, Hashable, Codable {
    public struct Configs: Sendable, Hashable, Codable {
        public var cluster: [String: String]?
        public var brokers: [String: [String: String]]?
        public init(cluster: [String: String]? = nil, brokers: [String: [String: String]]? = nil) {
            self.cluster = cluster
            self.brokers = brokers
        }
    }
    public struct Restart: Sendable, Hashable, Codable {
        public var generation: Int64?
        public var reason: String?
        public init(generation: Int64? = nil, reason: String? = nil) {
            self.generation = generation
            self.reason = reason
        }
    }
    public var configs: Configs?
    public var pools: [String: [Int]]?
    public var restart: Restart?
    public var kafkaVersion: String?

    public init(
        configs: Configs? = nil, pools: [String: [Int]]? = nil, restart: Restart? = nil, kafkaVersion: String? = nil
    ) {
        self.configs = configs
        self.pools = pools
        self.restart = restart
        self.kafkaVersion = kafkaVersion
    }
}

public struct ReconcilePlan: Sendable, Hashable, Codable {
    public struct ConfigChange: Sendable, Hashable, Codable {
        public var key: String
        public var scope: String
        public var action: String
        public var nodes: [Int]
        public var value: String?
        public init(key: String, scope: String, action: String, nodes: [Int], value: String?) {
            self.key = key
            self.scope = scope
            self.action = action
            self.nodes = nodes
            self.value = value
        }
    }
    /// A pool's broker-set change: `direction` `up` (the pool assigns the new ids; `add` are the desired ones) or
    /// `down` (`remove`: the pool's highest ids, drained first).
    public struct Scale: Sendable, Hashable, Codable {
        public var pool: String
        public var direction: String
        public var add: [Int]
        public var remove: [Int]
        public init(pool: String, direction: String, add: [Int], remove: [Int]) {
            self.pool = pool
            self.direction = direction
            self.add = add
            self.remove = remove
        }
    }
    public var configChanges: [ConfigChange]
    public var restartNodes: [Int]
    public var restartReason: String?
    /// The roll's batches as the safety gate would plan them now (the live roll plans again before every batch);
    /// nil when nothing rolls or the agents could not be asked.
    public var batches: [[Int]]?
    public var scale: [Scale]
    public var steps: [String]

    public init(
        configChanges: [ConfigChange], restartNodes: [Int], restartReason: String?, batches: [[Int]]? = nil,
        scale: [Scale], steps: [String]
    ) {
        self.configChanges = configChanges
        self.restartNodes = restartNodes
        self.restartReason = restartReason
        self.batches = batches
        self.scale = scale
        self.steps = steps
    }
}

public struct ReconcileResponse: Sendable, Hashable, Codable {
    public var noop: Bool
    public var existing: Bool
    public var desiredHash: String
    public var plan: ReconcilePlan
    /// The first operation (the config change or roll, else the first scale).
    public var operationId: String?
    public var operation: OperationSummary?
    /// Every operation the desired state made, in the order they run (a roll or config change, then one scale per
    /// pool).
    public var operations: [OperationSummary]?

    public init(
        noop: Bool, existing: Bool, desiredHash: String, plan: ReconcilePlan, operationId: String?,
        operation: OperationSummary?, operations: [OperationSummary]? = nil
    ) {
        self.noop = noop
        self.existing = existing
        self.desiredHash = desiredHash
        self.plan = plan
        self.operationId = operationId
        self.operation = operation
        self.operations = operations
    }
}
