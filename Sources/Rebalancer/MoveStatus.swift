/// Where one move of an execution is; journaled on every change (the raw value is what the journal stores).
public enum MoveStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Not started.
    case pending
    /// AlterPartitionReassignments is being sent (journaled first): after a crash, Kafka's list of reassignments
    /// says whether it arrived.
    case requested
    /// Kafka is moving it.
    case inFlight = "in-flight"
    /// The replicas are the proposed ones, in order, all in sync; leadership may still have to move.
    case reassigned
    case done
    /// Not started: the partition changed since the proposal, or the move would be unsafe (`detail` says which).
    case skipped
    /// Cancellation (AlterPartitionReassignments without a target) was sent.
    case cancelling
    /// Reverted by Kafka.
    case cancelled
    /// Never started: the execution was stopped or failed first.
    case dropped

    /// Nothing more will happen to it.
    public var isTerminal: Bool { self == .done || self == .skipped || self == .cancelled || self == .dropped }
    /// Kafka may be moving it now (it holds its brokers' slots).
    public var isInFlight: Bool { self == .requested || self == .inFlight || self == .cancelling }
}
