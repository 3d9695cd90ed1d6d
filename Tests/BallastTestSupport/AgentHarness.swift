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
