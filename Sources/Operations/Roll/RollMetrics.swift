public import CoreMetrics
import Roller

/// The roll runner's metrics, created once per executor (bounded labels: gate-hold reasons are the fixed set of
/// `HoldReason.codes`, agent calls the three API calls). `ballast serve` exposes them through swift-prometheus by
/// bootstrapping the metrics system; tests pass `TestMetrics`.
public struct RollMetrics: Sendable {
    /// Restarts asked of an agent, restarts it reported done, restarts that failed the roll.
    public let restartsRequested: Counter
    public let restartsDone: Counter
    public let restartsFailed: Counter
    /// Gate decisions that held the roll, by the first reason (`reason` = `HoldReason.code`).
    let gateHolds: [String: Counter]
    /// From a batch's start to its end (restarts, registration, catch-up, elections).
    public let batchDuration: CoreMetrics.Timer
    /// Agent calls by `call` = `nodes`, `restart`, `operation`.
    let agentCalls: [String: CoreMetrics.Timer]
    /// Rolls that ended, by `result` = `finished`, `failed`.
    let rolls: [String: Counter]

    public static let agentCallNames = ["nodes", "restart", "operation"]

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        restartsRequested = Counter(label: "ballast_roll_restarts_requested_total", factory: factory)
        restartsDone = Counter(label: "ballast_roll_restarts_done_total", factory: factory)
        restartsFailed = Counter(label: "ballast_roll_restarts_failed_total", factory: factory)
        var holds: [String: Counter] = [:]
        for code in HoldReason.codes {
            holds[code] = Counter(
                label: "ballast_roll_gate_holds_total", dimensions: [("reason", code)], factory: factory)
        }
        gateHolds = holds
        batchDuration = CoreMetrics.Timer(label: "ballast_roll_batch_duration_seconds", factory: factory)
        var calls: [String: CoreMetrics.Timer] = [:]
        for call in Self.agentCallNames {
            calls[call] = CoreMetrics.Timer(
                label: "ballast_agent_call_duration_seconds", dimensions: [("call", call)], factory: factory)
        }
        agentCalls = calls
        rolls = Dictionary(
            uniqueKeysWithValues: ["finished", "failed"].map {
                ($0, Counter(label: "ballast_rolls_total", dimensions: [("result", $0)], factory: factory))
            })
    }

    func gateHeld(_ code: String) { gateHolds[code]?.increment() }

    func agentCall(_ call: String, took duration: Duration) {
        agentCalls[call]?.recordNanoseconds(Int64(duration.seconds * 1e9))
    }

    func rollEnded(_ result: String) { rolls[result]?.increment() }
}
