public import Agent
public import AgentContract
import Foundation
public import KafkaModel
import Subprocess
import SystemPackage
import Yams

/// Nodes run as local processes; `agent.yaml` says how to restart each and how to tell it is ready.
///
/// ```yaml
/// nodes:
///   - id: 1
///     roles: [broker, controller]
///     zone: az-a
///     restart: "systemctl restart kafka@1"
///     ready: "nc -z 127.0.0.1 9092"     # optional: polled until it exits 0
/// ```
/// A restart is done when the restart command and then the ready command exit 0.
public struct ProcessDriver: NodeDriver {
    public struct Config: Sendable, Codable, Hashable {
        public var nodes: [Node]
        /// How long the restart command may run, and how long the ready command may take to pass.
        public var restartTimeoutSeconds: Double?
        public var readyTimeoutSeconds: Double?
        public var readyIntervalSeconds: Double?
        /// How long one run of a ready command may take when the agent lists its nodes (default 5 s): the
        /// commands run concurrently, so listing takes about this long at most, within a client's 10 s.
        public var readyCheckTimeoutSeconds: Double?

        public struct Node: Sendable, Codable, Hashable {
            public var id: Int32
            public var roles: [NodeRole]?
            public var zone: String?
            public var restart: String
            public var ready: String?
            public var revision: String?
        }
    }

    public let config: Config
    /// Measures the ready timeout and spaces the ready checks after a restart.
    public let clock: AnyClock
    /// At most this many ready commands run at once when the nodes are listed.
    public static let concurrentReadyChecks = 8

    public init(config: Config, clock: AnyClock = AnyClock(ContinuousClock())) {
        self.config = config
        self.clock = clock
    }

    public init(yaml: String, clock: AnyClock = AnyClock(ContinuousClock())) throws {
        self.clock = clock
        do {
            config = try YAMLDecoder().decode(Config.self, from: yaml)
        } catch {
            throw AgentError(.badConfig, "the agent config is not valid: \(error)")
        }
        var seen = Set<Int32>()
        for n in config.nodes where !seen.insert(n.id).inserted {
            throw AgentError(.badConfig, "the agent config lists node \(n.id) twice")
        }
    }

    public init(path: String, clock: AnyClock = AnyClock(ContinuousClock())) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AgentError(.badConfig, "the agent config \(path) could not be read")
        }
        try self.init(yaml: text, clock: clock)
    }

    /// Every node, with its ready command run now (concurrently, at most `concurrentReadyChecks` at once, each
    /// bounded by `readyCheckTimeoutSeconds`).
    public func nodes() async throws -> [AgentNode] {
        let timeout = config.readyCheckTimeoutSeconds ?? 5
        let ready = await withTaskGroup(of: (Int32, Bool).self) { group in
            var result: [Int32: Bool] = [:]
            var pending = config.nodes.makeIterator()
            func addNext() -> Bool {
                guard let n = pending.next() else { return false }
                group.addTask {
                    guard let check = n.ready else { return (n.id, true) }
                    return (n.id, (try? await Shell.run(check, timeoutSeconds: timeout).status) == 0)
                }
                return true
            }
            for _ in 0..<Self.concurrentReadyChecks where !addNext() { break }
            while let (id, ok) = await group.next() {
                result[id] = ok
                _ = addNext()
            }
            return result
        }
        return config.nodes.map { n in
            AgentNode(
                id: n.id, roles: n.roles ?? [.broker], pod: "process-\(n.id)", ready: ready[n.id] ?? false,
                zone: n.zone, revision: n.revision)
        }
    }

    /// From the config alone: no ready command runs.
    public func manages(node: Int32) async throws -> Bool { config.nodes.contains { $0.id == node } }

    public func restart(node: Int32) async throws {
        guard let n = config.nodes.first(where: { $0.id == node }) else {
            throw AgentError(.notManaged, "node \(node) is not in the agent config")
        }
        let result = try await Shell.run(n.restart, timeoutSeconds: config.restartTimeoutSeconds ?? 600)
        guard result.status == 0 else {
            throw AgentError(
                .restartFailed,
                "the restart command of node \(node) exited with status \(result.status)"
                    + (result.stderr.isEmpty ? "" : ": \(result.stderr)"))
        }
        guard let check = n.ready else { return }
        let timeout = config.readyTimeoutSeconds ?? 300
        let deadline = clock.elapsed + .seconds(timeout)
        while true {
            if try await Shell.run(check, timeoutSeconds: 30).status == 0 { return }
            if clock.elapsed >= deadline {
                throw AgentError(
                    .nodeDidNotRecover,
                    "node \(node) did not pass its ready command within \(Int(timeout)) s of its restart")
            }
            try await clock.sleep(for: .seconds(config.readyIntervalSeconds ?? 1))
        }
    }
}

/// Runs `/bin/sh -c` commands through swift-subprocess (posix_spawn), not Foundation's `Process`.
///
/// A restart command starts a long-lived server (a JVM) that outlives the shell. Foundation's `Process` learns
/// that a child ended from a socket the child inherits, so it never reports the shell's exit while the server
/// holds that socket. Here the child inherits only /dev/null and a file for standard error (Subprocess closes
/// every other descriptor), starts with no blocked signals and default dispositions (a server that inherits a
/// blocked SIGTERM cannot be stopped gracefully), and leads its own process group. Its end is awaited, not
/// polled. A command that outlives its timeout, or whose task is cancelled, gets SIGTERM (its whole group),
/// then SIGKILL after `killAfter`.
enum Shell {
    struct Result {
        var status: Int32
        /// The last line(s) of standard error, trimmed.
        var stderr: String
    }

    /// How long a command has between SIGTERM and SIGKILL.
    static let killAfter: Duration = .seconds(10)

    static func run(_ command: String, timeoutSeconds: Double, killAfter: Duration = Shell.killAfter) async throws
        -> Result
    {
        let errPath = NSTemporaryDirectory() + "ballast-agent-\(UUID().uuidString).err"
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let errFile: FileDescriptor
        do {
            errFile = try FileDescriptor.open(
                FilePath(errPath), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        } catch {
            throw AgentError(.restartFailed, "the command '\(command)' could not be started: \(errPath): \(error)")
        }
        enum Outcome: Sendable {
            case finished(TerminationStatus)
            case timedOut
        }
        let outcome: Outcome
        do {
            outcome = try await withThrowingTaskGroup(of: Outcome.self) { group in
                group.addTask {
                    var options = PlatformOptions()
                    options.processGroupID = 0
                    options.teardownSequence = [
                        .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: killAfter)
                    ]
                    let r = try await Subprocess.run(
                        .path("/bin/sh"), arguments: ["-c", command], platformOptions: options, input: .none,
                        output: .discarded, error: .fileDescriptor(errFile, closeAfterSpawningProcess: true))
                    return .finished(r.terminationStatus)
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(timeoutSeconds))
                    return .timedOut
                }
                let first = try await group.next()!
                group.cancelAll()
                // A timed-out command is torn down by the cancellation; wait for it to be gone.
                while let next = try? await group.next() {
                    if case .finished = next, case .timedOut = first { continue }
                }
                return first
            }
        } catch let error as CancellationError {
            throw error
        } catch {
            throw AgentError(.restartFailed, "the command '\(command)' could not be run: \(error)")
        }
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        var tail = stderr.split(separator: "\n").suffix(3).joined(separator: " | ")
        let status: Int32
        switch outcome {
        case .finished(.exited(let code)): status = code
        case .finished(.signaled(let signal)): status = 128 + signal
        case .timedOut:
            status = 128 + SIGTERM
            tail = "timed out after \(Int(timeoutSeconds)) s" + (tail.isEmpty ? "" : ": " + tail)
        }
        return Result(status: status, stderr: String(tail.prefix(500)))
    }
}
