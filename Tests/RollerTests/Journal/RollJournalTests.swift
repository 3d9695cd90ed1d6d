import Foundation
import Testing

@testable import Roller

@Suite struct RollJournalTests {
    func tempDir() -> String {
        NSTemporaryDirectory() + "ballast-journal-\(UUID().uuidString)"
    }

    @Test func resumeStateSeparatesFinishedBatchesFromTheInFlightOne() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try RollJournal(directory: dir)
        try j.begin(operationId: "roll-1", spec: Data("{}".utf8))
        try j.record("roll-1", batch: 1, .batchStarted, detail: "1,4,7")
        for n: Int32 in [1, 4, 7] {
            try j.record("roll-1", batch: 1, node: n, .restartRequested)
            try j.record("roll-1", batch: 1, node: n, .restartAccepted, detail: "op-\(n)")
        }
        try j.record("roll-1", batch: 1, .batchDone)
        try j.record("roll-1", batch: 2, .batchStarted, detail: "2,5,8")
        try j.record("roll-1", batch: 2, node: 2, .restartRequested)
        try j.record("roll-1", batch: 2, node: 2, .restartAccepted, detail: "op-2")
        // Crash between the record and the request: the node counts as possibly requested.
        try j.record("roll-1", batch: 2, node: 5, .restartRequested)

        // A fresh handle on the same file, as after a crash.
        let state = try RollJournal(directory: dir).resumeState("roll-1")
        #expect(state.completed == [1, 4, 7])
        #expect(state.inFlight == [2, 5])
        #expect(state.batchesDone == 1)
        #expect(state.status == "running")
        #expect(try j.latestUnfinished() == "roll-1")
    }

    @Test func aFinishedRollIsNotOfferedForResume() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try RollJournal(directory: dir)
        try j.begin(operationId: "a", spec: Data())
        try j.record("a", batch: 0, .finished)
        #expect(try j.latestUnfinished() == nil)
        #expect(try j.resumeState("a").status == "finished")
        #expect(throws: RollJournalError.self) { try j.resumeState("missing") }
    }
}
