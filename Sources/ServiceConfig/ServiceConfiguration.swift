import Foundation
import Yams

/// DESIGN.md's service configuration (`ballast serve --config FILE`, `ballast topology check --config FILE`):
/// the Kafka clusters Ballast looks after, and for each its connection, its agents (one per Kubernetes cluster),
/// which Kubernetes cluster each rack is in, and the size limits of its node pools.
///
/// ```yaml
/// listen: 127.0.0.1:8080
/// store: sqlite:///var/lib/ballast/ballast.db
/// tokens: {admin: /etc/ballast/admin.token, read: /etc/ballast/read.token}
/// clusters:
///   - name: prod
///     bootstrap: 10.0.0.1:9092,10.0.0.2:9092
///     security: {protocol: SASL_SSL, caFile: ca.pem, saslMechanism: SCRAM-SHA-512, saslUsername: ballast,
///                saslPasswordFile: /etc/ballast/kafka.password}
///     agents:
///       - {name: east, url: http://agent-east:9300, tokenFile: /etc/ballast/agent-east.token}
///     racks: {az-a: east, az-b: west, az-c: central}
///     pools: {brokers: {min: 3, max: 30}}
/// ```
///
/// Parsing is strict: an unknown key, a missing one or a value of the wrong kind is refused with one sentence
/// naming it by its path (`clusters[0].agents[1].tokenFile`). Relative file paths are relative to the file.
public struct ServiceConfiguration: Sendable, Hashable {
    public var listen: String?
    public var store: String?
    /// Role (`admin`, `read`) → file holding that role's bearer token.
    public var tokens: [String: String]
    public var clusters: [Cluster]
    /// HTTPS for `ballast serve` (PEM files); nil: plain HTTP.
    public var tls: TLS?
    /// `ballast serve`'s alert handling.
    public var alerts = Alerts()
    /// This engine's name in the store (HA); nil: `host:pid`.
    public var engineId: String?
    /// How long the `engine` lease lasts without renewal (a standby takes over within about this time).
    public var leaseSeconds: Int = 15

    public struct TLS: Sendable, Hashable {
        public var certFile: String
        public var keyFile: String
    }

    public struct Alerts: Sendable, Hashable {
        /// A scale in one direction on one cluster is not repeated within this many seconds.
        public var cooldownSeconds: Int = 600
        /// Rolls pause when more than this many alerts labelled `ballast_rollout_blocking=true` fire on a cluster.
        public var blockingThreshold: Int = 0
        public init() {}
    }

    public struct Cluster: Sendable, Hashable {
        public var name: String
        /// `host:port` pairs.
        public var bootstrap: [String]
        public var security: Security
        public var agents: [Agent]
        /// Rack (`broker.rack`) → Kubernetes cluster, which is the name of its agent. Empty: not given.
        public var racks: [String: String]
        public var pools: [String: PoolLimits]

        public func agent(named name: String) -> Agent? { agents.first { $0.name == name } }
    }

    public struct Security: Sendable, Hashable {
        /// PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
        public var `protocol`: String = "PLAINTEXT"
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?
        public var verifyHostname: Bool = true
        /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
        public var saslMechanism: String?
        public var saslUsername: String?
        public var saslPasswordFile: String?

        public init() {}

        public var usesTLS: Bool { `protocol` == "SSL" || `protocol` == "SASL_SSL" }
        public var usesSASL: Bool { `protocol`.hasPrefix("SASL") }
    }

    /// One agent: the Kubernetes cluster it runs in is its name.
    public struct Agent: Sendable, Hashable {
        public var name: String
        public var url: String
        public var tokenFile: String

        /// The bearer token, read from `tokenFile`; throws naming the file.
        public func token() throws -> String {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ServiceConfigurationError("the token file \(tokenFile) of agent \(name) could not be read")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else {
                throw ServiceConfigurationError("the token file \(tokenFile) of agent \(name) is empty")
            }
            return token
        }
    }

    public struct PoolLimits: Sendable, Hashable {
        public var min: Int
        public var max: Int
        public init(min: Int, max: Int) {
            self.min = min
            self.max = max
        }
    }

    public func cluster(named name: String?) throws -> Cluster {
        if let name {
            guard let c = clusters.first(where: { $0.name == name }) else {
                throw ServiceConfigurationError(
                    "the configuration has no cluster \(name) (its clusters: "
                        + "\(clusters.map(\.name).joined(separator: ", ")))")
            }
            return c
        }
        return clusters[0]
    }

    // MARK: Loading

    public static func load(path: String) throws -> ServiceConfiguration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ServiceConfigurationError("the configuration file \(path) could not be read")
        }
        return try parse(yaml: text, source: path, directory: (path as NSString).deletingLastPathComponent)
    }

    /// `directory` resolves relative file paths (default: as they are).
    public static func parse(yaml text: String, source: String = "the configuration", directory: String? = nil)
        throws -> ServiceConfiguration
    {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ServiceConfigurationError("\(source) is not valid YAML: \(error)")
        }
        guard let root, let top = root.mapping else {
            throw ServiceConfigurationError("\(source) is not a YAML mapping of settings")
        }
        var reader = Reader(source: source, directory: directory)
        return try reader.configuration(top)
    }
}

public struct ServiceConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Walks the YAML, naming every value by its path.
struct Reader {
    let source: String
    let directory: String?

    func fail(_ path: String, _ problem: String) -> ServiceConfigurationError {
        ServiceConfigurationError("\(source): \(path) \(problem)")
    }

    func keys(_ m: Yams.Node.Mapping, _ path: String, allowed: [String], required: [String] = []) throws {
        for (k, _) in m {
            guard let key = k.string else { throw fail(path, "has a key that is not a string") }
            guard allowed.contains(key) else {
                let at = path.isEmpty ? key : "\(path).\(key)"
                throw fail(at, "is not a known setting (known here: \(allowed.joined(separator: ", ")))")
            }
        }
        for key in required where m[key] == nil {
            throw fail(path.isEmpty ? key : "\(path).\(key)", "is required")
        }
    }

    func string(_ m: Yams.Node.Mapping, _ key: String, _ path: String) throws -> String? {
        guard let node = m[key] else { return nil }
        guard node.scalar != nil, let s = node.string, !s.isEmpty else {
            throw fail("\(path).\(key)".trimmingPrefixDot, "must be a non-empty string")
        }
        return s
    }

    func file(_ m: Yams.Node.Mapping, _ key: String, _ path: String) throws -> String? {
        try string(m, key, path).map { p in
            guard let directory, !p.hasPrefix("/") else { return p }
            return (directory as NSString).appendingPathComponent(p)
        }
    }

    func int(_ m: Yams.Node.Mapping, _ key: String, _ path: String) throws -> Int {
        guard let node = m[key] else { throw fail("\(path).\(key)", "is required") }
        guard let i = node.int else { throw fail("\(path).\(key)".trimmingPrefixDot, "must be an integer") }
        return i
    }

    mutating func configuration(_ top: Yams.Node.Mapping) throws -> ServiceConfiguration {
        try keys(
            top, "", allowed: ["listen", "store", "tokens", "clusters", "tls", "alerts", "engineId", "leaseSeconds"],
            required: ["clusters"])
        var tls: ServiceConfiguration.TLS?
        if let t = top["tls"] {
            guard let m = t.mapping else { throw fail("tls", "must be {certFile: FILE, keyFile: FILE}") }
            try keys(m, "tls", allowed: ["certFile", "keyFile"], required: ["certFile", "keyFile"])
            tls = ServiceConfiguration.TLS(
                certFile: try file(m, "certFile", "tls")!, keyFile: try file(m, "keyFile", "tls")!)
        }
        var alerts = ServiceConfiguration.Alerts()
        if let a = top["alerts"] {
            guard let m = a.mapping else { throw fail("alerts", "must be a mapping") }
            try keys(m, "alerts", allowed: ["cooldownSeconds", "blockingThreshold"])
            if m["cooldownSeconds"] != nil {
                alerts.cooldownSeconds = try int(m, "cooldownSeconds", "alerts")
                guard alerts.cooldownSeconds >= 0 else { throw fail("alerts.cooldownSeconds", "must be 0 or more") }
            }
            if m["blockingThreshold"] != nil {
                alerts.blockingThreshold = try int(m, "blockingThreshold", "alerts")
                guard alerts.blockingThreshold >= 0 else { throw fail("alerts.blockingThreshold", "must be 0 or more") }
            }
        }
        var tokens: [String: String] = [:]
        if let t = top["tokens"] {
            guard let m = t.mapping else { throw fail("tokens", "must map roles to token files") }
            try keys(m, "tokens", allowed: ["admin", "read"])
            for (k, _) in m { tokens[k.string!] = try file(m, k.string!, "tokens") }
        }
        guard let list = top["clusters"]?.sequence, !list.isEmpty else {
            throw fail("clusters", "must be a non-empty list of Kafka clusters")
        }
        var clusters: [ServiceConfiguration.Cluster] = []
        for (i, node) in list.enumerated() {
            let c = try cluster(node, "clusters[\(i)]")
            if clusters.contains(where: { $0.name == c.name }) {
                throw fail("clusters[\(i)].name", "\(c.name) is used twice")
            }
            clusters.append(c)
        }
        if let store = try string(top, "store", "") {
            guard store.hasPrefix("sqlite://") || store.hasPrefix("postgres://") || store.hasPrefix("postgresql://")
            else { throw fail("store", "must be sqlite:///PATH or postgres://USER@HOST:PORT/DB, not \(store)") }
        }
        return ServiceConfiguration(
            listen: try string(top, "listen", ""), store: try string(top, "store", ""), tokens: tokens,
            clusters: clusters, tls: tls, alerts: alerts, engineId: try string(top, "engineId", ""),
            leaseSeconds: try leaseSeconds(top))
    }

    func leaseSeconds(_ top: Yams.Node.Mapping) throws -> Int {
        guard top["leaseSeconds"] != nil else { return 15 }
        let n = try int(top, "leaseSeconds", "")
        guard n >= 3 else { throw fail("leaseSeconds", "must be 3 or more (the lease is renewed every third of it)") }
        return n
    }

    func cluster(_ node: Yams.Node, _ path: String) throws -> ServiceConfiguration.Cluster {
        guard let m = node.mapping else { throw fail(path, "must be a mapping") }
        try keys(
            m, path, allowed: ["name", "bootstrap", "security", "agents", "racks", "pools"],
            required: ["name", "bootstrap"])
        let name = try string(m, "name", path)!
        let bootstrap = try string(m, "bootstrap", path)!.split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        for server in bootstrap {
            let parts = server.split(separator: ":")
            guard parts.count >= 2, let port = Int(parts.last!), (1...65535).contains(port) else {
                throw fail("\(path).bootstrap", "'\(server)' is not host:port")
            }
        }
        var security = ServiceConfiguration.Security()
        if let s = m["security"] {
            guard let sm = s.mapping else { throw fail("\(path).security", "must be a mapping") }
            let at = "\(path).security"
            try keys(
                sm, at,
                allowed: [
                    "protocol", "caFile", "certFile", "keyFile", "verifyHostname", "saslMechanism", "saslUsername",
                    "saslPasswordFile",
                ], required: ["protocol"])
            security.protocol = try string(sm, "protocol", at)!.uppercased()
            guard ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].contains(security.protocol) else {
                throw fail("\(at).protocol", "must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
            }
            security.caFile = try file(sm, "caFile", at)
            security.certFile = try file(sm, "certFile", at)
            security.keyFile = try file(sm, "keyFile", at)
            if let v = sm["verifyHostname"] {
                guard let b = v.bool else { throw fail("\(at).verifyHostname", "must be true or false") }
                security.verifyHostname = b
            }
            security.saslMechanism = try string(sm, "saslMechanism", at)?.uppercased()
            security.saslUsername = try string(sm, "saslUsername", at)
            security.saslPasswordFile = try file(sm, "saslPasswordFile", at)
            if security.usesSASL {
                guard let mech = security.saslMechanism, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"].contains(mech)
                else { throw fail("\(at).saslMechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512") }
                guard security.saslUsername != nil else { throw fail("\(at).saslUsername", "is required") }
                guard security.saslPasswordFile != nil else { throw fail("\(at).saslPasswordFile", "is required") }
            }
            guard (security.certFile == nil) == (security.keyFile == nil) else {
                throw fail(at, "needs both certFile and keyFile, or neither")
            }
        }
        var agents: [ServiceConfiguration.Agent] = []
        if let a = m["agents"] {
            guard let list = a.sequence else { throw fail("\(path).agents", "must be a list") }
            for (j, node) in list.enumerated() {
                let at = "\(path).agents[\(j)]"
                guard let am = node.mapping else { throw fail(at, "must be a mapping") }
                try keys(am, at, allowed: ["name", "url", "tokenFile"], required: ["name", "url", "tokenFile"])
                let agent = ServiceConfiguration.Agent(
                    name: try string(am, "name", at)!, url: try string(am, "url", at)!,
                    tokenFile: try file(am, "tokenFile", at)!)
                guard let url = URL(string: agent.url), ["http", "https"].contains(url.scheme ?? ""),
                    url.host?.isEmpty == false
                else { throw fail("\(at).url", "'\(agent.url)' is not an http(s) URL") }
                if agents.contains(where: { $0.name == agent.name }) {
                    throw fail("\(at).name", "\(agent.name) is used twice")
                }
                agents.append(agent)
            }
        }
        var racks: [String: String] = [:]
        if let r = m["racks"] {
            guard let rm = r.mapping else { throw fail("\(path).racks", "must map racks to Kubernetes clusters") }
            for (k, v) in rm {
                guard let rack = k.string, let cluster = v.string, !cluster.isEmpty else {
                    throw fail("\(path).racks", "must map rack names to Kubernetes cluster names")
                }
                guard agents.contains(where: { $0.name == cluster }) else {
                    throw fail(
                        "\(path).racks.\(rack)",
                        "names Kubernetes cluster \(cluster), which has no agent (agents: "
                            + "\(agents.map(\.name).joined(separator: ", ")))")
                }
                racks[rack] = cluster
            }
        }
        var pools: [String: ServiceConfiguration.PoolLimits] = [:]
        if let p = m["pools"] {
            guard let pm = p.mapping else { throw fail("\(path).pools", "must map pool names to {min, max}") }
            for (k, v) in pm {
                guard let pool = k.string else { throw fail("\(path).pools", "has a pool name that is not a string") }
                let at = "\(path).pools.\(pool)"
                guard let lm = v.mapping else { throw fail(at, "must be {min: N, max: M}") }
                try keys(lm, at, allowed: ["min", "max"], required: ["min", "max"])
                let limits = ServiceConfiguration.PoolLimits(min: try int(lm, "min", at), max: try int(lm, "max", at))
                guard limits.min >= 0, limits.min <= limits.max else {
                    throw fail(at, "needs 0 ≤ min ≤ max, not min \(limits.min), max \(limits.max)")
                }
                pools[pool] = limits
            }
        }
        return ServiceConfiguration.Cluster(
            name: name, bootstrap: bootstrap, security: security, agents: agents, racks: racks, pools: pools)
    }
}

extension String {
    var trimmingPrefixDot: String { hasPrefix(".") ? String(dropFirst()) : self }
}
