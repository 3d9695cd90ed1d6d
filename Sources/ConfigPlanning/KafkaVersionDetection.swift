public import KafkaPolicies

/// Infers the Kafka version from the config names a broker describes. DescribeConfigs returns every config the
/// broker defines, and each minor release adds or removes some, so the known table that matches best tells
/// the version. Nothing else in the protocol reports the software version.
public enum KafkaVersionDetection {
    public struct Result: Sendable, Hashable {
        public var version: KafkaVersion
        /// Share of the names both sides have, over the names either side has (Jaccard), 0...1.
        public var similarity: Double
        /// False when the best match is not clearly better than the next (or poor): treat as a guess.
        public var isConfident: Bool
    }

    /// Nil when `names` is empty.
    public static func detect(fromConfigNames names: some Collection<String>) -> Result? {
        let described = Set(names.filter { !$0.hasPrefix("listener.name.") })
        guard !described.isEmpty else { return nil }
        let scored = KafkaVersion.known.map { v -> (KafkaVersion, Double) in
            let table = Set(ConfigCatalog.broker(version: v).names)
            let both = Double(table.intersection(described).count)
            return (v, both / Double(table.union(described).count))
        }.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 > $1.0) }
        let best = scored[0]
        let runnerUp = scored.count > 1 ? scored[1].1 : 0
        return Result(version: best.0, similarity: best.1, isConfident: best.1 >= 0.8 && best.1 - runnerUp >= 0.03)
    }
}
