import ArgumentParser

/// The one executable: parses, wires, prints. All logic lives in the libraries.
@main
struct Ballast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ballast",
        abstract: "A Kafka-aware rolling-update and rebalance engine.",
        subcommands: [
            DescribeCommand.self,
            SimCommand.self,
            ConfigCommand.self,
            PlanCommand.self,
            RollCommand.self,
            AgentCommand.self,
            BenchCommand.self,
        ]
    )
}
