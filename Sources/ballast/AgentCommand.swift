import ArgumentParser

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agent", abstract: "Not built yet.")

    func run() async throws {
        throw ValidationError("'ballast agent' is not built yet.")
    }
}
