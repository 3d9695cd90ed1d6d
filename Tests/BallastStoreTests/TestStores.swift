import BallastTestSupport
import Foundation
import Synchronization
import Testing

@testable import BallastStore

/// The stores every behavioural test runs against: SQLite always, PostgreSQL when it is installed (a real server,
/// `TestPostgres`; `PostgresAvailabilityTests` says when it is skipped).
enum StoreKind: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static var available: [StoreKind] { TestPostgres.isAvailable ? [.sqlite, .postgres] : [.sqlite] }

    var testDescription: String { rawValue }
}

/// A store for one test: a SQLite file in a temp directory, or a fresh PostgreSQL database. `open()` gives a new
/// handle on the same store each time (a second engine, or the same one after a restart); every handle is closed and
/// the store removed when the test ends.
final class TestStore: Sendable {
    let kind: StoreKind
    /// What `OperationsStores.open(url:)` is given.
    let url: String
    let directory: String?
    let postgres: TestPostgres?
    private let opened = Mutex<[any ServiceRecordsStore]>([])

    init(kind: StoreKind, url: String, directory: String?, postgres: TestPostgres?) {
        self.kind = kind
        self.url = url
        self.directory = directory
        self.postgres = postgres
    }

    func open() async throws -> any ServiceRecordsStore {
        let store = try await OperationsStores.open(url: url)
        opened.withLock { $0.append(store) }
        return store
    }

    func closeAll() async {
        for store in opened.withLock({ $0 }) { await store.close() }
    }
}

func withTestStore(_ kind: StoreKind = .sqlite, _ body: (TestStore) async throws -> Void) async throws {
    let store: TestStore
    switch kind {
    case .sqlite:
        let directory = NSTemporaryDirectory() + "ballast-store-\(UUID().uuidString)"
        store = TestStore(
            kind: kind, url: "sqlite://\(directory)/\(SQLiteOperationsStore.fileName)", directory: directory,
            postgres: nil)
    case .postgres:
        let server = try await TestPostgres.shared()
        let database = try await server.createDatabase()
        store = TestStore(kind: kind, url: server.url(database: database), directory: nil, postgres: server)
    }
    do {
        try await body(store)
    } catch {
        await store.closeAll()
        if let directory = store.directory { try? FileManager.default.removeItem(atPath: directory) }
        throw error
    }
    await store.closeAll()
    if let directory = store.directory { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite struct PostgresAvailabilityTests {
    @Test(.enabled(if: TestPostgres.isAvailable, Comment(rawValue: TestPostgres.skipReason)))
    func theStoreTestsRunAgainstARealPostgreSQL() async throws {
        let server = try await TestPostgres.shared()
        #expect(server.port > 0)
        #expect(StoreKind.available.contains(.postgres))
    }
}
