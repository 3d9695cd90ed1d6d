extension Duration {
    /// The duration in seconds, as a `Double` (timeouts and intervals are configured in seconds).
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
