public import Agent
public import Logging
public import NIOSSL
import ServiceLifecycle

/// Runs an agent (HTTP on a loopback port the OS picks) for the length of `body`, which gets its base URL; the
/// agent is shut down gracefully afterwards. The port is handed over when the server runs: no polling. With
/// `tls` the agent serves HTTPS and the URL is `https://localhost:PORT`.
public func withAgent<T: Sendable>(
    driver: any NodeDriver, token: String = "t", cluster: String? = nil, tls: TLSConfiguration? = nil,
    operations: RestartOperations = RestartOperations(), logger: Logger = Logger(label: "test.agent"),
    _ body: @Sendable (_ url: String) async throws -> T
) async throws -> T {
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    let app = try AgentServer.application(
        driver: driver, configuration: .init(port: 0, token: token, cluster: cluster, tls: tls), logger: logger,
        operations: operations,
        onServerRunning: { port in
            portContinuation.yield(port)
            portContinuation.finish()
        })
    let group = ServiceGroup(services: [app], logger: logger)
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        var port = 0
        for await p in ports { port = p }
        let result: Result<T, any Error>
        let base = tls == nil ? "http://127.0.0.1:\(port)" : "https://localhost:\(port)"
        do { result = .success(try await body(base)) } catch { result = .failure(error) }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return try result.get()
    }
}

/// An agent serving on loopback until `stop()`: for tests that stop an agent and start it again on the same port
/// (an agent cut off mid-roll). `start` returns once the server listens.
public final class RunningAgent: Sendable {
    public let url: String
    public let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    init(url: String, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.url = url
        self.port = port
        self.group = group
        self.task = task
    }

    /// `port` 0 picks a free port; a stopped agent's port starts it again where its clients look for it.
    public static func start(
        driver: any NodeDriver, token: String, cluster: String? = nil, port: Int = 0,
        operations: RestartOperations = RestartOperations(), logger: Logger = Logger(label: "test.agent")
    ) async throws -> RunningAgent {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = try AgentServer.application(
            driver: driver, configuration: .init(port: port, token: token, cluster: cluster), logger: logger,
            operations: operations,
            onServerRunning: { port in
                continuation.yield(port)
                continuation.finish()
            })
        let group = ServiceGroup(services: [app], logger: logger)
        let task = Task {
            // A port that cannot be bound ends the group: the wait below must end too.
            defer { continuation.finish() }
            try await group.run()
        }
        var bound = 0
        for await p in ports { bound = p }
        guard bound > 0 else {
            task.cancel()
            _ = await task.result
            throw AgentError("the agent did not start listening")
        }
        return RunningAgent(url: "http://127.0.0.1:\(bound)", port: bound, group: group, task: task)
    }

    /// Graceful shutdown (restarts in flight finish first); returns once the port is closed.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}
