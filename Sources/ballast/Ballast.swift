import ArgumentParser
import Foundation

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
            RebalanceCommand.self,
            AgentCommand.self,
            TopologyCommand.self,
            ServeCommand.self,
            OperationsCommand.self,
            BenchCommand.self,
            DemoCommand.self,
        ]
    )

    /// Runs the chosen command and exits with DESIGN.md's codes: ArgumentParser reports bad usage as 64
    /// (EX_USAGE); Ballast promises 2 for bad usage or input.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                let stream = code == .success ? FileHandle.standardOutput : FileHandle.standardError
                stream.write(Data((message + "\n").utf8))
            }
            Foundation.exit(code == .validationFailure ? BallastExit.badInput.rawValue : code.rawValue)
        }
    }
}
