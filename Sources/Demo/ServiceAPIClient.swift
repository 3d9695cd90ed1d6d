import AsyncHTTPClient
import BallastStore
import Dashboard
import DashboardModel
import Foundation
import NIOCore
import NIOHTTP1

/// The demo's client of `ballast serve`'s API (openapi.yaml): only the fields the scenario reads, decoded leniently
/// (every other field is ignored), with the admin token.
struct ServiceAPIClient: Sendable {
    let base: String
    let token: String
    let client: HTTPClient

    init(base: String, token: String, client: HTTPClient = .shared) {
        self.base = base
        self.token = token
        self.client = client
    }

    // MARK: The answers, as far as the demo reads them

    struct ReconcileAnswer: Decodable, Sendable {
        struct Plan: Decodable, Sendable {
            var restartNodes: [Int32]
            var steps: [String]?
        }

        var noop: Bool
        var existing: Bool
        var plan: Plan
        var operationId: String?
    }

    struct Progress: Decodable, Sendable, Equatable {
        var done: Int
        var total: Int
        var unit: String?
        var message: String?
    }

    struct Trigger: Decodable, Sendable {
        var source: String
        var detail: String?
    }

    struct Event: Decodable, Sendable {
        var at: Date
        var level: String?
        var message: String
    }

    struct Operation: Decodable, Sendable {
        var id: String
        var kind: String
        var state: String
        var trigger: Trigger?
        var createdAt: Date
        var progress: Progress
        var error: String?
        var events: [Event]?

        var isFinished: Bool { ["succeeded", "failed", "cancelled"].contains(state) }
    }

    struct OperationList: Decodable, Sendable {
        var operations: [Operation]
    }

    struct Move: Codable, Sendable {
        var topic: String
        var partition: Int32
        var oldReplicas: [Int32]
        var newReplicas: [Int32]
        var dataToMoveMiB: Double
        var crossCluster: Bool
    }

    struct RebalanceAnswer: Decodable, Sendable {
        struct Proposal: Decodable, Sendable {
            var mode: String
            var moves: [Move]
        }

        var dryRun: Bool
        var hash: String
        var proposal: Proposal
        var operationId: String?
    }

    struct AlertsReceipt: Decodable, Sendable {
        struct Action: Decodable, Sendable {
            var cluster: String
            var action: String
            var outcome: String
            var operationId: String?
            var reason: String?
        }

        var received: Int
        var stored: Int
        var actions: [Action]
    }

    struct ErrorBody: Decodable {
        var error: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        /// The HTTP status the service answered, when it answered.
        var status: UInt = 0
        var message: String = ""
    }

    // MARK: Calls

    func reconcile(cluster: String, configs: [String: String]) async throws -> ReconcileAnswer {
        try await call(
            .POST, "/v1/clusters/\(cluster)/reconcile",
            body: ["configs": ["cluster": configs]] as [String: [String: [String: String]]])
    }

    /// A desired broker set per pool.
    func reconcile(cluster: String, pools: [String: [Int]]) async throws -> ReconcileAnswer {
        try await call(.POST, "/v1/clusters/\(cluster)/reconcile", body: ["pools": pools])
    }

    func rebalance(cluster: String, dryRun: Bool, proposalHash: String? = nil) async throws -> RebalanceAnswer {
        struct Body: Encodable {
            var dryRun: Bool
            var proposalHash: String?
        }
        return try await call(
            .POST, "/v1/clusters/\(cluster)/rebalance", body: Body(dryRun: dryRun, proposalHash: proposalHash))
    }

    /// Posts an Alertmanager webhook (payload version 4) with one firing alert carrying `labels`.
    func alert(name: String, labels: [String: String], fingerprint: String, startsAt: Date) async throws
        -> AlertsReceipt
    {
        struct Alert: Encodable {
            var status = "firing"
            var labels: [String: String]
            var annotations: [String: String]
            var startsAt: Date
            var fingerprint: String
        }
        struct Webhook: Encodable {
            var version = "4"
            var groupKey: String
            var status = "firing"
            var receiver = "ballast"
            var groupLabels: [String: String]
            var commonLabels: [String: String]
            var commonAnnotations: [String: String] = [:]
            var externalURL = "http://alertmanager.demo"
            var alerts: [Alert]
        }
        var all = labels
        all["alertname"] = name
        let webhook = Webhook(
            groupKey: "{}:{alertname=\"\(name)\"}", groupLabels: ["alertname": name], commonLabels: all,
            alerts: [
                Alert(
                    labels: all, annotations: ["summary": "ballast demo: \(name)"], startsAt: startsAt,
                    fingerprint: fingerprint)
            ])
        return try await call(.POST, "/v1/alerts", body: webhook)
    }

    func operation(_ id: String) async throws -> Operation { try await call(.GET, "/v1/operations/\(id)") }

    func operations(cluster: String) async throws -> [Operation] {
        let list: OperationList = try await call(.GET, "/v1/operations?cluster=\(cluster)&limit=20")
        return list.operations
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            let plain = ISO8601DateFormatter()
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard let date = fractional.date(from: text) ?? plain.date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
            }
            return date
        }
        return d
    }()

    func call<T: Decodable>(_ method: HTTPMethod, _ path: String) async throws -> T {
        try await send(method, path, body: nil)
    }

    func call<T: Decodable>(_ method: HTTPMethod, _ path: String, body: some Encodable) async throws -> T {
        try await send(method, path, body: try Self.encoder.encode(body))
    }

    func send<T: Decodable>(_ method: HTTPMethod, _ path: String, body: Data?) async throws -> T {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let data = Data(bytes.readableBytesView)
        guard (200..<300).contains(Int(response.status.code)) else {
            let message = (try? JSONDecoder().decode(ErrorBody.self, from: data).error) ?? response.status.reasonPhrase
            throw Failure(
                description: "ballast serve answered \(response.status.code) to \(method) \(path): \(message)",
                status: response.status.code, message: message)
        }
        do {
            return try Self.decoder.decode(T.self, from: data)
        } catch {
            throw Failure(description: "ballast serve's answer to \(method) \(path) could not be read: \(error)")
        }
    }
}

extension ServiceAPIClient.Operation {
    /// The operation as the dashboard shows it: its progress, its message as the current wait, its event log as
    /// the timeline.
    var view: OperationView {
        OperationView(
            id: id, kind: kind, state: state,
            trigger: trigger.map { t in t.detail.map { "\(t.source): \($0)" } ?? t.source },
            startedAtMs: Int64(createdAt.timeIntervalSince1970 * 1000), done: progress.done, total: progress.total,
            holdReason: isFinished ? nil : progress.message,
            timeline: (events ?? []).map { e in
                TimelineEntry(
                    atMs: Int64(e.at.timeIntervalSince1970 * 1000), kind: Self.kind(of: e), group: Self.batch(of: e),
                    text: e.message)
            })
    }

    /// A roll's events as the timeline draws them (the service's event texts, docs/service.md): a batch started, a
    /// node restarted, a batch done; otherwise by level.
    static func kind(of e: ServiceAPIClient.Event) -> TimelineEntry.Kind {
        if e.level == "error" { return .failed }
        if e.level == "warning" || e.message.hasPrefix("waiting: ") { return .hold }
        if e.message.hasPrefix("batch "), e.message.contains(": restarting node(s) ") { return .batch }
        if e.message.hasPrefix("node "), e.message.hasSuffix(" restarted") { return .restart }
        if e.message.hasPrefix("batch "), e.message.contains(" done: ") { return .done }
        return .info
    }

    static func batch(of e: ServiceAPIClient.Event) -> Int? {
        guard e.message.hasPrefix("batch ") else { return nil }
        return Int(e.message.dropFirst(6).prefix { $0.isNumber })
    }
}

extension DemoOperations {
    /// The dashboard's feeds when `ballast serve` runs the operations: the service's operations (the newest ten,
    /// each with its event log), this demo's proposal and the applications' stats.
    func feeds(service url: ServiceURL, token: String, store: any OperationsStore, stats: ApplicationStats)
        -> LiveDashboardFeeds
    {
        LiveDashboardFeeds(
            operations: { [self] cluster in
                // What the demo recorded itself comes first (every step now runs through the service).
                let s = state.withLock { $0 }
                var out = await LiveDashboardSource.operations(
                    store: store, ids: s.ids, events: s.events, totals: s.totals, triggers: s.triggers)
                guard let service = url.client(token: token),
                    let list = try? await service.operations(cluster: cluster)
                else { return out }
                for summary in list.prefix(10) {
                    out.append(((try? await service.operation(summary.id)) ?? summary).view)
                }
                return out
            },
            applications: { _ in stats.view },
            proposal: { [self] _ in state.withLock { $0.proposal } },
            draining: { [self] _ in state.withLock { $0.draining } })
    }
}
