import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server for the tests, one per test process: Debian's `postgresql` binaries
/// (`/usr/lib/postgresql/N/bin`, installed by `Scripts/test.sh`), `initdb` into a temp directory, `pg_ctl start` on a
/// free loopback port with its Unix socket in that directory. PostgreSQL refuses to run as root, so as root the
/// server runs as `nobody` (the directory is handed to it). Each test takes a database of its own
/// (`createDatabase()`). A watchdog stops the server and removes the directory when the test process ends, however it
/// ends.
///
/// Authentication: the superuser `ballast` with `password` over TCP (SCRAM), trusted on the Unix socket.
public final class TestPostgres: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let directory: String
    public let port: Int
    public let user = "ballast"
    public let password: String
    let bin: String

    /// The newest installed PostgreSQL's binaries, if any.
    public static let binDirectory: String? = {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return
            versions
            .compactMap { v in Int(v).map { ($0, "\(root)/\(v)/bin") } }
            .filter { FileManager.default.isExecutableFile(atPath: $0.1 + "/initdb") }
            .max { $0.0 < $1.0 }?.1
    }()

    public static var isAvailable: Bool { binDirectory != nil }

    /// Why the PostgreSQL tests are skipped, when they are.
    public static let skipReason =
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; Scripts/test.sh installs Debian's postgresql)"

    private static let server = Task { try await TestPostgres.start() }

    /// The process's server, started on first use.
    public static func shared() async throws -> TestPostgres { try await server.value }

    init(directory: String, port: Int, password: String, bin: String) {
        self.directory = directory
        self.port = port
        self.password = password
        self.bin = bin
    }

    /// A URL for `database` over TCP with the password in it (`sslmode=disable`: the server has no certificate).
    public func url(database: String) -> String {
        "postgres://\(user):\(password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// A URL for `database` through the Unix socket (trusted: no password).
    public func socketURL(database: String) -> String {
        "postgres://\(user)@localhost:\(port)/\(database)?host=\(directory)"
    }

    private let databases = Atomic<Int>(0)

    /// Creates an empty database and returns its name.
    public func createDatabase() async throws -> String {
        let name = "test_\(databases.add(1, ordering: .relaxed).newValue)"
        try await Self.run(bin + "/createdb", ["-h", directory, "-p", String(port), "-U", user, name], asServer: false)
        return name
    }

    /// Runs SQL in `database` with `psql` (through the socket), returning its unaligned output.
    @discardableResult
    public func psql(database: String, _ sql: String) async throws -> String {
        try await Self.run(
            bin + "/psql",
            [
                "-h", directory, "-p", String(port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c",
                sql,
            ],
            asServer: false)
    }

    static func start() async throws -> TestPostgres {
        guard let bin = binDirectory else { throw Failure(description: skipReason) }
        let directory = NSTemporaryDirectory() + "ballast-pg-\(UUID().uuidString.prefix(8))"
        let data = directory + "/data"
        let password = "pw-\(UUID().uuidString.prefix(12))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(password.utf8).write(to: URL(fileURLWithPath: directory + "/pwfile"))
        if getuid() == 0 {
            try await run("/bin/chown", ["-R", "nobody", directory], asServer: false)
        }
        try await run(
            bin + "/initdb",
            [
                "-D", data, "-U", "ballast", "--pwfile", directory + "/pwfile", "--auth-local=trust",
                "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions",
            ], asServer: true)
        // The server must not inherit this process's descriptors: Foundation's `Process` learns that a child ended
        // when a socket it hands the child closes, and the daemon `pg_ctl start` leaves behind would hold it open
        // (pg_ctl would never be seen to end). pg_ctl starts the server through this wrapper, which closes them.
        let wrapper = directory + "/postgres"
        try Data(
            """
            #!/bin/bash
            for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
            exec '\(bin)/postgres' "$@"

            """.utf8
        ).write(to: URL(fileURLWithPath: wrapper))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper)
        if getuid() == 0 {
            try await run("/bin/chown", ["-R", "nobody", directory], asServer: false)
        }
        // A free port can be taken by another process before the server binds it: try a few.
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try freeLoopbackPort()
            do {
                try await run(
                    bin + "/pg_ctl",
                    [
                        "-D", data, "-l", directory + "/server.log", "-p", wrapper, "-w", "-t", "300", "-o",
                        "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c max_connections=500 "
                            + "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                        "start",
                    ], asServer: true)
                try watchdog(directory: directory, data: data)
                return TestPostgres(directory: directory, port: port, password: password, bin: bin)
            } catch {
                lastError = error
            }
        }
        throw lastError ?? Failure(description: "PostgreSQL did not start")
    }

    /// Stops the server (SIGQUIT: immediate shutdown) and removes its directory once this process is gone.
    static func watchdog(directory: String, data: String) throws {
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            pm=$(head -1 '\(data)/postmaster.pid' 2>/dev/null)
            [ -n "$pm" ] && kill -QUIT "$pm" 2>/dev/null
            while [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; do sleep 0.2; done
            rm -rf '\(directory)'
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Runs a command to its end (as the server's user when `asServer` and this process is root), throwing its
    /// output when it fails. Waits on the process's termination handler, not on a cooperative thread.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], asServer: Bool) async throws -> String {
        let process = Process()
        if asServer && getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "nobody", "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        let output = NSTemporaryDirectory() + "ballast-pg-out-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: output) }
        process.standardOutput = FileHandle(forWritingAtPath: output)
        process.standardError = FileHandle(forWritingAtPath: output)
        process.standardInput = FileHandle.nullDevice
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let status = try await withCheckedThrowingContinuation { (done: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { done.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                done.resume(throwing: error)
            }
        }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(status): \(text)")
        }
        return text
    }
}
