import Foundation
import Testing

/// Debian's chromium.
let chromiumPath = "/usr/bin/chromium"

/// The dashboard in a real browser: Debian's chromium, headless, against `ballast demo` while it rolls. The DOM is
/// read with `--dump-dom` (the page's `?poll` mode: chromium's virtual time, which lets the script run before the
/// dump, stops at an open event stream).
extension DemoCLITests {
    @Suite(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: chromiumPath),
            "needs Debian's chromium (Scripts/test.sh installs it)"))
    struct DashboardBrowserTests {
        static let chromium = chromiumPath

        /// Where the screenshot goes: $BALLAST_DASHBOARD_SCREENSHOT, else .build/artifacts/dashboard.png (CI's artifact).
        static var screenshotPath: String {
            ProcessInfo.processInfo.environment["BALLAST_DASHBOARD_SCREENSHOT"]
                ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                    "../../.build/artifacts/dashboard.png"
                ).standardizedFileURL.path
        }

        /// chromium's arguments: headless, its own profile, console messages on stderr.
        static func browser(_ profile: String, _ extra: [String]) -> [String] {
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
                "--enable-logging=stderr", "--v=0", "--virtual-time-budget=4000",
            ] + extra
        }

        static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

        @Test func thePageShowsNineBrokersInThreeKubernetesClustersAndTheRollsTimelineWithNoConsoleMessage()
            async throws
        {
            let profile = NSTemporaryDirectory() + "ballast-chromium-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: profile) }
            let demo = try ObservedProcess(
                ballastBinary!,
                ["demo", "--scenario", "roll", "--speed", "2", "--no-browser", "--listen", "127.0.0.1:0"])
            let url = try await demo.line(startingWith: "dashboard=") + "?poll"
            _ = try await demo.wait(seconds: 300) { $0.contains("roll: batch 1: restarting node(s)") }
            // The DOM is read again until the running roll's timeline shows; each read is a whole chromium run (a few
            // seconds), so this polls a condition the page cannot announce otherwise.
            var dom = ""
            var consoles: [String] = []
            let deadline = ContinuousClock.now + .seconds(300)
            while ContinuousClock.now < deadline {
                let r = try await run(Self.chromium, Self.browser(profile, ["--dump-dom", url]))
                dom = r.stdout
                consoles += r.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
                if dom.contains(#"data-op-state="running""#) && dom.contains("tl-entry tl-restart") { break }
            }
            #expect(consoles.isEmpty, "\(consoles)")
            #expect(dom.contains("9 brokers in 3 Kubernetes clusters"), "\(dom.suffix(3000))")
            #expect(Self.count("data-broker=", in: dom) == 9)
            #expect(Self.count("data-kcluster=", in: dom) == 3)
            #expect(
                dom.contains(#"data-op-state="running""#), "the roll's operation never showed running: \(demo.stdout)")
            #expect(Self.count("tl-entry tl-restart", in: dom) >= 1)

            let path = Self.screenshotPath
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: path)
            _ = try await run(
                Self.chromium,
                Self.browser(profile, ["--hide-scrollbars", "--window-size=1280,1700", "--screenshot=\(path)", url]))
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            #expect(size > 10_000, "no screenshot at \(path)")

            // SIGTERM stops it all cleanly.
            demo.process.terminate()
            _ = try? await demo.wait(seconds: 120) { _ in !demo.process.isRunning }
            #expect(!demo.process.isRunning)
            #expect(demo.process.terminationStatus == 0, "\(demo.stderr)")
        }
    }
}
