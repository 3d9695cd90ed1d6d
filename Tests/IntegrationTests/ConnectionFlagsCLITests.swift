import Foundation
import Testing

/// Every command that talks to Kafka takes the same connection flags (TLS, SASL, timeout) and refuses a bad one
/// the same way: exit 2 and one line naming the flag, before dialling anything.
@Suite(.enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct ConnectionFlagsCLITests {
    static let desired: String = {
        let path = NSTemporaryDirectory() + "ballast-flags-\(UUID().uuidString).properties"
        _ = FileManager.default.createFile(atPath: path, contents: Data("num.io.threads=12\n".utf8))
        return path
    }()

    static let commands: [[String]] = [
        ["describe"],
        ["plan"],
        ["roll", "--dry-run"],
        ["config", "plan", "--desired", desired],
    ]

    @Test(arguments: commands)
    func saslWithoutAMechanismIsBadUsageNamingTheFlag(command: [String]) async throws {
        let r = try await run(
            ballastBinary!,
            command + ["--bootstrap", "127.0.0.1:1", "--security-protocol", "SASL_SSL", "--sasl-username", "u"])
        #expect(r.status == 2, "\(command): \(r.stderr)")
        #expect(r.stderr.contains("--sasl-mechanism"), "\(command): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(command): \(r.stderr)")
    }

    @Test(arguments: commands)
    func saslWithoutAPasswordIsBadUsageSayingWhereItGoes(command: [String]) async throws {
        let r = try await SecurityCLITests.ballast(
            command + [
                "--bootstrap", "127.0.0.1:1", "--security-protocol", "SASL_PLAINTEXT", "--sasl-mechanism",
                "SCRAM-SHA-512", "--sasl-username", "u",
            ])
        #expect(r.status == 2, "\(command): \(r.stderr)")
        #expect(r.stderr.contains("BALLAST_SASL_PASSWORD"), "\(command): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(command): \(r.stderr)")
    }

    @Test(arguments: commands)
    func aTLSFileThatCannotBeReadIsBadInputNamingIt(command: [String]) async throws {
        let r = try await SecurityCLITests.ballast(
            command + [
                "--bootstrap", "127.0.0.1:1", "--security-protocol", "SSL", "--ssl-ca", "/nonexistent/ballast-ca.pem",
            ])
        #expect(r.status == 2, "\(command): \(r.stderr)")
        #expect(r.stderr.contains("/nonexistent/ballast-ca.pem"), "\(command): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(command): \(r.stderr)")
    }

    @Test(arguments: commands)
    func anUnknownSecurityProtocolIsBadUsageNamingIt(command: [String]) async throws {
        let r = try await run(ballastBinary!, command + ["--bootstrap", "127.0.0.1:1", "--security-protocol", "TLS"])
        #expect(r.status == 2, "\(command): \(r.stderr)")
        #expect(r.stderr.contains("'TLS'"), "\(command): \(r.stderr)")
    }

    @Test(arguments: commands)
    func tlsFlagsAreAcceptedByEveryCommand(command: [String]) async throws {
        // Accepted flags: the command gets as far as dialling (nothing listens on port 1), which fails with 1.
        let r = try await run(
            ballastBinary!,
            command + [
                "--bootstrap", "127.0.0.1:1", "--security-protocol", "SSL", "--ssl-ca", "/nonexistent/ca.pem",
                "--timeout", "2",
            ])
        #expect(r.status != 0, "\(command): \(r.stderr)")
        #expect(!r.stderr.contains("Unknown option"), "\(command): \(r.stderr)")
    }
}
