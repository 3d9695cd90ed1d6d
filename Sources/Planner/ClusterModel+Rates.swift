/// Measured traffic of one topic, summed over its partitions' leaders (what Kafka's per-topic BytesInPerSec and
/// BytesOutPerSec count).
public struct TopicRates: Sendable, Hashable {
    public var bytesInPerSecond: Double
    public var bytesOutPerSecond: Double

    public init(bytesInPerSecond: Double, bytesOutPerSecond: Double) {
        self.bytesInPerSecond = bytesInPerSecond
        self.bytesOutPerSecond = bytesOutPerSecond
    }
}

extension ClusterModel {
    /// Sets the network loads from measured per-topic rates: a topic's bytes in and out per second are spread over
    /// its partitions in proportion to their disk size (evenly when the topic holds no data), as KiB/s, the model
    /// file's unit. Metrics are per topic, not per partition, and a partition's share of the data is the best
    /// estimate of its share of the traffic. Topics without a rate keep their loads.
    /// - Returns: the rated topics the model does not have, sorted (a metrics source watching another cluster
    ///   shows up here).
    @discardableResult
    public mutating func applyTopicRates(_ rates: [String: TopicRates]) -> [String] {
        var topicOf: [String: Int] = [:]
        for (t, name) in topicNames.enumerated() { topicOf[name] = t }
        var totalSize = [Double](repeating: 0, count: topicCount)
        var partitions = [Int](repeating: 0, count: topicCount)
        let disk = Resource.disk.rawValue
        for p in 0..<partitionCount {
            let t = Int(partitionTopic[p])
            totalSize[t] += load[disk][p]
            partitions[t] += 1
        }
        for p in 0..<partitionCount {
            let t = Int(partitionTopic[p])
            guard let rate = rates[topicNames[t]] else { continue }
            let share = totalSize[t] > 0 ? load[disk][p] / totalSize[t] : 1 / Double(partitions[t])
            load[Resource.networkIn.rawValue][p] = rate.bytesInPerSecond / 1024 * share
            load[Resource.networkOut.rawValue][p] = rate.bytesOutPerSecond / 1024 * share
        }
        return rates.keys.filter { topicOf[$0] == nil }.sorted()
    }
}
