import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A program run as a child process whose standard output is read line by line as it comes, so a test can act
/// on an event the child prints (kill it, stop it) and await its exit without blocking a thread.
final class ChildProcess: Sendable {
    struct State {
        var out = Data()
        var err = Data()
        var lines: [String] = []
        var partial = Data()
        var exited: Int32?
        var outClosed = false
        var errClosed = false
        /// Exited, and both pipes read to their end.
        var finished: Bool { exited != nil && outClosed && errClosed }
        var lineWaiters: [(Int, CheckedContinuation<Void, Never>)] = []
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }
    let state = Mutex(State())
    let process: Process

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        // One thread per pipe, blocked in read(2) until the child closes it: EOF always arrives this way
        // (FileHandle.readabilityHandler sometimes missed it).
        for (handle, isOut) in [(out.fileHandleForReading, true), (err.fileHandleForReading, false)] {
            Thread { [self] in
                while true {
                    let data = handle.availableData
                    state.withLock { s in
                        if isOut {
                            s.out.append(data)
                            s.partial.append(data)
                            while let nl = s.partial.firstIndex(of: 0x0A) {
                                s.lines.append(String(decoding: s.partial[s.partial.startIndex..<nl], as: UTF8.self))
                                s.partial = Data(s.partial[(nl + 1)...])
                            }
                            if data.isEmpty { s.outClosed = true }
                        } else {
                            s.err.append(data)
                            if data.isEmpty { s.errClosed = true }
                        }
                        Self.wake(&s)
                    }
                    if data.isEmpty { break }
                }
            }.start()
        }
        process.terminationHandler = { [self] p in
            state.withLock { s in
                s.exited = p.terminationStatus
                Self.wake(&s)
            }
        }
        try process.run()
    }

    static func wake(_ s: inout State) {
        for (_, c) in s.lineWaiters { c.resume() }
        s.lineWaiters = []
        if s.finished {
            for c in s.exitWaiters { c.resume() }
            s.exitWaiters = []
        }
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { state.withLock { String(decoding: $0.out, as: UTF8.self) } }
    var stderr: String { state.withLock { String(decoding: $0.err, as: UTF8.self) } }
    var lines: [String] { state.withLock { $0.lines } }

    /// The first line (from line `from` on) printed so far or later that satisfies `match`; nil if the child exits
    /// without one.
    func firstLine(from: Int = 0, where match: @Sendable (String) -> Bool) async -> String? {
        var seen = from
        while true {
            let (found, done, count) = state.withLock { s -> (String?, Bool, Int) in
                (s.lines[min(seen, s.lines.count)...].first(where: match), s.finished, max(seen, s.lines.count))
            }
            if let found { return found }
            if done { return nil }
            seen = count
            await withCheckedContinuation { c in
                state.withLock { s in
                    if s.lines.count > seen || s.finished {
                        c.resume()
                    } else {
                        s.lineWaiters.append((seen, c))
                    }
                }
            }
        }
    }

    /// Waits for the child to exit and returns its status.
    @discardableResult
    func exit() async -> Int32 {
        await withCheckedContinuation { c in
            state.withLock { s in
                if s.finished { c.resume() } else { s.exitWaiters.append(c) }
            }
        }
        return state.withLock { $0.exited! }
    }

    func kill9() { Glibc.kill(pid, SIGKILL) }
}

/// Runs `ballast` with `arguments` to its end, without blocking a thread while it runs.
func ballast(_ arguments: [String], environment: [String: String] = [:]) async throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let child = try ChildProcess(ballastBinary!, arguments, environment: environment)
    let status = await child.exit()
    return (status, child.stdout, child.stderr)
}
