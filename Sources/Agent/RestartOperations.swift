import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// The agent's restarts: created by requests, run by `RestartWorker`, read by `GET /v1/operations/{id}`.
public final class RestartOperations: Sendable {
    struct State {
        var operations: [String: RestartOperation] = [:]
        var byRequest: [String: String] = [:]
        var running: [Int32: String] = [:]
        var counter = 0
    }
    let state = Mutex(State())
    let jobs: AsyncStream<RestartOperation>.Continuation
    let stream: AsyncStream<RestartOperation>

    public init() {
        let (stream, jobs) = AsyncStream<RestartOperation>.makeStream()
        self.stream = stream
        self.jobs = jobs
    }

    enum StartResult {
        case started(RestartOperation)
        case existing(RestartOperation)
        case busy(String)
    }

    func start(node: Int32, requestId: String?) -> StartResult {
        let result: StartResult = state.withLock { s in
            if let requestId, let existing = s.byRequest[requestId], let op = s.operations[existing] {
                return .existing(op)
            }
            if let running = s.running[node] { return .busy(running) }
            s.counter += 1
            let op = RestartOperation(
                id: "op-\(s.counter)-\(UUID().uuidString.prefix(8).lowercased())", node: node, state: .running,
                error: nil, requestId: requestId)
            s.operations[op.id] = op
            if let requestId { s.byRequest[requestId] = op.id }
            s.running[node] = op.id
            return .started(op)
        }
        if case .started(let op) = result { jobs.yield(op) }
        return result
    }

    func finish(_ id: String, error: String?) {
        state.withLock { s in
            guard var op = s.operations[id] else { return }
            op.state = error == nil ? .done : .failed
            op.error = error
            s.operations[id] = op
            s.running[op.node] = nil
        }
    }

    public func operation(_ id: String) -> RestartOperation? { state.withLock { $0.operations[id] } }

    func isRestarting(_ node: Int32) -> Bool { state.withLock { $0.running[node] != nil } }
}

/// Runs the restarts the API accepted, concurrently, until graceful shutdown.
public struct RestartWorker: Service {
    let operations: RestartOperations
    let driver: any NodeDriver
    let logger: Logger

    public init(operations: RestartOperations, driver: any NodeDriver, logger: Logger) {
        self.operations = operations
        self.driver = driver
        self.logger = logger
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for await op in operations.stream.cancelOnGracefulShutdown() {
                group.addTask {
                    var logger = logger
                    logger[metadataKey: "kafka.broker.id"] = "\(op.node)"
                    logger.info("restarting node", metadata: ["operation": "\(op.id)"])
                    do {
                        try await driver.restart(node: op.node)
                        operations.finish(op.id, error: nil)
                        logger.info("node restarted", metadata: ["operation": "\(op.id)"])
                    } catch {
                        operations.finish(op.id, error: "\(error)")
                        logger.error("restart failed", metadata: ["operation": "\(op.id)", "error": "\(error)"])
                    }
                }
            }
        }
    }
}
