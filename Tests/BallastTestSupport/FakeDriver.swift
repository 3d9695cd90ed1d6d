public import Agent
public import AgentContract
public import Synchronization

/// A driver for nodes 1-3 whose restarts fail for `failing` nodes. With `holding`, a restart waits until the test
/// calls `release(node)`: a test decides when a restart ends instead of waiting for a delay to pass.
public final class FakeDriver: NodeDriver {
    struct Gate {
        var released: Set<Int32> = []
        var waiting: [Int32: CheckedContinuation<Void, Never>] = [:]
        var startedWaiters: [Int32: [CheckedContinuation<Void, Never>]] = [:]
    }
    public let restarts = Mutex<[Int32]>([])
    public let failing: Set<Int32>
    public let holding: Bool
    let gate = Mutex(Gate())

    public init(failing: Set<Int32> = [], holding: Bool = false) {
        self.failing = failing
        self.holding = holding
    }

    public func nodes() async throws -> [AgentNode] {
        [1, 2, 3].map { AgentNode(id: $0, roles: [.broker], pod: "kafka-\($0)", ready: true, zone: "z\($0)") }
    }

    public func restart(node: Int32) async throws {
        restarts.withLock { $0.append(node) }
        let started = gate.withLock { $0.startedWaiters.removeValue(forKey: node) ?? [] }
        for c in started { c.resume() }
        if holding {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = gate.withLock { g -> Bool in
                    if g.released.remove(node) != nil { return true }
                    g.waiting[node] = c
                    return false
                }
                if now { c.resume() }
            }
        }
        if failing.contains(node) { throw AgentError(.restartFailed, "restart command exited with status 2") }
    }

    /// Lets a held restart of `node` end (now, or as soon as it begins).
    public func release(_ node: Int32) {
        let waiting = gate.withLock { g -> CheckedContinuation<Void, Never>? in
            if let c = g.waiting.removeValue(forKey: node) { return c }
            g.released.insert(node)
            return nil
        }
        waiting?.resume()
    }

    /// Returns once a restart of `node` has begun.
    public func restartBegan(_ node: Int32) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let began = gate.withLock { g -> Bool in
                if restarts.withLock({ $0.contains(node) }) { return true }
                g.startedWaiters[node, default: []].append(c)
                return false
            }
            if began { c.resume() }
        }
    }
}
