public import Foundation

extension RollEvent {
    /// The event as one JSON object (`ballast roll --json` prints one per line).
    public func jsonObject(at date: Date = Date()) -> [String: any Sendable] {
        var o: [String: any Sendable] = ["time": ISO8601DateFormatter().string(from: date)]
        func ids(_ nodes: [Int32]) -> [Int] { nodes.map(Int.init) }
        switch self {
        case .started(let operationId, let nodes, let resumed):
            o["event"] = "started"
            o["operationId"] = operationId
            o["nodes"] = ids(nodes)
            o["resumed"] = resumed
        case .warning(let message):
            o["event"] = "warning"
            o["message"] = message
        case .planned(let done, let batches):
            o["event"] = "planned"
            o["batchesDone"] = done
            o["batches"] = batches.map(ids)
        case .waiting(let reasons, let held):
            o["event"] = "waiting"
            o["reasons"] = reasons.map { ["code": $0.code, "message": $0.description] }
            o["held"] = held.sorted { $0.key < $1.key }.map {
                ["node": Int($0.key), "code": $0.value.code, "message": $0.value.description] as [String: any Sendable]
            }
        case .batchStarted(let index, let nodes, let zone, let cluster, let downNode):
            o["event"] = "batchStarted"
            o["batch"] = index
            o["nodes"] = ids(nodes)
            o["zone"] = zone
            o["cluster"] = cluster
            o["downNode"] = downNode
        case .restartRequested(let node):
            o["event"] = "restartRequested"
            o["node"] = Int(node)
        case .restarted(let node):
            o["event"] = "restarted"
            o["node"] = Int(node)
        case .registered(let node):
            o["event"] = "registered"
            o["node"] = Int(node)
        case .catchingUp(let index, let inSync, let total):
            o["event"] = "catchingUp"
            o["batch"] = index
            o["inSync"] = inSync
            o["total"] = total
        case .leadersElected(let count):
            o["event"] = "leadersElected"
            o["partitions"] = count
        case .batchDone(let index, let nodes):
            o["event"] = "batchDone"
            o["batch"] = index
            o["nodes"] = ids(nodes)
        case .finished(let restarted):
            o["event"] = "finished"
            o["restarted"] = ids(restarted)
        case .failed(let failure):
            o["event"] = "failed"
            o["message"] = failure.message
            if let node = failure.node { o["node"] = Int(node) }
        }
        return o
    }

    /// One line of JSON, keys sorted.
    public func jsonLine(at date: Date = Date()) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: jsonObject(at: date), options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
