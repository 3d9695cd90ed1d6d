public import Agent
public import AgentContract
public import Synchronization

/// A driver whose restarts take `delay` and fail for `failing` nodes.
public final class FakeDriver: NodeDriver {
    public let restarts = Mutex<[Int32]>([])
    let failing: Set<Int32>
    let delay: Duration

    public init(failing: Set<Int32> = [], delay: Duration = .milliseconds(50)) {
        self.failing = failing
        self.delay = delay
    }

    public func nodes() async throws -> [AgentNode] {
        [1, 2, 3].map { AgentNode(id: $0, roles: [.broker], pod: "kafka-\($0)", ready: true, zone: "z\($0)") }
    }

    public func restart(node: Int32) async throws {
        restarts.withLock { $0.append(node) }
        try await Task.sleep(for: delay)
        if failing.contains(node) { throw AgentError("restart command exited with status 2") }
    }
}
