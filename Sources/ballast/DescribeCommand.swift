import ArgumentParser

struct DescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Not built yet.")

    func run() async throws {
        throw ValidationError("'ballast describe' is not built yet.")
    }
}
