public import ConfigPlanning
public import KafkaAdmin
public import KafkaModel

/// `ConfigAdminClient` over `KafkaAdmin`: DescribeConfigs with synonyms, IncrementalAlterConfigs one resource
/// per request (Kafka answers per resource; `KafkaAdmin` throws on the first refused one), broker resources
/// routed to their own broker by `KafkaAdmin`.
public struct KafkaAdminConfigClient: ConfigAdminClient {
    public let admin: KafkaAdmin

    public init(admin: KafkaAdmin) {
        self.admin = admin
    }

    /// The brokers the cluster reports (controller-only nodes are not among them).
    public func brokerIDs() async throws -> [Int32] {
        try await admin.describeCluster().brokers.map(\.id).sorted()
    }

    /// Every broker's configs and the cluster-wide defaults: what a config plan is computed from.
    public func currentConfig() async throws -> CurrentClusterConfig {
        let nodes = try await describeBrokerConfigs(nodes: try await brokerIDs())
        return CurrentClusterConfig(nodes: nodes, clusterDefault: try await describeClusterDefaultConfigs())
    }

    public func describeBrokerConfigs(nodes: [Int32]) async throws -> [Int32: [String: ConfigEntry]] {
        let answers = try await admin.describeConfigs(nodes.map { ConfigResource.broker($0) })
        var out: [Int32: [String: ConfigEntry]] = [:]
        for answer in answers {
            guard let id = Int32(answer.resource.name) else { continue }
            out[id] = Dictionary(answer.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        }
        return out
    }

    public func describeClusterDefaultConfigs() async throws -> [String: ConfigEntry] {
        let answers = try await admin.describeConfigs([.clusterDefault])
        return Dictionary(
            (answers.first?.entries ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func incrementalAlterConfigs(
        _ resources: [ConfigResourceTarget: [PlannedAlteration]], validateOnly: Bool
    ) async throws -> [ConfigResourceTarget: ConfigAlterError?] {
        var out: [ConfigResourceTarget: ConfigAlterError?] = [:]
        for (target, ops) in resources.sorted(by: { $0.key < $1.key }) {
            let resource: ConfigResource =
                switch target {
                case .clusterDefault: .clusterDefault
                case .broker(let id): .broker(id)
                }
            var alterations: [ConfigAlteration] = []
            for op in ops {
                if case .set(let v) = op.operation {
                    alterations.append(.set(op.key, v))
                } else {
                    alterations.append(.delete(op.key))
                }
            }
            let failure: KafkaAdminError?
            do {
                try await admin.incrementalAlterConfigs([resource: alterations], validateOnly: validateOnly)
                failure = nil
            } catch {
                failure = error
            }
            guard let failure else {
                out[target] = .some(nil)
                continue
            }
            // Kafka answered and refused: that is a result, not a transport failure.
            guard failure.code == .kafka else { throw failure }
            out[target] = .some(ConfigAlterError(code: -1, message: failure.message, name: failure.kafkaErrorName))
        }
        return out
    }
}
