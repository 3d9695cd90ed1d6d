import Foundation
import Testing

/// `ballast sim` refuses unusable client settings before it binds anything: exit 2, one sentence naming the flag.
@Suite struct SimCLITests {
    @Test(arguments: [
        (["--log-bytes-per-partition", "0"], "--log-bytes-per-partition must be positive, not 0"),
        (["--coordinator-load-ms=-1"], "--coordinator-load-ms must not be negative, not -1"),
    ])
    func badClientSettingsExitTwoNamingTheFlag(_ flags: [String], _ message: String) async throws {
        let ballast = try #require(ballastBinary, "build ballast first")
        let r = try await run(ballast, ["sim", "--port", "0", "--control-port", "0"] + flags)
        #expect(r.status == 2)
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
