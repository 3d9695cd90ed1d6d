import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks (release builds only give meaningful numbers).",
        subcommands: [PlannerBench.self])
}
