import AgentContract
import BallastStore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The agent's operations as loaded at start: the id counter and every kept operation, oldest first.
struct OperationsFile: Sendable, Codable, Equatable {
    static let currentVersion = 1
    var version: Int = currentVersion
    var counter: Int
    var operations: [AgentOperation]
}

/// Keeps the agent's operations in the operations store (`SQLiteOperationsStore`, one SQLite file in the agent's
/// state directory), so that a restarted agent still answers the request ids it accepted before. Each change writes
/// only the operations it touched, in one transaction, off the request's thread.
///
/// An agent that kept its operations in `operations.json` (before the store) has them imported on its first start;
/// the file is then renamed `operations.json.imported`.
public struct OperationStore: Sendable {
    /// The state file of agents before the operations store.
    public static let legacyFileName = "operations.json"
    public let directory: String
    let store: SQLiteOperationsStore
    /// The store's file.
    public var path: String { store.path }
    var legacyPath: String { (directory as NSString).appendingPathComponent(Self.legacyFileName) }

    /// Creates the directory when it is missing and opens the store. Throws, naming the file, when the store is
    /// not one this agent can use; it is then left as it is.
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
        do {
            store = try SQLiteOperationsStore(directory: directory)
        } catch {
            throw AgentError(
                .stateUnusable,
                "the agent's state store is corrupt or unusable (\(error)); the agent did not start and "
                    + "left it unchanged: repair or move it away, then start the agent again")
        }
    }

    /// The stored operations, or nil when this directory has none yet (an `operations.json` from an older agent is
    /// read then). Throws, naming the file, when an operation cannot be read; nothing is changed then.
    func load() throws -> OperationsFile? {
        let stored: StoredAgentOperations?
        do {
            stored = try store.agentOperations()
        } catch {
            throw AgentError(.stateUnusable, "\(error); the agent did not start")
        }
        guard let stored else { return try loadLegacy() }
        let decoder = JSONDecoder()
        var operations: [AgentOperation] = []
        for row in stored.operations {
            do {
                operations.append(try decoder.decode(AgentOperation.self, from: row.body))
            } catch {
                throw AgentError(
                    .stateUnusable,
                    "the agent's operation \(row.id) in \(path) is corrupt (\(Self.reason(error))); the agent did not "
                        + "start and left the store unchanged: repair or move it away, then start the agent again")
            }
        }
        return OperationsFile(counter: stored.counter, operations: operations)
    }

    /// Replaces everything stored (at start: interrupted operations marked failed, the oldest dropped); an imported
    /// `operations.json` is renamed once the store holds its operations.
    func replace(_ file: OperationsFile) throws {
        let rows = try file.operations.map { StoredAgentOperation(id: $0.id, body: try Self.encode($0)) }
        do {
            try store.replaceAgentOperations(StoredAgentOperations(counter: file.counter, operations: rows))
        } catch {
            throw AgentError(.stateUnusable, "\(error); the agent did not start")
        }
        if FileManager.default.fileExists(atPath: legacyPath) {
            let imported = legacyPath + ".imported"
            guard rename(legacyPath, imported) == 0 else {
                throw AgentError(
                    .stateUnusable,
                    "the agent's old state file \(legacyPath) was imported into \(path) but could not be renamed to "
                        + "\(imported): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Writes a change computed inside the store's write transaction (see `changeAgentOperations`).
    func write(_ change: @escaping @Sendable () -> AgentOperationsChange) async throws {
        do {
            try await store.changeAgentOperations(change)
        } catch {
            throw AgentError(.stateUnusable, "\(error)")
        }
    }

    static func encode(_ op: AgentOperation) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(op)
    }

    func loadLegacy() throws -> OperationsFile? {
        let path = legacyPath
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
            throw AgentError("the agent's lock file \(path) could not be opened: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            close(fd)
            throw AgentError(
                busy
                    ? "another ballast agent is using the state directory \(directory) (it holds \(path)); "
                        + "give each agent its own --state-dir"
                    : "the agent's lock file \(path) could not be locked: \(reason)")
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
