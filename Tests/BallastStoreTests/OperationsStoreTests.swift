import Foundation
import Testing

@testable import BallastStore

@Suite struct OperationsStoreTests {
    func tempDir() -> String {
        NSTemporaryDirectory() + "ballast-journal-\(UUID().uuidString)"
    }

    @Test func resumeStateSeparatesFinishedBatchesFromTheInFlightOne() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try SQLiteOperationsStore(directory: dir)
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
        let state = try await SQLiteOperationsStore(directory: dir).resumeState("roll-1")
        #expect(state.completed == [1, 4, 7])
        #expect(state.inFlight == [2, 5])
        #expect(state.batchesDone == 1)
        #expect(state.status == .running)
        #expect(try await j.latestUnfinished() == "roll-1")
    }

    @Test func aFinishedRollIsNotOfferedForResume() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try SQLiteOperationsStore(directory: dir)
        try await j.begin(operationId: "a", spec: Data())
        try await j.record("a", batch: 0, .finished)
        #expect(try await j.latestUnfinished() == nil)
        #expect(try await j.resumeState("a").status == .finished)
        await #expect { try await j.resumeState("missing") } throws: { ($0 as? StoreError)?.code == .notFound }
    }

    @Test func anUnfinishedRebalanceIsNotOfferedToRollResume() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try SQLiteOperationsStore(directory: dir)
        try await j.begin(operationId: "roll", spec: Data())
        try await j.begin(operationId: "rebalance", kind: .rebalance, spec: Data())
        #expect(try await j.latestUnfinished(kind: .roll) == "roll")
        #expect(try await j.latestUnfinished(kind: .rebalance) == "rebalance")
    }

    @Test func aClusterIsLockedByOneOperationUntilItEnds() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try SQLiteOperationsStore(directory: dir)
        try await j.begin(operationId: "roll-1", spec: Data())
        #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "roll-1", at: Date()) == nil)
        // Held: another operation is told who holds it; the holder gets it again (a resumed roll).
        #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "rebalance-1", at: Date()) == "roll-1")
        #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "roll-1", at: Date()) == nil)
        #expect(try await j.acquireClusterLock(cluster: "staging", operationId: "rebalance-1", at: Date()) == nil)
        // Kept across a restart of the process (a crashed roll keeps its cluster until resumed).
        let reopened = try SQLiteOperationsStore(directory: dir)
        #expect(
            try await reopened.acquireClusterLock(cluster: "prod", operationId: "rebalance-1", at: Date()) == "roll-1")
        // Released when the operation ends.
        try await j.record("roll-1", batch: 3, .finished)
        #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "rebalance-1", at: Date()) == nil)
        try await j.releaseClusterLock(cluster: "prod", operationId: "someone-else")
        #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "roll-2", at: Date()) == "rebalance-1")
        try await j.releaseClusterLock(cluster: "prod", operationId: "rebalance-1")
        #expect(try await j.acquireClusterLock(cluster: "prod", operationId: "roll-2", at: Date()) == nil)
    }

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
