import AsyncHTTPClient
import Foundation
import Testing

/// `ballast demo` run as a user runs it: the built binary, its narration read line by line, its dashboard over HTTP,
/// and Debian's headless chromium against the page (`DashboardBrowserTests`, nested so that one demo runs at a time:
/// three at once on a loaded 2-core machine starved the agents' calls).
@Suite(.serialized, .enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct DemoCLITests {
    static func value(_ key: String, in line: String) -> Int? {
        line.split(separator: " ").first { $0.hasPrefix(key + "=") }.flatMap { Int($0.dropFirst(key.count + 1)) }
    }

    /// Whether anything still accepts connections on the URL's port.
    static func answers(_ url: String) async -> Bool {
        (try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))) != nil
    }

    @Test func theRollScenarioRestartsEveryBrokerUnderTheApplicationsWithoutALostMessageAndExitsZero() async throws {
        let demo = try ObservedProcess(
            ballastBinary!,
            [
                "demo", "--scenario", "roll", "--speed", "20", "--no-browser", "--exit-after-scenario", "--listen",
                "127.0.0.1:0",
            ])
        let url = try await demo.line(startingWith: "dashboard=", seconds: 120)
        // The scenario's end: the roll of 9 brokers at time x20, under the applications.
        let text = try await demo.wait(seconds: 900) { $0.contains("scenario=") }
        _ = try await demo.wait(seconds: 120) { _ in !demo.process.isRunning }
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("scenario=done"), "\(text)\n\(demo.stderr)")
        #expect(demo.process.terminationStatus == 0)
        // The roll is the service's reconcile operation, narrated from its events.
        #expect(lines.filter { $0.hasPrefix("  roll: node ") && $0.hasSuffix(" restarted") }.count == 9)
        // Each step printed once, not doubled.
        #expect(lines.filter { $0.hasPrefix("step done: ") }.count == 1)
        let apps = try #require(lines.first { $0.hasPrefix("applications: sent=") })
        #expect(Self.value("failed", in: apps) == 0, "\(apps)")
        #expect(Self.value("lost", in: apps) == 0, "\(apps)")
        #expect((Self.value("acknowledged", in: apps) ?? 0) > 0, "\(apps)")
        // Everything ran in the one process, which is gone: its dashboard no longer answers.
        #expect(await !Self.answers(url))
    }

    @Test func theFullScenarioReconcilesRollsScalesAndRebalancesThroughTheService()
        async throws
    {
        let r = try await run(
            ballastBinary!,
            [
                "demo", "--scenario", "full", "--speed", "20", "--no-browser", "--exit-after-scenario", "--listen",
                "127.0.0.1:0",
            ])
        let lines = r.stdout.split(separator: "\n").map(String.init)
        // Through ballast serve's API: reconcile (live configs, a roll, a downscale), the Alertmanager upscale, the
        // rebalance executed by hash.
        for step in [
            "step done: reconcile: a dynamic config change", "step done: alert: ", "step done: downscale: ",
            "step done: rebalance: ", "step done: roll: ",
        ] {
            #expect(lines.contains { $0.hasPrefix(step) }, "\(step) missing: \(r.stdout)")
        }
        #expect(lines.contains { $0.hasPrefix("  upscale: added broker(s) ") }, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("  downscale: removed broker(s) ") }, "\(r.stdout)")
        let apps = try #require(lines.first { $0.hasPrefix("applications: sent=") })
        #expect(Self.value("failed", in: apps) == 0, "\(apps)")
        #expect(Self.value("lost", in: apps) == 0, "\(apps)")
        // The roll and the downscale are reconcile operations of the service, narrated from their events.
        #expect(lines.contains { $0.hasPrefix("  roll: batch 1: restarting node(s) ") }, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("  reconcile: drain broker(s) ") }, "\(r.stdout)")
        #expect(!lines.contains { $0.contains("in-process") }, "\(r.stdout)")
        #expect(lines.last == "scenario=done", "\(r.stdout)")
        #expect(r.status == 0)
    }

    @Test func badFlagsAreExitTwoNamingTheFlag() async throws {
        for (args, flag) in [
            (["--scenario", "nope"], "--scenario"), (["--brokers", "2"], "--brokers"), (["--listen", "x"], "--listen"),
            (["--speed", "0"], "--speed"),
        ] {
            let r = try await run(ballastBinary!, ["demo", "--no-browser"] + args)
            #expect(r.status == 2)
            #expect(r.stderr.contains(flag), "\(r.stderr)")
        }
    }
}
