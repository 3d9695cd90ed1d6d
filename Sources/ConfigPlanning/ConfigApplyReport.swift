/// What `ConfigApplier.apply` did, per key.
public struct ConfigApplyReport: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, Codable {
        /// Applied and reported by every touched node.
        case applied
        /// Kafka's validation refused it; nothing was applied for it.
        case rejected
        /// Kafka refused it on some resource after validation passed; rolled back where applied (see message).
        case failed
        /// Applied, but some node did not report the new value in time.
        case unverified
    }

    public struct KeyResult: Sendable, Hashable {
        public var key: String
        public var status: Status
        public var message: String?
        public var nodes: [Int32]

        public init(key: String, status: Status, message: String?, nodes: [Int32]) {
            self.key = key
            self.status = status
            self.message = message
            self.nodes = nodes
        }
    }

    public var results: [KeyResult] = []
    /// Nodes that still need a restart for the plan's read-only changes.
    public var restartNodes: [Int32]

    public init(results: [KeyResult] = [], restartNodes: [Int32]) {
        self.results = results
        self.restartNodes = restartNodes
    }

    public var succeeded: Bool { results.allSatisfy { $0.status == .applied } }
}
