import Foundation
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

        public struct Node: Sendable, Codable, Hashable {
            public var id: Int32
            public var roles: [String]?
            public var zone: String?
            public var restart: String
            public var ready: String?
            public var revision: String?
        }
    }

    public let config: Config

    public init(config: Config) { self.config = config }

    public init(yaml: String) throws {
        do {
            config = try YAMLDecoder().decode(Config.self, from: yaml)
        } catch {
            throw AgentError("the agent config is not valid: \(error)")
        }
        var seen = Set<Int32>()
        for n in config.nodes where !seen.insert(n.id).inserted {
            throw AgentError("the agent config lists node \(n.id) twice")
        }
    }

    public init(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AgentError("the agent config \(path) could not be read")
        }
        try self.init(yaml: text)
    }

    public func nodes() async throws -> [ManagedNode] {
        var out: [ManagedNode] = []
        for n in config.nodes {
            var ready = true
            if let check = n.ready {
                ready = (try? await Shell.run(check, timeoutSeconds: 10).status) == 0
            }
            out.append(
                ManagedNode(
                    id: n.id, roles: n.roles ?? ["broker"], pod: "process-\(n.id)", ready: ready, zone: n.zone,
                    revision: n.revision))
        }
        return out
    }

    public func restart(node: Int32) async throws {
        guard let n = config.nodes.first(where: { $0.id == node }) else {
            throw AgentError("node \(node) is not in the agent config")
        }
        let result = try await Shell.run(n.restart, timeoutSeconds: config.restartTimeoutSeconds ?? 600)
        guard result.status == 0 else {
            throw AgentError(
                "the restart command of node \(node) exited with status \(result.status)"
                    + (result.stderr.isEmpty ? "" : ": \(result.stderr)"))
        }
        guard let check = n.ready else { return }
        let clock = ContinuousClock()
        let timeout = config.readyTimeoutSeconds ?? 300
        let deadline = clock.now + .milliseconds(Int64(timeout * 1000))
        while true {
            if try await Shell.run(check, timeoutSeconds: 30).status == 0 { return }
            if clock.now >= deadline {
                throw AgentError("node \(node) did not pass its ready command within \(Int(timeout)) s of its restart")
            }
            try await Task.sleep(for: .milliseconds(Int64((config.readyIntervalSeconds ?? 1) * 1000)))
        }
    }
}

/// `Process` is not Sendable; the timeout only reads `isRunning` and calls `terminate`, which are thread-safe.
final class ProcessBox: @unchecked Sendable {
    let process: Process
    init(_ process: Process) { self.process = process }
}

/// Runs `/bin/sh -c` commands off the cooperative pool.
enum Shell {
    struct Result {
        var status: Int32
        /// The last line(s) of standard error, trimmed.
        var stderr: String
    }

    static func run(_ command: String, timeoutSeconds: Double) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        // A file, not a pipe: a chatty command cannot block on a full pipe.
        let errPath = NSTemporaryDirectory() + "ballast-agent-\(UUID().uuidString).err"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        guard let errHandle = FileHandle(forWritingAtPath: errPath) else {
            throw AgentError("could not create a temporary file for command output")
        }
        process.standardError = errHandle
        let status: Int32 = try await withCheckedThrowingContinuation { cont in
            process.terminationHandler = { p in cont.resume(returning: p.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                cont.resume(throwing: AgentError("the command '\(command)' could not be started: \(error)"))
                return
            }
            let box = ProcessBox(process)
            DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds) {
                if box.process.isRunning { box.process.terminate() }
            }
        }
        try? errHandle.close()
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let tail = stderr.split(separator: "\n").suffix(3).joined(separator: " | ")
        return Result(status: status, stderr: String(tail.prefix(500)))
    }
}
