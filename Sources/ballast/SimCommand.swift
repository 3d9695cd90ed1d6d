import ArgumentParser

struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sim", abstract: "Not built yet.")

    func run() async throws {
        throw ValidationError("'ballast sim' is not built yet.")
    }
}
