import Foundation
public import Prometheus
import Synchronization

/// The service's own metrics, in a Prometheus registry that `GET /metrics` renders. `ballast serve` also bootstraps
/// swift-metrics with this registry, so the runners' metrics (the roll's restarts, safety-gate holds by reason,
/// batch durations; the agent calls) appear beside these.
public final class ServiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let states = Mutex<[String: Int]>([:])

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        // Every metric is present from the start (zero), so a rule or a dashboard never meets an absent series.
        for action in ["upscale", "downscale", "pause-rollouts"] {
            _ = registry.makeCounter(
                descriptor: Self.d(
                    "ballast_alerts_acted_total", "Alerts that led to an action (an operation, a pause or its end)"),
                labels: [("action", action)])
        }
        _ = registry.makeCounter(descriptor: Self.d("ballast_alerts_received_total", "Alerts received on the webhook"))
        _ = registry.makeCounter(
            descriptor: Self.d(
                "ballast_alerts_deduplicated_total", "Alerts received again (same fingerprint, startsAt, status)"))
    }

    func alertsReceived(_ n: Int, duplicates: Int) {
        registry.makeCounter(descriptor: Self.d("ballast_alerts_received_total", "Alerts received on the webhook"))
            .increment(by: Int64(n))
        registry.makeCounter(
            descriptor: Self.d(
                "ballast_alerts_deduplicated_total", "Alerts received again (same fingerprint, startsAt, status)")
        ).increment(by: Int64(duplicates))
    }

    func alertActed(_ action: String) {
        registry.makeCounter(
            descriptor: Self.d(
                "ballast_alerts_acted_total", "Alerts that led to an action (an operation, a pause or its end)"),
            labels: [("action", action)]
        ).increment()
    }

    func operationCreated(kind: String) {
        registry.makeCounter(
            descriptor: Self.d("ballast_operations_created_total", "Operations created, by kind"),
            labels: [("kind", kind)]
        ).increment()
        operationState(kind: kind, from: nil, to: "pending")
    }

    /// Moves one operation from a state to another in `ballast_operations{kind,state}`.
    func operationState(kind: String, from: String?, to: String) {
        let counts = states.withLock { s -> [(String, Int)] in
            var changed: [(String, Int)] = []
            if let from {
                s["\(kind)|\(from)", default: 0] -= 1
                changed.append(("\(kind)|\(from)", s["\(kind)|\(from)"]!))
            }
            s["\(kind)|\(to)", default: 0] += 1
            changed.append(("\(kind)|\(to)", s["\(kind)|\(to)"]!))
            return changed
        }
        for (key, value) in counts {
            let parts = key.split(separator: "|").map(String.init)
            registry.makeGauge(
                descriptor: Self.d(
                    "ballast_operations", "Operations known to this engine since it started, by kind and state"),
                labels: [("kind", parts[0]), ("state", parts[1])]
            ).set(Double(max(0, value)))
        }
    }

    func reassignmentBytesRemaining(cluster: String, _ bytes: Int64) {
        registry.makeGauge(
            descriptor: Self.d("ballast_reassignment_bytes_remaining", "Bytes the running rebalance still has to copy"),
            labels: [("cluster", cluster)]
        ).set(Double(bytes))
    }

    func rollsPaused(cluster: String, _ paused: Bool) {
        registry.makeGauge(
            descriptor: Self.d("ballast_rolls_paused", "1 while alerts pause rolls on the cluster"),
            labels: [("cluster", cluster)]
        ).set(Double(paused ? 1 : 0))
    }

    func agentCall(_ call: String, seconds: Double) {
        registry.makeValueHistogram(
            descriptor: Self.d("ballast_service_agent_call_seconds", "Latency of the service's calls to agents"),
            labels: [("call", call)], buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30]
        ).record(seconds)
    }

    func httpRequest(status: Int) {
        registry.makeCounter(
            descriptor: Self.d("ballast_http_requests_total", "HTTP requests answered, by status code"),
            labels: [("code", String(status))]
        ).increment()
    }

    static func d(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The text exposition format.
    public func render() -> String { registry.emitToString() }
}
