/// A broker's state in the cluster model file (DESIGN.md): what the planner may do with it and how the simulator
/// starts it.
public enum BrokerState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Serving and may keep and receive replicas.
    case alive
    /// Gone: every replica on it must move.
    case dead
    /// Empty and waiting for replicas (add-brokers).
    case new
    /// Being decommissioned: every replica on it must move.
    case removing

    /// Whether replicas may stay on, or move onto, a broker in this state.
    public var isEligible: Bool { self == .alive || self == .new }
}
