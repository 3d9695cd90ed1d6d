import Foundation
import KafkaModel
import Testing

@testable import BallastStore

@Suite struct OperationsStoreTests {
    @Test(arguments: StoreKind.available) func resumeStateSeparatesFinishedBatchesFromTheInFlightOne(_ kind: StoreKind)
        async throws
    {
        try await withTestStore(kind) { store in
            let j = try await store.open()
            try await j.begin(operationId: "roll-1", spec: Data("{}".utf8))
            try await j.record("roll-1", batch: 1, node: nil, .batchStarted, detail: "1,4,7")
            for n: Int32 in [1, 4, 7] {
                try await j.record("roll-1", batch: 1, node: n, .restartRequested)
                try await j.record("roll-1", batch: 1, node: n, .restartAccepted, detail: "op-\(n)")
            }
            try await j.record("roll-1", batch: 1, .batchDone)
            try await j.record("roll-1", batch: 2, node: nil, .batchStarted, detail: "2,5,8")
            try await j.record("roll-1", batch: 2, node: 2, .restartRequested)
            try await j.record("roll-1", batch: 2, node: 2, .restartAccepted, detail: "op-2")
            // Crash between the record and the request: the node counts as possibly requested.
            try await j.record("roll-1", batch: 2, node: 5, .restartRequested)

            // A fresh handle on the same file, as after a crash.
            let state = try await store.open().resumeState("roll-1")
            #expect(state.completed == [1, 4, 7])
            #expect(state.inFlight == [2, 5])
            #expect(state.batchesDone == 1)
            #expect(state.status == .running)
            #expect(try await j.latestUnfinished() == "roll-1")
        }
    }

    @Test(arguments: StoreKind.available) func aFinishedRollIsNotOfferedForResume(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let j = try await store.open()
            try await j.begin(operationId: "a", spec: Data())
            try await j.record("a", batch: 0, .finished)
            #expect(try await j.latestUnfinished() == nil)
            #expect(try await j.resumeState("a").status == .finished)
            await #expect { try await j.resumeState("missing") } throws: { ($0 as? StoreError)?.code == .notFound }
        }
    }

    @Test(arguments: StoreKind.available) func anUnfinishedRebalanceIsNotOfferedToRollResume(_ kind: StoreKind)
        async throws
    {
        try await withTestStore(kind) { store in
            let j = try await store.open()
            try await j.begin(operationId: "roll", spec: Data())
            try await j.begin(operationId: "rebalance", kind: .rebalance, spec: Data())
            #expect(try await j.latestUnfinished(kind: .roll) == "roll")
            #expect(try await j.latestUnfinished(kind: .rebalance) == "rebalance")
        }
    }

    @Test(arguments: StoreKind.available) func aClusterIsLockedByOneOperationUntilItEnds(_ kind: StoreKind) async throws
    {
        try await withTestStore(kind) { store in
            let j = try await store.open()
            try await j.begin(operationId: "roll-1", spec: Data())
            #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "roll-1", at: Date()) == nil)
            // Held: another operation is told who holds it; the holder gets it again (a resumed roll).
            #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "rebalance-1", at: Date()) == "roll-1")
            #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "roll-1", at: Date()) == nil)
            #expect(try await j.acquireClusterLock(cluster: "staging", operationId: "rebalance-1", at: Date()) == nil)
            // Kept across a restart of the process (a crashed roll keeps its cluster until resumed).
            let reopened = try await store.open()
            #expect(
                try await reopened.acquireClusterLock(cluster: "prod", operationId: "rebalance-1", at: Date())
                    == "roll-1")
            // Released when the operation ends.
            try await j.record("roll-1", batch: 3, .finished)
            #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "rebalance-1", at: Date()) == nil)
            try await j.releaseClusterLock(cluster: "prod", operationId: "someone-else")
            #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "roll-2", at: Date()) == "rebalance-1")
            try await j.releaseClusterLock(cluster: "prod", operationId: "rebalance-1")
            #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "roll-2", at: Date()) == nil)
        }
    }

}

/// What a rebalance keeps in the store: each move's latest state, the values it must put back, its heartbeat and a
/// stop request, all of which survive a crash of the process that wrote them.
@Suite struct RebalanceRecordsTests {
    @Test(arguments: StoreKind.available) func anItemsLatestStateReplacesTheEarlierOne(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let s = try await store.open()
            try await s.begin(operationId: "r", kind: .rebalance, spec: Data("{}".utf8))
            try await s.recordItems(
                "r", [ItemState(index: 0, state: "requested"), ItemState(index: 2, state: "requested")])
            try await s.recordItems("r", [ItemState(index: 0, state: "in-flight")])
            try await s.recordItems("r", [ItemState(index: 2, state: "skipped", detail: "stale")])
            let items = try await store.open().items("r")
            #expect(
                items == [
                    ItemState(index: 0, state: "in-flight"), ItemState(index: 2, state: "skipped", detail: "stale"),
                ])
        }
    }

    @Test(arguments: StoreKind.available) func savedSettingsKeepAnUnsetValueAsNil(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let s = try await store.open()
            try await s.begin(operationId: "r", kind: .rebalance, spec: Data())
            try await s.saveSettings(
                "r",
                [
                    SavedSetting(scope: "broker", name: "3", key: "leader.replication.throttled.rate", value: nil),
                    SavedSetting(
                        scope: "topic", name: "t", key: "follower.replication.throttled.replicas", value: "0:9"),
                ])
            try await s.saveSettings(
                "r",
                [SavedSetting(scope: "topic", name: "t", key: "follower.replication.throttled.replicas", value: "0:8")]
            )
            let saved = try await store.open().savedSettings("r")
            #expect(
                saved == [
                    SavedSetting(scope: "broker", name: "3", key: "leader.replication.throttled.rate", value: nil),
                    SavedSetting(
                        scope: "topic", name: "t", key: "follower.replication.throttled.replicas", value: "0:8"),
                ])
        }
    }

    @Test(arguments: StoreKind.available) func heartbeatAndStopRequestAreOnTheOperationsRecord(_ kind: StoreKind)
        async throws
    {
        try await withTestStore(kind) { store in
            let s = try await store.open()
            try await s.begin(
                operationId: "r", kind: .rebalance, spec: Data("x".utf8), at: Date(timeIntervalSince1970: 100))
            var record = try #require(try await s.operation("r"))
            #expect(record.kind == .rebalance && record.status == .running && record.heartbeatAt == nil)
            #expect(record.stopRequestedAt == nil && record.spec == Data("x".utf8))
            try await s.heartbeat("r", at: Date(timeIntervalSince1970: 200), runner: "host-a:42")
            try await s.requestStop("r", at: Date(timeIntervalSince1970: 300))
            try await s.requestStop("r", at: Date(timeIntervalSince1970: 400))  // the first request stands
            record = try #require(try await store.open().operation("r"))
            #expect(record.heartbeatAt == Date(timeIntervalSince1970: 200) && record.runner == "host-a:42")
            #expect(record.stopRequestedAt == Date(timeIntervalSince1970: 300))
            #expect(try await s.operation("nope") == nil)
        }
    }

    @Test(arguments: StoreKind.available) func onlyARunningRebalanceIsOfferedForResume(_ kind: StoreKind) async throws {
        try await withTestStore(kind) { store in
            let s = try await store.open()
            try await s.begin(operationId: "a", kind: .rebalance, spec: Data(), at: Date(timeIntervalSince1970: 1))
            try await s.begin(operationId: "b", kind: .rebalance, spec: Data(), at: Date(timeIntervalSince1970: 2))
            try await s.begin(operationId: "c", kind: .roll, spec: Data(), at: Date(timeIntervalSince1970: 3))
            try await s.record("b", batch: 0, node: nil, .failed, detail: "stopped")
            #expect(try await s.latestRunning(kind: .rebalance) == "a")
            #expect(try await s.latestRunning(kind: .roll) == "c")
        }
    }

    @Test(arguments: StoreKind.available) func theLockHolderIsReadableAndGoesWhenItsOperationEnds(_ kind: StoreKind)
        async throws
    {
        try await withTestStore(kind) { store in
            let s = try await store.open()
            try await s.begin(operationId: "r", kind: .rebalance, spec: Data())
            #expect(try await s.acquireClusterLock(cluster: "k", operationId: "r", at: Date()) == nil)
            #expect(try await s.clusterLockHolder(cluster: "k") == "r")
            try await s.record("r", batch: 0, node: nil, .finished, detail: "")
            #expect(try await s.clusterLockHolder(cluster: "k") == nil)
        }
    }
}

/// What only the SQLite store has: a file.
@Suite struct SQLiteStoreTests {
    func tempDir() -> String { NSTemporaryDirectory() + "ballast-journal-\(UUID().uuidString)" }

    @Test func aFileThatIsNotAStoreIsRefusedNamingItAndLeftAsItIs() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + SQLiteOperationsStore.fileName
        let garbage = Data(repeating: 0x42, count: 4096)
        try garbage.write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try SQLiteOperationsStore(directory: dir)
        } throws: { error in
            let e = error as? StoreError
            return e?.code == .corrupt && e?.message.contains(path) == true
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }
}
