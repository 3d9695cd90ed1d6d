import Foundation
import Testing

@testable import BallastStore

/// Two engines on one store (two handles: two pools of connections on PostgreSQL, two SQLite connections on one file)
/// racing from many tasks at once, as two `ballast serve` processes would.
@Suite struct TwoEnginesTests {
    static let tasksPerEngine = 8

    @Test(arguments: StoreKind.available)
    func exactlyOneOperationWinsAClusterLockRacedByTwoEngines(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let engines = [try await store.open(), try await store.open()]
            for round in 0..<10 {
                let cluster = "cluster-\(round)"
                let results = try await withThrowingTaskGroup(of: (String, String?).self) { group in
                    for (e, engine) in engines.enumerated() {
                        for t in 0..<Self.tasksPerEngine {
                            let op = "op-\(e)-\(t)"
                            group.addTask {
                                (op, try await engine.acquireClusterLock(cluster: cluster, operationId: op, at: Date()))
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let winners = results.filter { $0.1 == nil }.map(\.0)
                #expect(winners.count == 1, "round \(round): \(results)")
                // Every loser was told the winner.
                #expect(Set(results.compactMap(\.1)) == Set(winners), "round \(round): \(results)")
                #expect(try await engines[1].clusterLockHolder(cluster: cluster) == winners.first)
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func exactlyOneHolderTakesAFreeLeaseRacedByTwoEngines(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let engines = [try await store.open(), try await store.open()]
            let now = Date(timeIntervalSince1970: 5_000)
            for round in 0..<10 {
                let name = "leader-\(round)"
                let leases = try await race(engines) { engine, holder in
                    try await engine.acquireLease(name, holder: holder, ttl: .seconds(15), now: now)
                }
                // All saw the same lease: one holder, the first epoch.
                let first = try #require(leases.first)
                #expect(leases.allSatisfy { $0 == first }, "round \(round): \(leases)")
                #expect(first.epoch == 1 && first.expiresAt == now.addingTimeInterval(15))
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func anEngineWhoseLeaseExpiredLosesItToExactlyOneOfTheOther(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let a = try await store.open()
            let b = try await store.open()
            let t0 = Date(timeIntervalSince1970: 5_000)
            let held = try await a.acquireLease("leader", holder: "a", ttl: .seconds(15), now: t0)
            #expect(held.holder == "a")
            // Engine a stops renewing (killed). Until the expiry, b's tasks are all refused.
            let early = try await race([b]) { engine, holder in
                try await engine.acquireLease(
                    "leader", holder: holder, ttl: .seconds(15), now: t0.addingTimeInterval(14))
            }
            #expect(early.allSatisfy { $0 == held })
            // At the expiry, exactly one of them takes it over, with the next epoch.
            let after = try await race([b]) { engine, holder in
                try await engine.acquireLease(
                    "leader", holder: holder, ttl: .seconds(15), now: t0.addingTimeInterval(15))
            }
            let taken = try #require(after.first)
            #expect(after.allSatisfy { $0 == taken }, "\(after)")
            #expect(taken.holder.hasPrefix("engine-0-") && taken.epoch == 2)
            // Engine a, back, cannot renew what it lost.
            let lost = try await a.acquireLease(
                "leader", holder: "a", ttl: .seconds(15), now: t0.addingTimeInterval(16))
            #expect(lost == taken)
        }
    }

    /// Runs `body` from `tasksPerEngine` tasks per engine at once, each as holder `engine-E-T`.
    func race<T: Sendable>(
        _ engines: [any OperationsStore],
        _ body: @escaping @Sendable (any OperationsStore, String) async throws -> T
    ) async throws -> [T] {
        try await withThrowingTaskGroup(of: T.self) { group in
            for (e, engine) in engines.enumerated() {
                for t in 0..<Self.tasksPerEngine {
                    group.addTask { try await body(engine, "engine-\(e)-\(t)") }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// Two engines journal 1,000 steps between them, 8 writers each: none is lost or reordered. Prints the rate (a
    /// figure for docs/store.md, not a bound: the machine's load decides it).
    @Test(arguments: StoreKind.available)
    func twoEnginesJournalConcurrentlyWithoutLosingOrReorderingAStep(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let engines = [try await store.open(), try await store.open()]
            let writers = 8
            let stepsPerWriter = 1_000 / (2 * writers)
            for (e, engine) in engines.enumerated() {
                for w in 0..<writers { try await engine.begin(operationId: "op-\(e)-\(w)", spec: Data()) }
            }
            let clock = ContinuousClock()
            let start = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (e, engine) in engines.enumerated() {
                    for w in 0..<writers {
                        group.addTask {
                            for i in 0..<stepsPerWriter {
                                try await engine.record(
                                    "op-\(e)-\(w)", batch: i, node: Int32(w), .batchDone, detail: "")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = start.duration(to: clock.now)
            for e in 0..<2 {
                for w in 0..<writers {
                    let steps = try await engines[1 - e].steps("op-\(e)-\(w)")
                    #expect(steps.map(\.batch) == Array(0..<stepsPerWriter))
                }
            }
            let total = 2 * writers * stepsPerWriter
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("\(kind): two engines wrote \(total) steps in \(elapsed): \(Int(Double(total) / seconds)) steps/s")
        }
    }
}
