public import KafkaModel

/// How to build a simulated cluster: generated from a few numbers (`ballast sim` flags) or loaded from a
/// cluster model file (DESIGN.md format).
public struct SimTopology: Sendable {
    public var brokers = 6
    public var racks = 3
    /// Kubernetes clusters; racks are spread over them round-robin.
    public var clusters = 1
    /// Separate KRaft controllers; 0 makes the first (up to) three brokers combined broker+controllers.
    public var controllers = 0
    public var topics = 20
    public var partitions = 12
    public var replicationFactor = 3
    public var minInsyncReplicas = 2
    /// Static configs for every node (server.properties), on top of the simulator's own.
    public var staticConfigs: [String: String] = [:]
    public var model: ClusterModelFile?

    public init() {}

    public func validate() throws(SimTopologyError) {
        if let model {
            do { try model.validateForSimulator() } catch { throw SimTopologyError(error.description) }
            guard controllers >= 0 else {
                throw SimTopologyError("--controllers must be 0 or more, not \(controllers)")
            }
            return
        }
        guard brokers >= 1 else { throw SimTopologyError("--brokers must be at least 1, not \(brokers)") }
        guard racks >= 1 else { throw SimTopologyError("--racks must be at least 1, not \(racks)") }
        guard clusters >= 1, clusters <= racks else {
            throw SimTopologyError("--clusters must be between 1 and the number of racks (\(racks)), not \(clusters)")
        }
        guard controllers >= 0 else { throw SimTopologyError("--controllers must be 0 or more, not \(controllers)") }
        guard topics >= 0 else { throw SimTopologyError("--topics must be 0 or more, not \(topics)") }
        guard partitions >= 1 else { throw SimTopologyError("--partitions must be at least 1, not \(partitions)") }
        guard replicationFactor >= 1, replicationFactor <= brokers else {
            throw SimTopologyError(
                "--replication-factor must be between 1 and --brokers (\(brokers)), not \(replicationFactor)")
        }
        guard minInsyncReplicas >= 1, minInsyncReplicas <= replicationFactor else {
            throw SimTopologyError(
                "--min-isr must be between 1 and --replication-factor (\(replicationFactor)), not \(minInsyncReplicas)")
        }
    }

    static func rackName(_ i: Int) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        return i < letters.count ? "rack-\(letters[i])" : "rack-\(i)"
    }

    /// Builds the cluster at time 0.
    public func build(settings: SimSettings = SimSettings(), catalog: SimConfigCatalog = .kafka41)
        throws(SimTopologyError)
        -> SimCluster
    {
        try validate()
        var cluster = SimCluster(settings: settings, catalog: catalog)
        do {
            if let model {
                try model.populate(&cluster, controllers: controllers, staticConfigs: staticConfigs)
            } else {
                let combined = controllers == 0 ? min(3, brokers) : 0
                for i in 0..<brokers {
                    let r = i % racks
                    var roles: Set<NodeRole> = [.broker]
                    if i < combined { roles.insert(.controller) }
                    try cluster.addNode(
                        id: Int32(i + 1), rack: Self.rackName(r), cluster: "k8s-\(r % clusters + 1)", roles: roles,
                        staticConfigs: staticConfigs)
                }
                for k in 0..<controllers {
                    let r = k % racks
                    try cluster.addNode(
                        id: Int32(1000 + k + 1), rack: Self.rackName(r), cluster: "k8s-\(r % clusters + 1)",
                        roles: [.controller], staticConfigs: staticConfigs)
                }
                for t in 0..<topics {
                    try cluster.createTopic(
                        name: "topic-\(t)", partitions: partitions, replicationFactor: replicationFactor,
                        configs: ["min.insync.replicas": String(minInsyncReplicas)])
                }
            }
        } catch {
            throw SimTopologyError(error.message)
        }
        cluster.sampleHealth()
        return cluster
    }
}

public struct SimTopologyError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension SimTopologyError: CategorizedError {
    public var category: ErrorCategory { .badInput }
}
