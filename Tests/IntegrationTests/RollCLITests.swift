import Foundation
import Testing

/// `ballast roll` refuses unusable settings with exit 2 and one line naming the flag, before reading the cluster
/// or writing a journal.
@Suite(.enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct RollCLITests {
    @Test(arguments: [
        (["--poll", "0"], "--poll"),
        (["--headroom=-1"], "--headroom"),
        (["--max-batch", "0"], "--max-batch"),
        (["--catch-up-timeout=-5"], "--catch-up-timeout"),
        (["--nodes", "x"], "--nodes"),
    ])
    func anUnusableFlagIsBadUsageNamingIt(flags: [String], named: String) async throws {
        let state = NSTemporaryDirectory() + "ballast-roll-cli-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let r = try await run(
            ballastBinary!,
            ["roll", "--bootstrap", "127.0.0.1:1", "--agent", "http://127.0.0.1:1", "--state-dir", state] + flags)
        #expect(r.status == 2, "\(flags): \(r.stderr)")
        #expect(r.stderr.contains(named), "\(flags): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(flags): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state), "a journal was written for a refused roll")
    }
}
