public import Foundation
import GRDB

/// The durable record of rolls: one SQLite file (`roller.sqlite`) under the state directory.
///
/// The executor writes a step BEFORE asking an agent to restart a node and AFTER the agent answers, so a roll
/// resumed after a crash knows exactly which nodes it may have touched: those it resumes with the same request
/// id (agents treat a repeated id as the same restart), all others it has not touched.
public final class RollJournal: Sendable {
    let db: DatabaseQueue
    public let path: String

    public enum StepKind: String, Sendable, Codable {
        case batchStarted = "batch-started"
        case restartRequested = "restart-requested"
        case restartAccepted = "restart-accepted"
        case restarted
        case batchDone = "batch-done"
        case finished
        case failed
    }

    public struct Step: Sendable, Hashable {
        public var batch: Int
        public var node: Int32?
        public var kind: StepKind
        public var detail: String
    }

    /// What a resumed roll starts from.
    public struct ResumeState: Sendable, Hashable {
        public var operationId: String
        /// The roll's parameters as the command stored them.
        public var spec: Data
        public var status: String
        public var completed: Set<Int32>
        public var inFlight: [Int32]
        public var batchesDone: Int
    }

    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = (directory as NSString).appendingPathComponent("roller.sqlite")
        do {
            db = try DatabaseQueue(path: path)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.execute(
                    sql: """
                        CREATE TABLE operations (
                            id TEXT PRIMARY KEY, createdAt DOUBLE NOT NULL, spec BLOB NOT NULL, status TEXT NOT NULL);
                        CREATE TABLE steps (
                            seq INTEGER PRIMARY KEY AUTOINCREMENT, operationId TEXT NOT NULL REFERENCES operations(id),
                            at DOUBLE NOT NULL, batch INTEGER NOT NULL, node INTEGER, kind TEXT NOT NULL,
                            detail TEXT NOT NULL DEFAULT '');
                        CREATE INDEX steps_operation ON steps(operationId, seq);
                        """)
            }
            try migrator.migrate(db)
        } catch {
            throw RollJournalError("the roll journal \(path) could not be opened: \(error)")
        }
    }

    public func begin(operationId: String, spec: Data, at: Date = Date()) throws {
        try write {
            try $0.execute(
                sql: "INSERT INTO operations (id, createdAt, spec, status) VALUES (?, ?, ?, 'running')",
                arguments: [operationId, at.timeIntervalSince1970, spec])
        }
    }

    public func record(_ operationId: String, batch: Int, node: Int32? = nil, _ kind: StepKind, detail: String = "")
        throws
    {
        try write { db in
            try db.execute(
                sql: "INSERT INTO steps (operationId, at, batch, node, kind, detail) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    operationId, Date().timeIntervalSince1970, batch, node.map { Int($0) }, kind.rawValue, detail,
                ])
            if kind == .finished || kind == .failed {
                try db.execute(
                    sql: "UPDATE operations SET status = ? WHERE id = ?",
                    arguments: [kind == .finished ? "finished" : "failed", operationId])
            }
        }
    }

    public func steps(_ operationId: String) throws -> [Step] {
        try db.read { db in
            try Row.fetchAll(
                db, sql: "SELECT batch, node, kind, detail FROM steps WHERE operationId = ? ORDER BY seq",
                arguments: [operationId]
            ).map { row in
                Step(
                    batch: row["batch"], node: (row["node"] as Int?).map { Int32($0) },
                    kind: StepKind(rawValue: row["kind"]) ?? .failed, detail: row["detail"])
            }
        }
    }

    /// The most recent roll that did not finish.
    public func latestUnfinished() throws -> String? {
        try db.read { db in
            try String.fetchOne(
                db,
                sql: "SELECT id FROM operations WHERE status != 'finished' ORDER BY createdAt DESC, rowid DESC LIMIT 1")
        }
    }

    public func resumeState(_ operationId: String) throws -> ResumeState {
        let row = try db.read { db in
            try Row.fetchOne(db, sql: "SELECT spec, status FROM operations WHERE id = ?", arguments: [operationId])
        }
        guard let row else { throw RollJournalError("no roll with operation id \(operationId) in \(path)") }
        var completed = Set<Int32>()
        var requested: [Int: [Int32]] = [:]
        var batchesDone = 0
        for step in try steps(operationId) {
            switch step.kind {
            case .restartRequested:
                if let n = step.node { requested[step.batch, default: []].append(n) }
            case .batchDone:
                batchesDone = max(batchesDone, step.batch)
                for n in requested[step.batch] ?? [] { completed.insert(n) }
                requested[step.batch] = nil
            default:
                break
            }
        }
        // Only the last batch can be in flight; any requested node not done is resumed with its request id.
        let inFlight = Set(requested.values.joined()).subtracting(completed).sorted()
        return ResumeState(
            operationId: operationId, spec: row["spec"], status: row["status"], completed: completed,
            inFlight: inFlight, batchesDone: batchesDone)
    }

    func write(_ body: @Sendable (Database) throws -> Void) throws {
        do {
            try db.write(body)
        } catch {
            throw RollJournalError("the roll journal \(path) could not be written: \(error)")
        }
    }
}

public struct RollJournalError: Error, Sendable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
