import Synchronization

/// An instant of a test clock: time since the clock was made.
public struct TestInstant: InstantProtocol, Sendable {
    public var offset: Duration

    public init(offset: Duration) { self.offset = offset }

    public func advanced(by duration: Duration) -> TestInstant { TestInstant(offset: offset + duration) }
    public func duration(to other: TestInstant) -> Duration { other.offset - offset }
    public static func < (a: TestInstant, b: TestInstant) -> Bool { a.offset < b.offset }
}

/// A clock whose time moves only when a test says so (`advance(by:)`). A sleeper resumes once the clock has
/// reached its deadline; `sleepers` tells a test that the code under test is now waiting. (swift-clocks' `TestClock`
/// does this too, but the only version available offline needs Swift tools 6.4.)
public final class ManualClock: Clock, Sendable {
    struct Sleeper {
        var deadline: TestInstant
        var continuation: CheckedContinuation<Void, any Error>
        var id: Int
    }
    struct State {
        var now = TestInstant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextId = 0
        var waitingForSleepers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }
    let state = Mutex(State())

    public init() {}

    public var now: TestInstant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    public func sleep(until deadline: TestInstant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { s -> Int in
            s.nextId += 1
            return s.nextId
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready: [CheckedContinuation<Void, Never>]
                let resumeNow = state.withLock { s -> Bool in
                    if deadline <= s.now || Task.isCancelled { return true }
                    s.sleepers.append(Sleeper(deadline: deadline, continuation: continuation, id: id))
                    return false
                }
                if resumeNow {
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume()
                    }
                    return
                }
                ready = state.withLock { s in
                    let (met, rest) = (
                        s.waitingForSleepers.filter { $0.count <= s.sleepers.count },
                        s.waitingForSleepers.filter { $0.count > s.sleepers.count }
                    )
                    s.waitingForSleepers = rest
                    return met.map(\.continuation)
                }
                for c in ready { c.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let due = state.withLock { s -> [Sleeper] in
            s.now = s.now.advanced(by: duration)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }
            s.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// How many tasks sleep on this clock now.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// Returns once at least `count` tasks sleep on this clock (the code under test has reached its wait).
    public func waitForSleepers(_ count: Int = 1) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.sleepers.count >= count { return true }
                s.waitingForSleepers.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}

/// A clock on which every sleep returns at once, having moved time forward by its length: code that waits, polls
/// and times out runs as fast as it can compute, and its timeouts count clock time, not the load of the machine.
public final class ImmediateClock: Clock, Sendable {
    let current = Mutex(TestInstant(offset: .zero))

    public init() {}

    public var now: TestInstant { current.withLock { $0 } }
    public var minimumResolution: Duration { .zero }

    public func sleep(until deadline: TestInstant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        current.withLock { $0 = max($0, deadline) }
        // Let other tasks run, as a real sleep would.
        await Task.yield()
    }

    /// Moves time forward without sleeping (what a slow call costs).
    public func advance(by duration: Duration) { current.withLock { $0 = $0.advanced(by: duration) } }
}
