/// The logging metadata keys every module uses, written once. Data goes into metadata under these keys, not into
/// interpolated messages, so logs can be filtered by broker, operation or cluster.
public enum LogKey {
    /// A Kafka node id.
    public static let brokerId = "kafka.broker.id"
    /// A broker's `host:port` as dialled.
    public static let brokerAddress = "kafka.broker.address"
    /// The transport of the admin client's safety read path (`librdkafka` or `native`).
    public static let readPath = "kafka.read.path"
    /// A Kafka cluster's name (service configuration) or bootstrap servers.
    public static let cluster = "kafka.cluster"
    /// A topic partition, `topic-partition`.
    public static let partition = "kafka.partition"
    /// A broker config key.
    public static let configKey = "kafka.config.key"
    /// A Ballast operation (a roll, a rebalance, a service operation).
    public static let operationId = "ballast.operation.id"
    /// An agent's restart operation.
    public static let agentOperationId = "ballast.agent.operation.id"
    /// An agent's base URL.
    public static let agent = "ballast.agent"
    /// A batch of a roll (1-based).
    public static let batch = "ballast.batch"
    /// The error that a log line reports.
    public static let error = "error"
}
