public import CoreMetrics

/// The agent's metrics, created once: restarts requested (accepted), done and failed, restarts running, and how
/// long a restart took. `ballast serve`-style exposure is one `MetricsSystem.bootstrap` away; tests pass
/// `TestMetrics`.
public struct AgentMetrics: Sendable {
    public let restartsRequested: Counter
    public let restartsDone: Counter
    public let restartsFailed: Counter
    public let restartsRunning: Gauge
    public let restartDuration: CoreMetrics.Timer

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        restartsRequested = Counter(label: "ballast_agent_restarts_requested_total", factory: factory)
        restartsDone = Counter(label: "ballast_agent_restarts_done_total", factory: factory)
        restartsFailed = Counter(label: "ballast_agent_restarts_failed_total", factory: factory)
        restartsRunning = Gauge(label: "ballast_agent_restarts_running", factory: factory)
        restartDuration = CoreMetrics.Timer(label: "ballast_agent_restart_duration_seconds", factory: factory)
    }
}
