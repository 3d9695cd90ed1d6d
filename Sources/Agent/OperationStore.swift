import AgentContract
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The agent's operations as written to disk: the id counter and every kept operation, oldest first.
struct OperationsFile: Sendable, Codable, Equatable {
    static let currentVersion = 1
    var version: Int = currentVersion
    var counter: Int
    var operations: [AgentOperation]
}

/// Keeps the agent's operations in one JSON file, `operations.json` in the agent's state directory, so that a
/// restarted agent still answers the request ids it accepted before. Every save writes a temporary file, syncs
/// it and renames it over the old one: a crash leaves either the old or the new file, never a partial one.
public struct OperationStore: Sendable {
    public static let fileName = "operations.json"
    public let directory: String
    /// The state file.
    public var path: String { (directory as NSString).appendingPathComponent(Self.fileName) }

    /// Creates the directory when it is missing.
    public init(directory: String) throws {
        self.directory = directory
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw AgentError(.stateUnusable, "the agent's state directory \(directory) is a file, not a directory")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw AgentError(
                    .stateUnusable,
                    "the agent's state directory \(directory) could not be created: \(Self.reason(error))")
            }
        }
    }

    /// The stored operations, or nil when there is no state file yet. Throws, naming the file, when it cannot be
    /// read or is not a state file this agent understands; the file is left as it is.
    func load() throws -> OperationsFile? {
        let path = self.path
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw AgentError(
                .stateUnusable,
                "the agent's state file \(path) could not be read (\(Self.reason(error))); the agent did not start")
        }
        let file: OperationsFile
        do {
            file = try JSONDecoder().decode(OperationsFile.self, from: data)
        } catch {
            throw AgentError(
                .stateUnusable,
                "the agent's state file \(path) is corrupt (\(Self.reason(error))); the agent did not start and "
                    + "left it unchanged: repair or move it away, then start the agent again")
        }
        guard file.version == OperationsFile.currentVersion else {
            throw AgentError(
                .stateUnusable,
                "the agent's state file \(path) has version \(file.version), this agent reads version "
                    + "\(OperationsFile.currentVersion); the agent did not start")
        }
        return file
    }

    /// Replaces the state file atomically (temporary file, fsync, rename, fsync of the directory).
    func save(_ file: OperationsFile) throws {
        let path = self.path
        let temporary = path + ".tmp"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(file)
        func failure(_ what: String) -> AgentError {
            AgentError(
                .stateUnusable,
                "the agent's state file \(path) could not be written (\(what): \(String(cString: strerror(errno))))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("open \(temporary)") }
        var written = 0
        let ok = data.withUnsafeBytes { bytes -> Bool in
            while written < bytes.count {
                let n = write(fd, bytes.baseAddress! + written, bytes.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += n
            }
            return fsync(fd) == 0
        }
        guard ok else {
            let error = failure("write \(temporary)")
            close(fd)
            unlink(temporary)
            throw error
        }
        guard close(fd) == 0 else { throw failure("close \(temporary)") }
        guard rename(temporary, path) == 0 else {
            let error = failure("rename \(temporary)")
            unlink(temporary)
            throw error
        }
        // The rename itself is durable only once the directory is synced.
        let dir = open(directory, O_RDONLY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let at = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "\(context.debugDescription) at '\(at)'"
        default:
            // Foundation's file errors carry the POSIX reason underneath a generic message.
            if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error {
                let posix = underlying as NSError
                if posix.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(posix.code))) }
            }
            return error.localizedDescription
        }
    }
}

/// Held by a running agent so that two agents never share one state directory (each would overwrite the other's
/// operations). An advisory `flock` on `agent.lock`, released when the process ends or this is deinitialized.
public final class StateDirectoryLock: Sendable {
    public static let fileName = "agent.lock"
    let fd: Int32

    public init(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw AgentError(
                .stateUnusable, "the agent's lock file \(path) could not be opened: \(String(cString: strerror(errno)))"
            )
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            close(fd)
            throw AgentError(
                .stateBusy,
                busy
                    ? "another ballast agent is using the state directory \(directory) (it holds \(path)); "
                        + "give each agent its own --state-dir"
                    : "the agent's lock file \(path) could not be locked: \(reason)")
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
