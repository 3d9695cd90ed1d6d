import ArgumentParser

/// `ballast bench <name>`: benchmarks, one subcommand each (`Bench+<Name>.swift`). Build with `-c release`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark.",
        subcommands: [
            WireBench.self,
            BenchSimCommand.self,
            AdminBench.self,
            RollerBench.self,
            PlannerBench.self,
            ExecutorBench.self,
            ServeAlertsBench.self,
        ]
    )
}
