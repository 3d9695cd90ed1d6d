import Foundation
import Synchronization

/// A program running beside the test (`ballast sim`, `ballast agent`, `kubectl get --watch`): its standard output is
/// collected as it comes, and `line(startingWith:)` / `wait(until:)` return as soon as the output shows what is
/// awaited (woken by each chunk of output, not by a timer). Standard error goes to a file for messages.
final class ObservedProcess: Sendable {
    let process: Process
    let output = Mutex<String>("")
    let waiters = Mutex<[CheckedContinuation<Void, Never>]>([])
    let errPath: String

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        errPath = NSTemporaryDirectory() + "ballast-bg-\(UUID().uuidString).err"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: errPath)
        process.standardInput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil }
            output.withLock { $0 += String(decoding: data, as: UTF8.self) }
            wakeAll()
        }
        process.terminationHandler = { [self] _ in wakeAll() }
        try process.run()
    }

    var stdout: String { output.withLock { $0 } }

    func wakeAll() {
        let all = waiters.withLock { w in
            defer { w = [] }
            return w
        }
        for w in all { w.resume() }
    }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// Waits until `condition` holds for the output so far; throws when the program ends first or `seconds` pass.
    @discardableResult
    func wait(seconds: Double = 120, until condition: @escaping (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let timer = Task { [self] in
            try? await Task.sleep(until: deadline)
            wakeAll()
        }
        defer { timer.cancel() }
        while true {
            let text = stdout
            if condition(text) { return text }
            guard process.isRunning else {
                throw ObservedProcessError("\(process.executableURL!.lastPathComponent) ended: \(text) \(stderr)")
            }
            guard ContinuousClock.now < deadline else {
                throw ObservedProcessError(
                    "timed out waiting on \(process.arguments ?? []): \(text.suffix(2000)) \(stderr)")
            }
            await withCheckedContinuation { c in
                // Re-check under the lock so a chunk that arrived meanwhile is not missed.
                let ready = waiters.withLock { w -> Bool in
                    if condition(stdout) || !process.isRunning { return true }
                    w.append(c)
                    return false
                }
                if ready { c.resume() }
            }
        }
    }

    /// The first output line starting with `prefix` (e.g. `listening=`), without the prefix.
    func line(startingWith prefix: String, seconds: Double = 120) async throws -> String {
        let text = try await wait(seconds: seconds) { $0.split(separator: "\n").contains { $0.hasPrefix(prefix) } }
        return String(text.split(separator: "\n").first { $0.hasPrefix(prefix) }!.dropFirst(prefix.count))
    }

    func lines(startingWith prefix: String) -> [String] {
        stdout.split(separator: "\n").filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// SIGTERM (or SIGKILL), then waits for the exit.
    func stop(kill: Bool = false) async {
        guard process.isRunning else { return }
        if kill { Foundation.kill(process.processIdentifier, SIGKILL) } else { process.terminate() }
        _ = try? await wait(seconds: 60) { _ in !self.process.isRunning }
        try? FileManager.default.removeItem(atPath: errPath)
    }
}

struct ObservedProcessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
