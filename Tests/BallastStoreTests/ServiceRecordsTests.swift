import Foundation
import Testing

@testable import BallastStore

/// What `ballast serve` keeps: its operations, their bounded event logs, the alerts it received.
@Suite struct ServiceRecordsTests {
    func row(
        _ id: String, cluster: String = "prod", kind: String = "rebalance", state: String, key: String? = nil,
        at: Double
    )
        -> ServiceOperationRow
    {
        ServiceOperationRow(
            id: id, cluster: cluster, kind: kind, state: state, key: key, createdAt: Date(timeIntervalSince1970: at),
            body: Data(id.utf8))
    }

    @Test(arguments: StoreKind.available)
    func anOperationIsReplacedByIdAndFoundByItsFilters(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let s = try await store.open()
            try await s.putServiceOperation(row("a", state: "pending", at: 1))
            try await s.putServiceOperation(row("b", cluster: "staging", state: "running", at: 2))
            try await s.putServiceOperation(row("c", kind: "reconcile", state: "pending", key: "h1", at: 3))
            // A replacement keeps the cluster and creation time, takes the new state, key and body.
            var replaced = row("a", cluster: "other", state: "running", key: "k", at: 99)
            replaced.body = Data("new".utf8)
            try await s.putServiceOperation(replaced)
            let other = try await store.open()
            #expect(
                try await other.serviceOperations(ServiceOperationQuery(id: "a"))
                    == [
                        ServiceOperationRow(
                            id: "a", cluster: "prod", kind: "rebalance", state: "running", key: "k",
                            createdAt: Date(timeIntervalSince1970: 1), body: Data("new".utf8))
                    ])
            // A replacement without a key keeps the stored one.
            try await s.putServiceOperation(row("c", kind: "reconcile", state: "running", at: 3))
            #expect(try await other.serviceOperations(ServiceOperationQuery(id: "c")).first?.key == "h1")
            #expect(try await other.serviceOperations(ServiceOperationQuery()).map(\.id) == ["c", "b", "a"])
            #expect(
                try await other.serviceOperations(ServiceOperationQuery(limit: 2, oldestFirst: true)).map(\.id)
                    == ["a", "b"])
            #expect(try await other.serviceOperations(ServiceOperationQuery(cluster: "prod")).map(\.id) == ["c", "a"])
            #expect(try await other.serviceOperations(ServiceOperationQuery(kind: "reconcile")).map(\.id) == ["c"])
            #expect(try await other.serviceOperations(ServiceOperationQuery(key: "h1")).map(\.id) == ["c"])
            #expect(
                try await other.serviceOperations(
                    ServiceOperationQuery(cluster: "prod", states: ["running", "paused"])
                )
                .map(\.id) == ["c", "a"])
            #expect(try await other.serviceOperations(ServiceOperationQuery(states: [])).isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func theEventLogKeepsTheNewestEventsOldestFirst(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let s = try await store.open()
            for i in 0..<7 {
                try await s.appendEvent(
                    "op", ServiceEventRow(at: Date(timeIntervalSince1970: Double(i)), level: "info", message: "e\(i)"),
                    keep: 3)
            }
            try await s.appendEvent(
                "other", ServiceEventRow(at: Date(timeIntervalSince1970: 0), level: "warning", message: "x"), keep: 3)
            #expect(try await store.open().events("op").map(\.message) == ["e4", "e5", "e6"])
            #expect(
                try await s.events("other")
                    == [ServiceEventRow(at: Date(timeIntervalSince1970: 0), level: "warning", message: "x")])
        }
    }

    @Test(arguments: StoreKind.available)
    func anAlertIsNewOnceAndKeepsItsOutcome(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let s = try await store.open()
            let firing = AlertKey(fingerprint: "f1", startsAt: "2026-12-01T00:00:00Z", status: "firing")
            let resolved = AlertKey(fingerprint: "f1", startsAt: "2026-12-01T00:00:00Z", status: "resolved")
            let other = AlertKey(fingerprint: "f2", startsAt: "2026-12-01T00:00:00Z", status: "firing")
            func alert(_ key: AlertKey, _ cluster: String?, _ at: Double) -> AlertRow {
                AlertRow(key: key, cluster: cluster, receivedAt: Date(timeIntervalSince1970: at), body: Data("{}".utf8))
            }
            // A duplicate within one post and a resend are not new; the resolution is.
            #expect(
                try await s.recordAlerts([alert(firing, "prod", 1), alert(firing, "prod", 1), alert(other, nil, 1)])
                    == [true, false, true])
            #expect(try await s.recordAlerts([alert(firing, "prod", 2), alert(resolved, "prod", 2)]) == [false, true])
            try await s.setAlertOutcome(firing, outcome: "acted", operationId: "op-1")
            let stored = try await store.open().alerts(cluster: "prod", limit: 10)
            #expect(stored.map(\.key) == [resolved, firing])
            #expect(stored.last?.outcome == "acted" && stored.last?.operationId == "op-1")
            #expect(stored.last?.receivedAt == Date(timeIntervalSince1970: 1))
            #expect(try await s.alerts(cluster: nil, limit: 2).map(\.key) == [resolved, other])
        }
    }

    @Test(arguments: StoreKind.available)
    func anAlertPostedToTwoEnginesAtOnceIsNewForExactlyOne(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let engines = [try await store.open(), try await store.open()]
            for round in 0..<5 {
                let key = AlertKey(fingerprint: "f\(round)", startsAt: "t", status: "firing")
                let alert = AlertRow(key: key, cluster: "prod", receivedAt: Date(), body: Data())
                let fresh = try await withThrowingTaskGroup(of: [Bool].self) { group in
                    for engine in engines {
                        for _ in 0..<4 { group.addTask { try await engine.recordAlerts([alert]) } }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                #expect(fresh.filter { $0 }.count == 1, "round \(round): \(fresh)")
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func manyWebhooksAtOnceEachGetTheirOwnAnswerAndAllAreStored(_ kind: StoreKind) async throws {
        // SQLite commits concurrent webhooks together (group commit): each caller must still get exactly its own
        // alerts' answers, in order, and every alert must be stored.
        try await withTestStore(kind) { store in
            let s = try await store.open()
            let shared = AlertRow(
                key: AlertKey(fingerprint: "shared", startsAt: "t", status: "firing"), cluster: "prod",
                receivedAt: Date(), body: Data())
            let answers = try await withThrowingTaskGroup(of: (Int, [Bool]).self) { group in
                for i in 0..<300 {
                    let own = AlertRow(
                        key: AlertKey(fingerprint: "own-\(i)", startsAt: "t", status: "firing"), cluster: "prod",
                        receivedAt: Date(), body: Data("\(i)".utf8))
                    group.addTask { (i, try await s.recordAlerts([own, shared, own])) }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(answers.count == 300)
            #expect(answers.values.allSatisfy { $0[0] && !$0[2] }, "each caller's own alert is new once")
            #expect(answers.values.filter { $0[1] }.count == 1, "the shared alert is new for exactly one caller")
            let stored = try await store.open().alerts(cluster: "prod", limit: 1000)
            #expect(stored.count == 301)
            #expect(Set(stored.map(\.body)) == Set((0..<300).map { Data("\($0)".utf8) } + [Data()]))
        }
    }
}
