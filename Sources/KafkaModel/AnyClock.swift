/// Any `Clock` measured in `Duration`, type-erased for runners that store one: the time elapsed since it was
/// wrapped, and a sleep. Runners that wait take one (tests pass a manual or immediate clock); this module itself
/// never reads a clock.
public struct AnyClock: Sendable {
    private let elapsedNow: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let start = clock.now
        elapsedNow = { start.duration(to: clock.now) }
        sleeper = { try await clock.sleep(for: $0) }
    }

    /// Time since this value was made.
    public var elapsed: Duration { elapsedNow() }

    public func sleep(for duration: Duration) async throws { try await sleeper(duration) }
}
