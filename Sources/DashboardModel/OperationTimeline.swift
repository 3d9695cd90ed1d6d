public import Foundation
public import KafkaModel

/// Something the runner said while the operation ran (a hold and its reason, a wait), with its time.
public struct OperationEvent: Sendable, Hashable {
    public var atMs: Int64
    public var text: String
    /// Set when the event is a hold: the reason the operation waits.
    public var holdReason: String?

    public init(atMs: Int64, text: String, holdReason: String? = nil) {
        self.atMs = atMs
        self.text = text
        self.holdReason = holdReason
    }
}

extension OperationView {
    /// A moved item's states that count as finished.
    static let finishedItemStates: Set<String> = ["done", "reassigned", "skipped", "cancelled", "dropped"]

    /// The timeline of an operation from its journal: a roll's batches and restarts, a rebalance's moves, and the
    /// runner's events (holds). Progress: restarted nodes of `total` for a roll, finished moves for a rebalance.
    /// The current hold is the latest hold event after the latest step that moved on.
    public static func fromJournal(
        id: String, kind: String, state: String, trigger: String? = nil, startedAt: Date?, steps: [RollStep],
        items: [ItemState], events: [OperationEvent], total: Int? = nil
    ) -> OperationView {
        var timeline: [TimelineEntry] = []
        var restarted = Set<Int32>()
        var batchNodes: [Int: [Int32]] = [:]
        for step in steps {
            switch step.kind {
            case .batchStarted:
                timeline.append(.init(kind: .batch, group: step.batch, text: "batch \(step.batch) started"))
            case .restartRequested:
                if let n = step.node { batchNodes[step.batch, default: []].append(n) }
                timeline.append(
                    .init(kind: .restart, group: step.batch, text: "restart of broker \(step.node ?? -1) requested"))
            case .restarted:
                if let n = step.node { restarted.insert(n) }
                timeline.append(
                    .init(kind: .restart, group: step.batch, text: "broker \(step.node ?? -1) back and in sync"))
            case .batchDone:
                let nodes = (batchNodes[step.batch] ?? []).map(String.init).joined(separator: ", ")
                timeline.append(
                    .init(
                        kind: .done, group: step.batch,
                        text: "batch \(step.batch) done" + (nodes.isEmpty ? "" : " (brokers \(nodes))")))
            case .finished:
                timeline.append(.init(kind: .done, text: step.detail.isEmpty ? "finished" : step.detail))
            case .failed:
                timeline.append(.init(kind: .failed, text: step.detail.isEmpty ? "failed" : step.detail))
            case .restartAccepted:
                break
            }
        }
        for item in items.sorted(by: { $0.index < $1.index }) {
            timeline.append(
                .init(
                    kind: finishedItemStates.contains(item.state) ? .done : .move, group: item.index,
                    text: "move \(item.index + 1): \(item.state)" + (item.detail.isEmpty ? "" : " — \(item.detail)")))
        }
        var hold: String?
        for event in events.sorted(by: { $0.atMs < $1.atMs }) {
            timeline.append(.init(atMs: event.atMs, kind: event.holdReason == nil ? .info : .hold, text: event.text))
            hold = event.holdReason
        }
        let active = ["pending", "running", "paused"].contains(state)
        let done: Int
        let count: Int
        if items.isEmpty {
            done = restarted.count
            count = max(total ?? 0, done)
        } else {
            done = items.filter { finishedItemStates.contains($0.state) }.count
            count = items.count
        }
        return OperationView(
            id: id, kind: kind, state: state, trigger: trigger,
            startedAtMs: startedAt.map { Int64($0.timeIntervalSince1970 * 1000) }, done: done, total: count,
            holdReason: active ? hold : nil, timeline: timeline)
    }
}
