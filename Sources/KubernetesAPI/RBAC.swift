/// One rule of a Role or ClusterRole (`rbac.authorization.k8s.io/v1`).
public struct PolicyRule: Codable, Sendable, Hashable {
    public var apiGroups: [String]?
    /// `pods`, `pods/eviction`, `statefulsets/scale`, `*`, `*/scale`.
    public var resources: [String]?
    public var verbs: [String]
    public var resourceNames: [String]?

    public init(apiGroups: [String], resources: [String], verbs: [String], resourceNames: [String]? = nil) {
        self.apiGroups = apiGroups
        self.resources = resources
        self.verbs = verbs
        self.resourceNames = resourceNames
    }

    /// Whether the rule allows `verb` on `resource` (with its subresource, if any) of `group`, named `name`.
    public func allows(_ request: ResourceRequest) -> Bool {
        guard verbs.contains("*") || verbs.contains(request.verb) else { return false }
        guard let groups = apiGroups, groups.contains("*") || groups.contains(request.group) else { return false }
        let full = request.subresource.map { "\(request.resource)/\($0)" } ?? request.resource
        guard let resources,
            resources.contains(where: { r in
                r == "*" || r == full || (request.subresource != nil && r == "*/\(request.subresource!)")
            })
        else { return false }
        if let names = resourceNames, !names.isEmpty {
            guard let name = request.name, names.contains(name) else { return false }
        }
        return true
    }
}

/// A Role or ClusterRole: its kind, name, namespace and rules.
public struct RBACRole: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var rules: [PolicyRule]?

    public init(kind: String, metadata: ObjectMeta?, rules: [PolicyRule]) {
        apiVersion = "rbac.authorization.k8s.io/v1"
        self.kind = kind
        self.metadata = metadata
        self.rules = rules
    }

    public var isClusterRole: Bool { kind == "ClusterRole" }
}

/// What a request asks to do, in RBAC's terms (the verb from the HTTP method: GET of one object `get`, of a
/// collection `list`, with `?watch=true` `watch`; POST `create`; PUT `update`; PATCH `patch`; DELETE `delete`).
public struct ResourceRequest: Sendable, Hashable, CustomStringConvertible {
    public var verb: String
    /// `""` for the core group.
    public var group: String
    public var resource: String
    public var subresource: String?
    public var name: String?
    /// nil for a cluster-scoped resource.
    public var namespace: String?

    public init(
        verb: String, group: String, resource: String, subresource: String? = nil, name: String? = nil,
        namespace: String? = nil
    ) {
        self.verb = verb
        self.group = group
        self.resource = resource
        self.subresource = subresource
        self.name = name
        self.namespace = namespace
    }

    /// `delete pods` / `create pods/eviction` / `patch statefulsets.apps/scale`: verb and resource, as RBAC counts them.
    public var description: String {
        let g = group.isEmpty ? "" : ".\(group)"
        return "\(verb) \(resource)\(g)\(subresource.map { "/\($0)" } ?? "")"
    }
}

/// The permissions of one service account: Roles (bound in their namespace) and ClusterRoles (everywhere).
public struct RBACPolicy: Sendable, Hashable {
    public var roles: [RBACRole]

    public init(roles: [RBACRole]) { self.roles = roles }

    public func allows(_ request: ResourceRequest) -> Bool {
        roles.contains { role in
            if !role.isClusterRole {
                // A Role grants only inside its namespace, and never cluster-scoped resources.
                guard let ns = request.namespace, role.metadata?.namespace == nil || role.metadata?.namespace == ns
                else { return false }
            }
            return (role.rules ?? []).contains { $0.allows(request) }
        }
    }

    /// Every (verb, resource) pair the policy grants, for comparing with the calls a client makes.
    public var grants: Set<String> {
        var out = Set<String>()
        for role in roles {
            for rule in role.rules ?? [] {
                for group in rule.apiGroups ?? [] {
                    for resource in rule.resources ?? [] {
                        let parts = resource.split(separator: "/", maxSplits: 1).map(String.init)
                        for verb in rule.verbs {
                            out.insert(
                                ResourceRequest(
                                    verb: verb, group: group, resource: parts[0],
                                    subresource: parts.count > 1 ? parts[1] : nil
                                ).description)
                        }
                    }
                }
            }
        }
        return out
    }
}
