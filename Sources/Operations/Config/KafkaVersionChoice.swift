public import ConfigPlanning
public import KafkaPolicies

/// Which Kafka version's config rules a plan uses: the one asked for, else the one a config dump names, else the one
/// the brokers' config names point to, else the newest known. `note` says so when the choice is a guess.
public struct KafkaVersionChoice: Sendable, Hashable {
    public var version: KafkaVersion
    /// A warning for the plan when the version was guessed or defaulted; nil when it was given.
    public var note: String?

    public init(requested: KafkaVersion?, dumped: KafkaVersion?, current: CurrentClusterConfig) {
        if let given = requested ?? dumped {
            version = given
            note = nil
        } else if let names = current.nodes.values.max(by: { $0.count < $1.count })?.keys,
            let d = KafkaVersionDetection.detect(fromConfigNames: names)
        {
            version = d.version
            note =
                d.isConfident
                ? nil
                : "the Kafka version is a guess from the configs the brokers describe: \(d.version) (set --kafka-version)"
        } else {
            version = KafkaVersion.known.last!
            note = "the Kafka version was not detected; using \(version) (set --kafka-version)"
        }
    }
}
