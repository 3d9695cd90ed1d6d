import ArgumentParser

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Not built yet.")

    func run() async throws {
        throw ValidationError("'ballast config' is not built yet.")
    }
}
