public import KafkaModel

/// A Kafka node as the roller sees it: what an agent reports (`GET /v1/nodes`) plus where it runs.
public struct NodeInfo: Sendable, Hashable, Codable {
    public var id: Int32
    public var roles: Set<NodeRole>
    /// The zone (rack); when nil the broker's rack from metadata is used.
    public var zone: String?
    /// The Kubernetes cluster (one agent per Kubernetes cluster); nil means one cluster.
    public var cluster: String?
    /// The agent reports the node serving.
    public var ready: Bool

    public init(
        id: Int32, roles: Set<NodeRole> = [.broker], zone: String? = nil, cluster: String? = nil, ready: Bool = true
    ) {
        self.id = id
        self.roles = roles
        self.zone = zone
        self.cluster = cluster
        self.ready = ready
    }
}
