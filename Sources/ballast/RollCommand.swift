import ArgumentParser

struct RollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "roll", abstract: "Not built yet.")

    func run() async throws {
        throw ValidationError("'ballast roll' is not built yet.")
    }
}
