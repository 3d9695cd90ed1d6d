public import Foundation
import KafkaModel

extension RebalanceEvent {
    /// The event as one JSON object (`ballast rebalance --json` prints one per line).
    public func jsonObject(at date: Date = Date()) -> [String: any Sendable] {
        var o: [String: any Sendable] = ["time": ISO8601DateFormatter().string(from: date)]
        func names(_ list: [TopicPartition]) -> [String] { list.map(\.description) }
        switch self {
        case .started(let operationId, let moves, let hash, let resumed):
            o["event"] = "started"
            o["operationId"] = operationId
            o["moves"] = moves
            o["hash"] = hash
            o["resumed"] = resumed
        case .warning(let message):
            o["event"] = "warning"
            o["message"] = message
        case .waiting(let reason):
            o["event"] = "waiting"
            o["reason"] = reason
        case .throttlesSet(let brokers, let topics):
            o["event"] = "throttlesSet"
            o["brokers"] = brokers.map(Int.init)
            o["topics"] = topics
        case .throttlesRestored(let keys):
            o["event"] = "throttlesRestored"
            o["configs"] = keys.map { ["resource": $0.resource.displayName, "key": $0.key] }
        case .movesStarted(let list):
            o["event"] = "movesStarted"
            o["partitions"] = names(list)
        case .moveAdopted(let tp):
            o["event"] = "moveAdopted"
            o["partition"] = tp.description
        case .moveReassigned(let tp):
            o["event"] = "moveReassigned"
            o["partition"] = tp.description
        case .moveDone(let tp):
            o["event"] = "moveDone"
            o["partition"] = tp.description
        case .moveSkipped(let tp, let reason):
            o["event"] = "moveSkipped"
            o["partition"] = tp.description
            o["reason"] = reason
        case .moveStuck(let tp, let seconds):
            o["event"] = "moveStuck"
            o["partition"] = tp.description
            o["seconds"] = Int(seconds)
        case .cancelRequested(let list):
            o["event"] = "cancelRequested"
            o["partitions"] = names(list)
        case .moveCancelled(let tp, let reason):
            o["event"] = "moveCancelled"
            o["partition"] = tp.description
            o["reason"] = reason
        case .leadersElected(let count):
            o["event"] = "leadersElected"
            o["partitions"] = count
        case .progress(let p):
            o["event"] = "progress"
            o["done"] = p.done
            o["inFlight"] = p.inFlight
            o["pending"] = p.pending
            o["notDone"] = p.notDone
            o["bytesDone"] = Int(p.bytesDone)
            o["bytesTotal"] = Int(p.bytesTotal)
        case .stopping(let reason):
            o["event"] = "stopping"
            o["reason"] = reason
        case .finished(let report):
            o["event"] = "finished"
            o["outcome"] = report.outcome.rawValue
            o["clean"] = report.isClean
            o["done"] = report.done
            o["dropped"] = report.dropped
            if let failure = report.failure { o["failure"] = failure }
            func problems(_ list: [RebalanceReport.MoveProblem]) -> [[String: String]] {
                list.map { ["partition": $0.topicPartition.description, "reason": $0.reason] }
            }
            o["skipped"] = problems(report.skipped)
            o["cancelled"] = problems(report.cancelled)
            o["leftInFlight"] = problems(report.leftInFlight)
            o["leadersNotMoved"] = problems(report.leadersNotMoved)
            o["throttlesNotRestored"] = report.throttlesNotRestored.map {
                ["resource": $0.key.resource.displayName, "key": $0.key.key, "reason": $0.reason]
            }
        }
        return o
    }

    /// One line of JSON, keys sorted.
    public func jsonLine(at date: Date = Date()) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: jsonObject(at: date), options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
