import Foundation

/// Runs a program and returns its exit status, stdout and stderr.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], captureOutput: Bool = true
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
