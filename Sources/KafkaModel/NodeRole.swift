/// A KRaft node's role (`process.roles`). A node has one or both; `Set<NodeRole>` is how every module says
/// which.
public enum NodeRole: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case broker
    case controller

    public static func < (a: NodeRole, b: NodeRole) -> Bool { a.rawValue < b.rawValue }
}

extension Set where Element == NodeRole {
    /// Parses a `process.roles` value ("broker,controller"); nil when it names neither role.
    public init?(processRoles: String) {
        let names = processRoles.split(separator: ",").map { $0.filter { !$0.isWhitespace }.lowercased() }
        let roles = Set(names.compactMap(NodeRole.init(rawValue:)))
        guard !roles.isEmpty else { return nil }
        self = roles
    }

    /// The roles as `process.roles` writes them: "broker", "controller" or "broker,controller".
    public var processRoles: String { sorted().map(\.rawValue).joined(separator: ",") }

    public var isControllerOnly: Bool { contains(.controller) && !contains(.broker) }
}
