import ArgumentParser
import Demo
import Foundation

/// `ballast demo`: the whole system on a simulated stretch cluster, with the dashboard (docs/demo.md).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run Ballast on a simulated Kafka cluster stretched over 3 Kubernetes clusters, with a dashboard.",
        discussion: """
            Starts, in this process: the simulator (its brokers spread over 3 simulated Kubernetes clusters, data \
            on every broker), one kubernetes agent per Kubernetes cluster with its own token, the operations store \
            (SQLite in a temporary directory), a producer and a consumer application, and the dashboard; then plays \
            the scenario. Prints 'dashboard=URL' first, one line per step, then 'scenario=done' or \
            'scenario=failed: REASON'. Ctrl-C stops everything. Exit codes: 0 stopped (or, with \
            --exit-after-scenario, the scenario succeeded); 1 the scenario failed; 2 bad usage.
            """)

    @Option(help: "Where the dashboard listens, HOST:PORT (port 0 picks a free port).") var listen = "127.0.0.1:8080"
    @Option(help: "Number of brokers (3 to 60), spread over 3 racks in 3 Kubernetes clusters.") var brokers = 9
    @Option(help: "full | roll | scale | rebalance.") var scenario = "full"
    @Option(help: "Simulated seconds per real second.") var speed: Double = 1
    @Flag(help: "Do not open the dashboard in a browser.") var noBrowser = false
    @Flag(help: "Exit when the scenario ends: 0 when it succeeded, 1 when not.") var exitAfterScenario = false

    func run() async throws {
        var options = DemoOptions()
        do {
            try options.setListen(listen)
            guard let s = DemoOptions.Scenario(rawValue: scenario) else {
                throw DemoUsageError(
                    "--scenario must be one of \(DemoOptions.Scenario.allCases.map(\.rawValue).joined(separator: ", ")), not '\(scenario)'"
                )
            }
            options.scenario = s
            options.brokers = brokers
            options.speed = speed
            options.openBrowser = !noBrowser
            options.exitAfterScenario = exitAfterScenario
            try options.validate()
        } catch {
            FileHandle.standardError.write(Data("ballast demo: \(error)\n".utf8))
            throw BallastExit.badInput
        }
        let passed: Bool?
        do {
            passed = try await DemoRunner.run(options)
        } catch {
            FileHandle.standardError.write(Data("ballast demo: \(error)\n".utf8))
            throw BallastExit.failed
        }
        if passed == false && exitAfterScenario { throw BallastExit.failed }
    }
}
