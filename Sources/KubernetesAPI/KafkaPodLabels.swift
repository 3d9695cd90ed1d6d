/// The labels and annotations by which the agent's `kubernetes` driver recognises Kafka pods by default, and which
/// the simulated Kubernetes API puts on its pods (so `ballast agent --driver kubernetes` works against it with its
/// defaults).
public enum KafkaPodLabels {
    /// The default pod selector: `app.kubernetes.io/name=kafka`.
    public static let nameKey = "app.kubernetes.io/name"
    public static let nameValue = "kafka"
    public static var defaultSelector: String { "\(nameKey)=\(nameValue)" }

    /// The Kafka node id (`node.id`), as a label or an annotation.
    public static let nodeId = "ballast.io/node-id"
    /// `true` on pods whose node has that role (Strimzi's `strimzi.io/broker-role` and
    /// `strimzi.io/controller-role` are read too).
    public static let brokerRole = "ballast.io/broker-role"
    public static let controllerRole = "ballast.io/controller-role"
    public static let strimziBrokerRole = "strimzi.io/broker-role"
    public static let strimziControllerRole = "strimzi.io/controller-role"
    /// Strimzi's node pool label: a pod carrying it is named `<cluster>-<pool>-<node id>`.
    public static let strimziPoolName = "strimzi.io/pool-name"
    public static let strimziRevision = "strimzi.io/revision"
    /// The zone, on a pod or on its Kubernetes node.
    public static let zone = "topology.kubernetes.io/zone"
    /// The StatefulSet revision a pod was made from.
    public static let revisionHash = "controller-revision-hash"
    /// The pod's ordinal in its StatefulSet (Kubernetes 1.28+).
    public static let podIndex = "apps.kubernetes.io/pod-index"
}
