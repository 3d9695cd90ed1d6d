public import Agent
public import AgentContract
import Foundation
public import KafkaModel
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
            public var roles: [NodeRole]?
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

    public func nodes() async throws -> [AgentNode] {
        var out: [AgentNode] = []
        for n in config.nodes {
            var ready = true
            if let check = n.ready {
                ready = (try? await Shell.run(check, timeoutSeconds: 10).status) == 0
            }
            out.append(
                AgentNode(
                    id: n.id, roles: n.roles ?? [.broker], pod: "process-\(n.id)", ready: ready, zone: n.zone,
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

/// Runs `/bin/sh -c` commands with posix_spawn, not Foundation's `Process`.
///
/// A restart command starts a long-lived server (a JVM) that outlives the shell. Foundation's `Process` learns
/// that a child ended from a socket the child inherits, so it never reports the shell's exit while the server
/// holds that socket. Here the child inherits only /dev/null and a file for standard error, starts with no
/// blocked signals (a server that inherits a blocked SIGTERM cannot be stopped gracefully), and leads its own
/// process group, so a timeout stops the whole command.
enum Shell {
    struct Result {
        var status: Int32
        /// The last line(s) of standard error, trimmed.
        var stderr: String
    }

    static func run(_ command: String, timeoutSeconds: Double) async throws -> Result {
        let errPath = NSTemporaryDirectory() + "ballast-agent-\(UUID().uuidString).err"
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let pid = try spawn(command, stderrPath: errPath)
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(timeoutSeconds * 1000))
        var signalled = false
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped == -1 && errno != EINTR {
                throw AgentError("could not wait for the command '\(command)': errno \(errno)")
            }
            if !signalled && clock.now >= deadline {
                // The whole group: the shell and whatever it started in the foreground.
                kill(-pid, SIGTERM)
                signalled = true
            }
            // Cancellation does not stop a restart half way: the node must not be left stopped.
            try? await Task.sleep(for: .milliseconds(20))
        }
        let exit: Int32
        if status & 0x7f == 0 {
            exit = (status >> 8) & 0xff
        } else {
            exit = 128 + (status & 0x7f)
        }
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        var tail = stderr.split(separator: "\n").suffix(3).joined(separator: " | ")
        if signalled { tail = "timed out after \(Int(timeoutSeconds)) s" + (tail.isEmpty ? "" : ": " + tail) }
        return Result(status: exit, stderr: String(tail.prefix(500)))
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does not declare.
    private static let closeFromFileAction:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            else { return nil }
            return unsafeBitCast(
                symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
        }()

    private static func spawn(_ command: String, stderrPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Nothing else of the agent's (its listening socket above all) may leak into a server that outlives it.
        if let closeFrom = closeFromFileAction { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var pid: pid_t = 0
        let arguments: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        guard rc == 0 else {
            throw AgentError("the command '\(command)' could not be started: \(String(cString: strerror(rc)))")
        }
        return pid
    }
}
