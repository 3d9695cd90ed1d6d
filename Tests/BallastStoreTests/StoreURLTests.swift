import BallastTestSupport
import Foundation
import Testing

@testable import BallastStore

/// `OperationsStores.open(url:)`: `ballast serve`'s `store:` setting.
@Suite struct StoreURLTests {
    @Test(arguments: [
        ("mysql://u@h/db", "expected sqlite:///PATH or postgres://"),
        ("sqlite://", "names no file"),
        ("sqlite:///var/lib/ballast/", "names no file"),
        ("postgres://h:5432/ballast", "names no user"),
        ("postgres://u@h:5432/", "names no database"),
        ("postgres://u@:5432/ballast", "names no host"),
        ("postgres://u@h/ballast?sslmode=sometimes", "sslmode 'sometimes'"),
        ("postgres://u@h/ballast?timeout=3", "unknown or empty parameter 'timeout'"),
        ("postgres://u@h/ballast?poolSize=0", "poolSize '0'"),
        ("postgres://u@h/ballast?passwordFile=/nonexistent/pw", "passwordFile /nonexistent/pw cannot be read"),
        ("postgres://u@h/ballast?host=relative/dir", "absolute socket directory"),
    ])
    func aMalformedURLIsRefusedNamingItAndWhatIsWrong(_ url: String, _ why: String) async throws {
        let error = await #expect(throws: StoreError.self) { try await OperationsStores.open(url: url) }
        #expect(error?.code == .invalidLocation)
        #expect(error?.category == .badInput)
        #expect(error?.message.contains(why) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(url) == true, "\(error?.message ?? "")")
    }

    @Test func aPasswordInAMalformedURLIsNeverInTheMessage() async throws {
        let error = await #expect(throws: StoreError.self) {
            try await OperationsStores.open(url: "postgres://ballast:hunter2-secret@db/ballast?sslmode=maybe")
        }
        #expect(error?.message.contains("hunter2-secret") == false)
        #expect(error?.message.contains("postgres://ballast:***@db/ballast") == true, "\(error?.message ?? "")")
    }

    @Test func aSQLiteURLOpensThatFileCreatingItsDirectory() async throws {
        let directory = NSTemporaryDirectory() + "ballast-url-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/state/ballast.db"
        let store = try await OperationsStores.open(url: "sqlite://" + path)
        #expect(store.location == path)
        try await store.begin(operationId: "a", spec: Data())
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try await SQLiteOperationsStore(file: path).operation("a")?.status == .running)
    }
}

/// What only the PostgreSQL store has: a server, a password, a schema version in a table.
@Suite(.enabled(if: TestPostgres.isAvailable, Comment(rawValue: TestPostgres.skipReason)))
struct PostgresStoreTests {
    @Test func theLocationNamesTheDatabaseWithoutThePassword() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.createDatabase()
        let store = try await OperationsStores.open(url: server.url(database: database))
        await store.close()
        #expect(store.location == "postgres://ballast@127.0.0.1:\(server.port)/\(database)")
        #expect(!store.location.contains(server.password))
    }

    @Test func aWrongPasswordIsUnavailableAndTheMessageNeverHoldsIt() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.createDatabase()
        let wrong = "not-the-password-\(UUID().uuidString.prefix(6))"
        let error = await #expect(throws: StoreError.self) {
            try await OperationsStores.open(
                url: "postgres://ballast:\(wrong)@127.0.0.1:\(server.port)/\(database)?sslmode=disable")
        }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains(wrong) == false)
        #expect(error?.message.contains("password authentication failed") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("postgres://ballast@127.0.0.1:\(server.port)/\(database)") == true)
    }

    @Test func thePasswordComesFromAFileOrTheEnvironment() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.createDatabase()
        let file = NSTemporaryDirectory() + "ballast-pw-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data((server.password + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let base = "postgres://ballast@127.0.0.1:\(server.port)/\(database)?sslmode=disable"
        let fromFile = try await OperationsStores.open(url: base + "&passwordFile=\(file)", environment: [:])
        try await fromFile.begin(operationId: "a", spec: Data())
        await fromFile.close()
        let fromEnvironment = try await OperationsStores.open(url: base, environment: ["PGPASSWORD": server.password])
        #expect(try await fromEnvironment.operation("a") != nil)
        await fromEnvironment.close()
    }

    @Test func theUnixSocketIsReachedThroughHost() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.createDatabase()
        let store = try await OperationsStores.open(url: server.socketURL(database: database), environment: [:])
        try await store.begin(operationId: "a", spec: Data())
        #expect(try await store.operation("a")?.status == .running)
        await store.close()
    }

    @Test func aSchemaANewerBallastWroteIsRefusedNamingTheStore() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.createDatabase()
        let store = try await OperationsStores.open(url: server.url(database: database))
        await store.close()
        try await server.psql(database: database, "INSERT INTO ballast_schema_migrations VALUES (999, 0)")
        let error = await #expect(throws: StoreError.self) {
            try await OperationsStores.open(url: server.url(database: database))
        }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("newer Ballast") == true && error?.message.contains(database) == true)
    }

    @Test func enginesOpeningAFreshDatabaseAtOnceMigrateItOnce() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.createDatabase()
        let stores = try await withThrowingTaskGroup(of: (any OperationsStore).self) { group in
            for _ in 0..<4 { group.addTask { try await OperationsStores.open(url: server.url(database: database)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for store in stores { await store.close() }
        #expect(
            try await server.psql(database: database, "SELECT version FROM ballast_schema_migrations ORDER BY version")
                == PostgresOperationsStore.migrations.map { "\($0.version)\n" }.joined())
    }
}
