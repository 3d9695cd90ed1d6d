import Foundation
import Testing

/// `ballast serve` refusing a configuration it cannot run with: exit 2 and one line naming what is wrong, before it
/// listens or touches a store.
@Suite(.enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct ServeCLITests {
    static func configuration(store: String, in directory: URL) throws -> String {
        let token = directory.appendingPathComponent("admin.token")
        try "admin-token\n".write(to: token, atomically: true, encoding: .utf8)
        let file = directory.appendingPathComponent("ballast.yaml")
        try """
        listen: 127.0.0.1:0
        store: \(store)
        tokens: {admin: \(token.path)}
        clusters:
          - name: prod
            bootstrap: 127.0.0.1:1
        """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test(arguments: [
        ("bogus://x", "bogus://x"),
        ("postgres://ballast@db:5432/ballast?nope=1", "'nope'"),
        ("postgres://ballast:s3cret@db:5432/ballast?nope=1", "'nope'"),
    ])
    func aStoreURLItCannotUseIsExitTwoNamingIt(store: String, named: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-cli-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let r = try await run(
            ballastBinary!, ["serve", "--config", try Self.configuration(store: store, in: directory)])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains(named), "\(r.stderr)")
        #expect(!r.stderr.contains("s3cret"), "a password reached the error: \(r.stderr)")
        #expect(!r.stdout.contains("listening="), "\(r.stdout)")
    }

    @Test func aMissingConfigurationKeyIsExitTwoNamingTheKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-cli-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("ballast.yaml")
        try "listen: 127.0.0.1:0\nclusters: []\nbogusKey: 1\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try await run(ballastBinary!, ["serve", "--config", file.path])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("bogusKey"), "\(r.stderr)")
    }
}
