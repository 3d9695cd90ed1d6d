import ArgumentParser

/// `ballast bench <name>`: benchmarks, one subcommand each (`Bench+<Name>.swift`).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Run a benchmark.", subcommands: [BenchSimCommand.self])
}
