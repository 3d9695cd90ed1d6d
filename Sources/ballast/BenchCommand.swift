import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks against a live or simulated cluster.",
        subcommands: [AdminBench.self])
}
