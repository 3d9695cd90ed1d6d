/// The rules about live config changes that Kafka's update-mode table does not show. Each set cites the Kafka
/// code it mirrors (apache/kafka `DynamicBrokerConfig.scala` and friends, 3.6–4.1).
enum KafkaConfigRules {
    /// `SslConfigs.RECONFIGURABLE_CONFIGS`: keystores and truststores. Kafka rejects them without a listener
    /// prefix ("These security configs can be dynamically updated only per-listener using the listener prefix"),
    /// and they are the only SSL settings an existing listener reloads live.
    static let sslStoreConfigs: Set<String> = [
        "ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
        "ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password",
        "ssl.keystore.key", "ssl.keystore.certificate.chain", "ssl.truststore.certificates",
    ]

    /// `DynamicBrokerConfig.ClusterLevelListenerConfigs`: listener configs that may also be set at the cluster
    /// default, with or without a listener prefix, and that an existing listener applies live.
    static let clusterLevelListenerConfigs: Set<String> = [
        "max.connections", "max.connection.creation.rate", "num.network.threads",
    ]

    /// `DynamicBrokerConfig.ListenerMechanismConfigs`: under a listener prefix these take a SASL mechanism
    /// segment, `listener.name.<listener>.<mechanism>.<config>`.
    static let listenerMechanismConfigs: Set<String> = [
        "sasl.jaas.config", "sasl.login.callback.handler.class", "sasl.login.class",
        "sasl.server.callback.handler.class", "connections.max.reauth.ms",
    ]

    /// SASL mechanisms Kafka brokers ship (lower-cased, as in config prefixes).
    static let saslMechanisms: Set<String> = ["plain", "scram-sha-256", "scram-sha-512", "gssapi", "oauthbearer"]

    /// Thread pools Kafka resizes live only within [current/2, current*2] and >= 1
    /// (`DynamicThreadPool`, `DataPlaneAcceptor` for num.network.threads, `LogCleaner`, `DynamicRemoteLogConfig`).
    /// Outside that range Kafka rejects the change, or, for a cluster-default change validated by one broker,
    /// another broker fails to apply it and only logs the error.
    static let boundedThreadPools: Set<String> = [
        "num.io.threads", "num.network.threads", "num.replica.fetchers", "num.recovery.threads.per.data.dir",
        "background.threads", "log.cleaner.threads", "remote.log.reader.threads",
        "remote.log.manager.copier.thread.pool.size", "remote.log.manager.expiration.thread.pool.size",
        "remote.log.manager.follower.thread.pool.size",
    ]

    /// Synonym groups, highest precedence first (`DynamicBrokerConfig.brokerConfigSynonyms`). Only the primary
    /// of each group is dynamic; a lower one is read-only and, when a higher one is set, has no effect at all.
    static let synonymGroups: [[String]] = [
        ["log.retention.ms", "log.retention.minutes", "log.retention.hours"],
        ["log.roll.ms", "log.roll.hours"],
        ["log.roll.jitter.ms", "log.roll.jitter.hours"],
    ]

    /// Keys that name one node: they differ by node, so a plan for several nodes never sets them, and they are
    /// never set at the cluster default.
    static let nodeIdentityConfigs: Set<String> = [
        "node.id", "broker.id", "broker.rack", "listeners", "advertised.listeners", "log.dir", "log.dirs",
        "metadata.log.dir",
    ]

    /// What a controller-only node reconfigures live (`DynamicBrokerConfig.addReconfigurables(controller)`):
    /// its request handler pool, metrics reporters and socket-server connection limits. Everything else takes
    /// effect on such a node only at restart.
    static let controllerDynamicConfigs: Set<String> = [
        "num.io.threads", "metric.reporters", "max.connections", "max.connection.creation.rate",
        "max.connections.per.ip", "max.connections.per.ip.overrides",
    ]

    /// Listener settings that change live on a listener that already exists. Its channel builder reconfigures
    /// only the SSL stores, and the socket server only the connection limits and network threads; Kafka accepts
    /// other prefixed settings of an existing listener (and rejects them when `listeners` changes in the same
    /// request: "Configs cannot be updated dynamically for existing listener") but never applies them live.
    static func isLiveOnExistingListener(_ base: String) -> Bool {
        sslStoreConfigs.contains(base) || clusterLevelListenerConfigs.contains(base)
    }

    /// Per-broker-mode settings that, without a listener prefix, configure how listeners are built. Kafka applies
    /// them to existing listeners only at restart ("Base configs may be defined only as STATIC_BROKER_CONFIG or
    /// DEFAULT_CONFIG and cannot be updated dynamically").
    static func isListenerBaseConfig(_ key: String) -> Bool {
        key.hasPrefix("ssl.") || key.hasPrefix("sasl.") || key == "principal.builder.class"
    }

    static func synonymGroup(of key: String) -> [String]? {
        synonymGroups.first { $0.contains(key) }
    }

    /// Names that look like they hold secrets even when the catalog does not know them.
    static func looksSensitive(_ key: String) -> Bool {
        key.hasSuffix(".password") || key.hasSuffix("sasl.jaas.config") || key.hasSuffix("ssl.keystore.key")
            || key.hasSuffix(".secret")
    }
}

/// A `listener.name.<listener>.[<mechanism>.]<config>` key, taken apart.
struct ListenerPrefixedKey: Sendable, Hashable {
    /// Lower-case listener name, as it appears in the prefix.
    var listener: String
    /// The SASL mechanism segment, for `KafkaConfigRules.listenerMechanismConfigs`.
    var mechanism: String?
    /// The config the prefix overrides.
    var base: String

    static let prefix = "listener.name."

    init?(_ key: String) {
        guard key.hasPrefix(Self.prefix) else { return nil }
        let rest = key.dropFirst(Self.prefix.count)
        guard let dot = rest.firstIndex(of: "."), dot != rest.startIndex else { return nil }
        listener = String(rest[..<dot])
        let tail = String(rest[rest.index(after: dot)...])
        guard !tail.isEmpty else { return nil }
        if let mech = KafkaConfigRules.listenerMechanismConfigs.first(where: { tail.hasSuffix("." + $0) }) {
            mechanism = String(tail.dropLast(mech.count + 1))
            base = mech
        } else {
            mechanism = nil
            base = tail
        }
    }
}

/// One endpoint of a `listeners` value: `NAME://host:port`.
struct ListenerEndpoint: Sendable, Hashable {
    var name: String
    var address: String

    /// Parses "PLAINTEXT://:9092,SSL://host:9093"; names are upper-cased as Kafka normalises them.
    static func parseList(_ value: String?) -> [ListenerEndpoint] {
        guard let value else { return [] }
        return value.split(separator: ",").compactMap { part in
            let s = String(part).trimmingWhitespace()
            guard let r = s.range(of: "://") else { return nil }
            return ListenerEndpoint(name: s[..<r.lowerBound].uppercased(), address: String(s[r.upperBound...]))
        }
    }

    /// Parses "PLAINTEXT:PLAINTEXT,SSL:SSL" into name → protocol, upper-cased.
    static func parseProtocolMap(_ value: String?) -> [String: String] {
        guard let value else { return [:] }
        var map: [String: String] = [:]
        for part in value.split(separator: ",") {
            let kv = part.split(separator: ":", maxSplits: 1).map { String($0).trimmingWhitespace() }
            if kv.count == 2 { map[kv[0].uppercased()] = kv[1].uppercased() }
        }
        return map
    }
}
