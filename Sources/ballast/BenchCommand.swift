import ArgumentParser

/// `ballast bench <name>`: micro-benchmarks of the libraries, one subcommand each.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark.",
        subcommands: [
            WireBench.self
        ]
    )
}
