import Foundation

@testable import BallastStore

/// A store for one test: `open()` gives a new handle on the same store each time (a second engine, or the same one
/// after a restart); the store is removed when the test ends.
struct TestStore: Sendable {
    let directory: String

    func open() throws -> any OperationsStore { try SQLiteOperationsStore(directory: directory) }
}

func withTestStore(_ body: (TestStore) async throws -> Void) async throws {
    let directory = NSTemporaryDirectory() + "ballast-store-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try await body(TestStore(directory: directory))
}
