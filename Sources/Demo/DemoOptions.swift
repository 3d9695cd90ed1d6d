/// What `ballast demo` runs: its flags, checked.
public struct DemoOptions: Sendable {
    public enum Scenario: String, Sendable, CaseIterable {
        /// Reconcile (dynamic change, then a read-only change that rolls), alert upscale and rebalance, downscale,
        /// manual rebalance.
        case full
        case roll
        case scale
        case rebalance
    }

    public var host = "127.0.0.1"
    public var port = 8080
    public var brokers = 9
    public var scenario = Scenario.full
    /// Cluster seconds per real second (the simulator's time scale).
    public var speed: Double = 1
    public var openBrowser = true
    public var exitAfterScenario = false

    public init() {}

    /// Parses `HOST:PORT`; the error names the flag.
    public mutating func setListen(_ text: String) throws(DemoUsageError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon != text.startIndex
        else { throw DemoUsageError("--listen must be HOST:PORT, not '\(text)'") }
        host = String(text[..<colon])
        self.port = port
    }

    public func validate() throws(DemoUsageError) {
        // Three Kubernetes clusters with RF 3 and min ISR 2 need a broker in each; a controller quorum of three.
        guard (3...60).contains(brokers) else { throw DemoUsageError("--brokers must be 3 to 60, not \(brokers)") }
        guard speed > 0, speed <= 100, speed.isFinite else {
            throw DemoUsageError("--speed must be more than 0 and at most 100, not \(speed)")
        }
    }
}

public struct DemoUsageError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
