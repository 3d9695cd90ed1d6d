public import KafkaModel
public import KafkaPolicies

/// What a change needs: a restart of the nodes, or a live IncrementalAlterConfigs.
public enum ConfigAction: String, Sendable, Hashable, Codable {
    case restart
    case dynamic
}

/// An IncrementalAlterConfigs BROKER resource: the cluster default (`""`) or one broker.
public enum ConfigResourceTarget: Sendable, Hashable, Comparable, CustomStringConvertible {
    case clusterDefault
    case broker(Int32)

    /// The ConfigResource name on the wire.
    public var resourceName: String {
        switch self {
        case .clusterDefault: ""
        case .broker(let id): String(id)
        }
    }

    public var description: String {
        switch self {
        case .clusterDefault: "the cluster default"
        case .broker(let id): "broker \(id)"
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.clusterDefault, .broker): true
        case (.broker(let a), .broker(let b)): a < b
        default: false
        }
    }
}

/// One key of one resource to set or delete.
public struct PlannedAlteration: Sendable, Hashable {
    public enum Operation: Sendable, Hashable {
        case set(String)
        /// Remove the dynamic value at this resource.
        case delete
    }

    public var target: ConfigResourceTarget
    public var key: String
    public var operation: Operation

    public init(target: ConfigResourceTarget, key: String, operation: Operation) {
        self.target = target
        self.key = key
        self.operation = operation
    }
}

/// One classified change of one key.
public struct ConfigChange: Sendable, Hashable {
    public var key: String
    /// The current value on the touched nodes when they agree; see `fromByNode` otherwise.
    public var from: String?
    /// Current value per touched node, filled only when the nodes disagree.
    public var fromByNode: [Int32: String?]
    /// The desired value; nil means "remove the dynamic override".
    public var to: String?
    public var scope: UpdateMode
    public var action: ConfigAction
    /// The nodes whose effective value changes.
    public var nodes: [Int32]
    /// Values are never printed.
    public var isSensitive: Bool
    /// Why the action is what it is, when it is not plain from the scope.
    public var reason: String?
    /// What `apply` sends; empty for restart changes.
    public var alterations: [PlannedAlteration]

    public init(
        key: String, from: String?, fromByNode: [Int32: String?] = [:], to: String?, scope: UpdateMode,
        action: ConfigAction, nodes: [Int32], isSensitive: Bool = false, reason: String? = nil,
        alterations: [PlannedAlteration] = []
    ) {
        self.key = key
        self.from = from
        self.fromByNode = fromByNode
        self.to = to
        self.scope = scope
        self.action = action
        self.nodes = nodes
        self.isSensitive = isSensitive
        self.reason = reason
        self.alterations = alterations
    }
}

/// A desired key that is not planned, and why (bad value, per-node key in a cluster plan, ...).
public struct ConfigKeyProblem: Sendable, Hashable, CustomStringConvertible {
    public var key: String
    public var line: Int?
    public var message: String

    public init(key: String, line: Int?, message: String) {
        self.key = key
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { "line \(line): \(key): \(message)" } else { "\(key): \(message)" }
    }
}

/// The classifier's output; the roller and `config apply` consume it.
public struct ConfigChangePlan: Sendable, Hashable {
    public var kafkaVersion: ResolvedKafkaVersion
    public var changes: [ConfigChange]
    /// Desired keys that already have the desired value everywhere (no-ops).
    public var unchanged: [String]
    /// Things to know that do not stop the plan: unknown keys (with the nearest known key), shadowed synonyms.
    public var warnings: [String]
    /// Keys left out of the plan because they cannot be applied as given.
    public var problems: [ConfigKeyProblem]

    public init(
        kafkaVersion: ResolvedKafkaVersion, changes: [ConfigChange] = [], unchanged: [String] = [],
        warnings: [String] = [], problems: [ConfigKeyProblem] = []
    ) {
        self.kafkaVersion = kafkaVersion
        self.changes = changes
        self.unchanged = unchanged
        self.warnings = warnings
        self.problems = problems
    }

    /// Nodes that need a restart for some change, ascending.
    public var restartNodes: [Int32] {
        Set(changes.filter { $0.action == .restart }.flatMap(\.nodes)).sorted()
    }

    public var restartRequired: Bool { !restartNodes.isEmpty }

    /// Every alteration of the dynamic changes.
    public var alterations: [PlannedAlteration] { changes.flatMap(\.alterations) }

    public var dynamicChanges: [ConfigChange] { changes.filter { $0.action == .dynamic } }
}
