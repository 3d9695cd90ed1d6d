import Foundation

/// Runs a program and returns its exit status, stdout and stderr.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The process is waited for on a Dispatch thread, not on the test's cooperative thread: a CLI test that blocked
/// one of the two cooperative threads of a 2-core machine starved every other test of the run (an in-process
/// simulator could then not start within its deadline).
func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], captureOutput: Bool = true
) async throws -> ProcessResult {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessResult, any Error>) in
        DispatchQueue.global().async {
            continuation.resume(
                with: Result {
                    try runBlocking(executable, arguments, environment: environment, captureOutput: captureOutput)
                })
        }
    }
}

private func runBlocking(
    _ executable: String, _ arguments: [String], environment: [String: String], captureOutput: Bool
) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = captureOutput ? out : FileHandle.nullDevice
    p.standardError = captureOutput ? err : FileHandle.nullDevice
    let exited = DispatchSemaphore(value: 0)
    p.terminationHandler = { _ in exited.signal() }
    try p.run()
    // Read before waiting so a large output cannot block the child.
    let o = captureOutput ? out.fileHandleForReading.readDataToEndOfFile() : Data()
    let e = captureOutput ? err.fileHandleForReading.readDataToEndOfFile() : Data()
    exited.wait()
    return ProcessResult(
        status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
        stderr: String(decoding: e, as: UTF8.self))
}

/// The package root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The built `ballast` binary (built by `swift build` before the tests run).
var ballastBinary: String? {
    for config in ["debug", "release"] {
        let path = packageRoot.appendingPathComponent(".build/\(config)/ballast").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// A program running in the background (a `ballast sim`), stopped with SIGINT by `stop()`.
final class BackgroundProcess: @unchecked Sendable {
    let process = Process()
    private let out = Pipe()
    private var buffer = Data()

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Reads standard output until the lines read so far satisfy `done` (blocks on the pipe: each read returns
    /// when the program writes or exits); throws if the program ends first.
    func readLines(until done: ([String]) -> Bool) throws -> [String] {
        while true {
            let lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n").map(String.init)
            if done(lines) { return lines }
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty {
                throw ProcessEnded(status: process.isRunning ? -1 : process.terminationStatus, output: lines)
            }
            buffer.append(chunk)
        }
    }

    func stop() {
        if process.isRunning {
            process.interrupt()
            process.waitUntilExit()
        }
    }

    struct ProcessEnded: Error {
        var status: Int32
        var output: [String]
    }
}

/// Runs blocking work (a child process, a read from its pipe) on a thread of its own: Swift Testing runs every
/// test on the few threads of the cooperative pool (two on a 2-core machine), and a test that blocks one of them
/// for seconds stalls every other test meanwhile.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
