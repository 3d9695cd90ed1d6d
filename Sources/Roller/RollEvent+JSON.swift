public import Foundation

extension RollEvent {
    /// The event as one JSON object (`ballast roll --json` prints one per line), keys sorted. `date` is when it
    /// happened (the caller's clock: this module reads none).
    public func jsonLine(at date: Date) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(RollEventRecord(self, at: date))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// The JSON form of a `RollEvent`: `event` names it, `time` is ISO 8601; the other keys depend on the event.
struct RollEventRecord: Encodable {
    struct Reason: Encodable {
        var node: Int?
        var code: String
        var message: String
    }

    var event: String
    var time: String
    var operationId: String?
    var nodes: [Int]?
    var resumed: Bool?
    var message: String?
    var batchesDone: Int?
    var batches: [[Int]]?
    var reasons: [Reason]?
    var held: [Reason]?
    var batch: Int?
    var zone: String?
    var cluster: String?
    var downNode: Bool?
    var node: Int?
    var inSync: Int?
    var total: Int?
    var partitions: Int?
    var restarted: [Int]?
    var code: String?
    var planned: [Int]?
    var restartSeconds: Double?
    var catchUpSeconds: Double?
    var oneByOneSeconds: Double?
    var bottleneck: String?
    var partition: String?
    var leader: Int?
    var lagBytes: Int64?
    var seconds: Double?
    var cause: String?
    var throttles: [Throttle]?

    /// A throttle config of a broker: its value while the batch catches up (nil once restored).
    struct Throttle: Encodable {
        var broker: String
        var key: String
        var value: String?
    }

    init(_ event: RollEvent, at date: Date) {
        time = ISO8601DateFormatter().string(from: date)
        func ids(_ nodes: [Int32]) -> [Int] { nodes.map(Int.init) }
        switch event {
        case .started(let operationId, let nodes, let resumed):
            self.event = "started"
            self.operationId = operationId
            self.nodes = ids(nodes)
            self.resumed = resumed
        case .warning(let message):
            self.event = "warning"
            self.message = message
        case .planned(let done, let batches):
            self.event = "planned"
            batchesDone = done
            self.batches = batches.map(ids)
        case .waiting(let reasons, let held):
            self.event = "waiting"
            self.reasons = reasons.map { Reason(node: nil, code: $0.code, message: $0.description) }
            self.held = held.sorted { $0.key < $1.key }.map {
                Reason(node: Int($0.key), code: $0.value.code, message: $0.value.description)
            }
        case .batchStarted(let index, let nodes, let zone, let cluster, let downNode):
            self.event = "batchStarted"
            batch = index
            self.nodes = ids(nodes)
            self.zone = zone
            self.cluster = cluster
            self.downNode = downNode
        case .restartRequested(let node):
            self.event = "restartRequested"
            self.node = Int(node)
        case .restarted(let node):
            self.event = "restarted"
            self.node = Int(node)
        case .registered(let node):
            self.event = "registered"
            self.node = Int(node)
        case .catchingUp(let index, let inSync, let total):
            self.event = "catchingUp"
            batch = index
            self.inSync = inSync
            self.total = total
        case .batchSized(let sizing, let planned):
            self.event = "batchSized"
            nodes = ids(sizing.nodes)
            self.planned = ids(planned)
            restartSeconds = sizing.restartSeconds
            // JSON has no infinity: a catch-up that never ends is reported as null with its bottleneck.
            catchUpSeconds = sizing.predicted.seconds.isFinite ? sizing.predicted.seconds : nil
            oneByOneSeconds = sizing.oneByOneSeconds.isFinite ? sizing.oneByOneSeconds : nil
            bottleneck = sizing.predicted.bottleneck
        case .stalled(let d):
            self.event = "stalled"
            node = Int(d.replica.broker)
            partition = d.replica.partition.description
            leader = Int(d.leader)
            lagBytes = d.lagBytes
            seconds = d.seconds
            cause = d.cause
            message = d.description
        case .throttlesLifted(let changes):
            self.event = "throttlesLifted"
            throttles = changes.map { Throttle(broker: $0.key.resource.name, key: $0.key.key, value: $0.value) }
        case .throttlesRestored(let keys):
            self.event = "throttlesRestored"
            throttles = keys.map { Throttle(broker: $0.resource.name, key: $0.key, value: nil) }
        case .leadersElected(let count):
            self.event = "leadersElected"
            partitions = count
        case .batchDone(let index, let nodes):
            self.event = "batchDone"
            batch = index
            self.nodes = ids(nodes)
        case .finished(let restarted):
            self.event = "finished"
            self.restarted = ids(restarted)
        case .failed(let failure):
            self.event = "failed"
            message = failure.message
            code = failure.code.rawValue
            node = failure.node.map(Int.init)
        }
    }
}
