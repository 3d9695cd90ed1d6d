public import KafkaModel
import KafkaPolicies

/// Broker and topic configs with Kafka's precedence and its AlterConfigs rules (`ConfigAdminManager`,
/// `DynamicBrokerConfig.validate`).
extension SimCluster {
    // MARK: effective values

    /// The effective broker config: per-broker dynamic > cluster-default dynamic > static > default.
    public func brokerConfig(_ id: Int32, _ key: String) -> (value: String?, source: ConfigSource)? {
        if let n = node(id), let v = n.dynamicConfigs[key] { return (v, .dynamicBroker) }
        if let v = clusterDefaultConfigs[key] { return (v, .dynamicDefaultBroker) }
        if let n = node(id), let v = n.staticConfigs[key] { return (v, .staticBroker) }
        if let d = catalog.broker[key] { return (d.defaultValue, .defaultConfig) }
        return nil
    }

    /// A config the controller acts on (session timeout, auto leader rebalance): the cluster default
    /// or the active controller's static value.
    func controllerConfig(_ key: String) -> String {
        if let v = clusterDefaultConfigs[key] { return v }
        let controller = quorum.leader >= 0 ? quorum.leader : (nodes.first?.id ?? -1)
        if let n = node(controller), let v = n.staticConfigs[key] { return v }
        return catalog.broker[key]?.defaultValue ?? ""
    }

    /// The effective topic config: topic override > the broker synonym (cluster default, static) > default.
    public func topicConfig(topic t: Int, _ key: String, broker: Int32? = nil) -> (
        value: String?, source: ConfigSource
    )? {
        if let v = topics[t].configs[key] { return (v, .dynamicTopic) }
        guard let def = catalog.topic[key] else { return nil }
        if let syn = def.brokerSynonym {
            if let v = clusterDefaultConfigs[syn] { return (v, .dynamicDefaultBroker) }
            let b = broker ?? nodes.first(where: { $0.isBroker })?.id ?? -1
            if let n = node(b), let v = n.staticConfigs[syn] { return (v, .staticBroker) }
        }
        return (def.defaultValue, .defaultConfig)
    }

    public func minInsyncReplicas(topic t: Int) -> Int {
        Int(topicConfig(topic: t, "min.insync.replicas")?.value ?? "1") ?? 1
    }

    func uncleanEnabled(topic t: Int) -> Bool {
        topicConfig(topic: t, "unclean.leader.election.enable")?.value == "true"
    }

    // MARK: describe

    public func describeConfigs(_ resource: ConfigResource, keys: [String]?, answeringBroker: Int32) throws(SimFailure)
        -> [ConfigEntry]
    {
        let name = resource.name
        switch resource.kind {
        case .brokerLogger:
            throw SimFailure(.invalidRequest, "Broker loggers are not simulated.")
        case .topic:
            guard let t = topicIndex[name], !topics[t].deleted else {
                throw SimFailure(.unknownTopicOrPartition, "The topic '\(name)' does not exist.")
            }
            let names = keys ?? catalog.topicOrder
            return names.compactMap { key in
                guard let def = catalog.topic[key],
                    let (value, source) = topicConfig(topic: t, key, broker: answeringBroker)
                else { return nil }
                var synonyms: [ConfigSynonym] = []
                if let v = topics[t].configs[key] { synonyms.append(.init(name: key, value: v, source: .dynamicTopic)) }
                if let syn = def.brokerSynonym {
                    if let v = clusterDefaultConfigs[syn] {
                        synonyms.append(.init(name: syn, value: v, source: .dynamicDefaultBroker))
                    }
                    if let v = node(answeringBroker)?.staticConfigs[syn] {
                        synonyms.append(.init(name: syn, value: v, source: .staticBroker))
                    }
                    if let d = catalog.broker[syn] {
                        synonyms.append(.init(name: syn, value: d.defaultValue, source: .defaultConfig))
                    }
                } else {
                    synonyms.append(.init(name: key, value: def.defaultValue, source: .defaultConfig))
                }
                let sensitive = def.type == .password
                return ConfigEntry(
                    name: key, value: sensitive ? nil : value, source: source, isReadOnly: false,
                    isSensitive: sensitive,
                    isDefault: source == .defaultConfig, synonyms: synonyms, type: def.type)
            }
        case .broker:
            if name.isEmpty {
                // The cluster-default resource lists only what is set at that level.
                let names = (keys ?? clusterDefaultConfigs.keys.sorted()).filter { clusterDefaultConfigs[$0] != nil }
                return names.map { key in
                    let def = brokerDefinition(key)
                    let sensitive = def?.type == .password
                    return ConfigEntry(
                        name: key, value: sensitive ? nil : clusterDefaultConfigs[key],
                        source: .dynamicDefaultBroker,
                        isReadOnly: def.map { $0.mode != .clusterWide } ?? false, isSensitive: sensitive,
                        synonyms: [
                            .init(
                                name: key, value: sensitive ? nil : clusterDefaultConfigs[key],
                                source: .dynamicDefaultBroker)
                        ], type: def?.type ?? .string)
                }
            }
            guard let id = Int32(name), let n = node(id), !n.removed else {
                throw SimFailure(.invalidRequest, "Broker id must be an integer and name a node, but it is: \(name)")
            }
            var names = keys ?? catalog.brokerOrder
            if keys == nil {
                let extra = Set(n.dynamicConfigs.keys).union(clusterDefaultConfigs.keys).union(n.staticConfigs.keys)
                    .filter { catalog.broker[$0] == nil }
                names += extra.sorted()
            }
            return names.compactMap { key in
                guard let (value, source) = brokerConfig(id, key) else { return nil }
                let def = brokerDefinition(key)
                let sensitive = def?.type == .password
                var synonyms: [ConfigSynonym] = []
                if let v = n.dynamicConfigs[key] {
                    synonyms.append(.init(name: key, value: v, source: .dynamicBroker))
                }
                if let v = clusterDefaultConfigs[key] {
                    synonyms.append(.init(name: key, value: v, source: .dynamicDefaultBroker))
                }
                if let v = n.staticConfigs[key] {
                    synonyms.append(.init(name: key, value: v, source: .staticBroker))
                }
                if let d = def, d.defaultValue != nil {
                    synonyms.append(.init(name: key, value: d.defaultValue, source: .defaultConfig))
                }
                if sensitive { for i in synonyms.indices { synonyms[i].value = nil } }
                return ConfigEntry(
                    name: key, value: sensitive ? nil : value, source: source,
                    isReadOnly: brokerMode(key) == .readOnly, isSensitive: sensitive,
                    isDefault: source == .defaultConfig, synonyms: synonyms, type: def?.type ?? .string)
            }
        }
    }

    // MARK: alter

    /// AlterConfigs (`incremental == false`: the given set replaces the level's dynamic configs) and
    /// IncrementalAlterConfigs, for one resource, sent to `answeringBroker`.
    public mutating func alterConfigs(
        _ resource: ConfigResource, _ changes: [ConfigAlteration], incremental: Bool, validateOnly: Bool,
        answeringBroker: Int32
    ) throws(SimFailure) {
        let names = changes.map(\.name)
        guard Set(names).count == names.count else {
            throw SimFailure(.invalidRequest, "Error due to duplicate config keys")
        }
        if !incremental {
            let nulls = changes.filter { $0.value == nil }.map(\.name)
            guard nulls.isEmpty else {
                throw SimFailure(.invalidRequest, "Null value not supported for : " + nulls.joined(separator: ", "))
            }
        }
        for c in changes where c.operation == .set && c.value == nil && incremental {
            throw SimFailure(.invalidRequest, "Null value not supported for : \(c.name)")
        }
        let name = resource.name
        switch resource.kind {
        case .brokerLogger:
            throw SimFailure(.invalidRequest, "Broker loggers are not simulated.")
        case .broker:
            var target: Int32?
            if !name.isEmpty {
                guard let id = Int32(name) else {
                    throw SimFailure(.invalidRequest, "Node id must be an integer, but it is: \(name)")
                }
                guard id == answeringBroker else {
                    throw SimFailure(
                        .invalidRequest, "Unexpected broker id, expected \(answeringBroker), but received \(name)")
                }
                target = id
            }
            let current = target.flatMap { node($0)?.dynamicConfigs } ?? clusterDefaultConfigs
            var props = incremental ? current : [:]
            for c in changes {
                if incremental {
                    try applyIncremental(
                        c, to: &props, type: catalog.broker[c.name]?.type,
                        defaultValue: catalog.broker[c.name]?.defaultValue)
                } else {
                    props[c.name] = c.value
                }
            }
            let changed = Set(changes.map(\.name))
            try validateBrokerDynamic(
                props, changed: changed, perBroker: target != nil, broker: target ?? answeringBroker)
            try requireQuorum()
            if validateOnly { return }
            if let target, let i = nodeIndex[target] {
                nodes[i].dynamicConfigs = props
            } else {
                // With ELR on, the controller clears every topic's ELR when the cluster default changes.
                let clearsElr =
                    elrEnabled && props["min.insync.replicas"] != clusterDefaultConfigs["min.insync.replicas"]
                clusterDefaultConfigs = props
                if clearsElr { noteClusterClearElr() }
            }
        case .topic:
            guard let t = topicIndex[name], !topics[t].deleted else {
                throw SimFailure(.unknownTopicOrPartition, "The topic '\(name)' does not exist.")
            }
            var props = incremental ? topics[t].configs : [:]
            for c in changes {
                if incremental {
                    guard let def = catalog.topic[c.name] else {
                        throw SimFailure(.invalidConfig, "Unknown topic config name: \(c.name)")
                    }
                    try applyIncremental(c, to: &props, type: def.type, defaultValue: def.defaultValue)
                } else {
                    props[c.name] = c.value
                }
            }
            for (k, v) in props.sorted(by: { $0.key < $1.key }) { try validateTopicConfig(k, v) }
            try requireQuorum()
            if validateOnly { return }
            topics[t].configs = props
        }
        quorum.append(records: 1)
        healthDirty = true
    }

    func applyIncremental(
        _ c: ConfigAlteration, to props: inout [String: String], type: ConfigType?, defaultValue: String?
    )
        throws(SimFailure)
    {
        switch c.operation {
        case .set: props[c.name] = c.value
        case .delete: props[c.name] = nil
        case .append, .subtract:
            guard let type else { throw SimFailure(.invalidConfig, "Unknown config name: \(c.name)") }
            guard type == .list else {
                let verb = c.operation == .append ? "append" : "subtract"
                throw SimFailure(.invalidRequest, "Config value \(verb) is not allowed for config key: \(c.name)")
            }
            let old = (props[c.name] ?? defaultValue ?? "").split(separator: ",").map(String.init)
            let given = (c.value ?? "").split(separator: ",").map(String.init)
            let new = c.operation == .append ? old + given : old.filter { !given.contains($0) }
            props[c.name] = new.joined(separator: ",")
        }
    }

    /// The update mode Kafka applies to a key: listener-prefixed keys (`listener.name.L.KEY`) take the
    /// mode of KEY, security keys always per broker; unknown keys are accepted as custom configs.
    func brokerMode(_ key: String) -> UpdateMode? {
        if key.hasPrefix("listener.name.") {
            let rest = key.dropFirst("listener.name.".count)
            guard let dot = rest.firstIndex(of: ".") else { return nil }
            let base = String(rest[rest.index(after: dot)...])
            if Self.isSecurityKey(base) { return .perBroker }
            return catalog.broker[base].map { $0.mode == .readOnly ? .perBroker : $0.mode }
        }
        return catalog.broker[key]?.mode
    }

    /// The definition that governs a key: its own, or for `listener.name.L.KEY` that of KEY.
    func brokerDefinition(_ key: String) -> BrokerConfigDefinition? {
        if let d = catalog.broker[key] { return d }
        guard key.hasPrefix("listener.name.") else { return nil }
        let rest = key.dropFirst("listener.name.".count)
        guard let dot = rest.firstIndex(of: ".") else { return nil }
        return catalog.broker[String(rest[rest.index(after: dot)...])]
    }

    static func isSecurityKey(_ key: String) -> Bool { key.hasPrefix("ssl.") || key.hasPrefix("sasl.") }

    /// Thread pools Kafka resizes live, within half and double of the current size.
    static let threadPoolKeys: Set<String> = [
        "num.io.threads", "num.network.threads", "background.threads", "num.replica.fetchers",
        "num.recovery.threads.per.data.dir",
    ]

    /// `DynamicBrokerConfig.validate` and the reconfigurables' checks: read-only keys, security keys
    /// without a listener prefix, value types and ranges, thread-pool bounds, per-broker keys at the
    /// default level, broker-level min.insync.replicas under ELR.
    func validateBrokerDynamic(_ props: [String: String], changed: Set<String>, perBroker: Bool, broker: Int32)
        throws(SimFailure)
    {
        let keys = props.keys.sorted()
        let nonDynamic = keys.filter { brokerMode($0) == .readOnly }
        if !nonDynamic.isEmpty {
            throw SimFailure(
                .invalidRequest, "Cannot update these configs dynamically: Set(\(nonDynamic.joined(separator: ", ")))")
        }
        let unprefixed = keys.filter { Self.isSecurityKey($0) && brokerMode($0) == .perBroker }
        if !unprefixed.isEmpty {
            throw SimFailure(
                .invalidRequest,
                "These security configs can be dynamically updated only per-listener using the listener prefix: HashSet(\(unprefixed.joined(separator: ", ")))"
            )
        }
        for k in keys {
            guard let def = catalog.broker[k], let v = props[k] else { continue }
            try Self.checkType(k, v, def.type)
            try Self.checkValidValues(k, v, def)
        }
        for k in keys where changed.contains(k) && Self.threadPoolKeys.contains(k) {
            guard let v = props[k].flatMap({ Int($0.trimmingSpaces) }),
                let current = brokerConfig(broker, k)?.value.flatMap({ Int($0) })
            else { continue }
            let why: String
            if v > current * 2 {
                why = "value should not be greater than double the current value \(current)"
            } else if v * 2 < current {
                why = "value should be at least half the current value \(current)"
            } else {
                continue
            }
            throw SimFailure(
                .invalidRequest,
                "Invalid value org.apache.kafka.common.config.ConfigException: Dynamic thread count update validation failed for \(k)=\(v), \(why) for configuration Invalid dynamic configuration"
            )
        }
        if changed.contains("log.cleaner.threads"), props["log.cleaner.threads"].flatMap({ Int($0) }) == 0 {
            // Kafka 4.1's LogCleaner divides by the thread count while validating (sic).
            throw SimFailure(.invalidRequest, "/ by zero")
        }
        if !perBroker {
            let perBrokerOnly = keys.filter { brokerMode($0) == .perBroker }
            if !perBrokerOnly.isEmpty {
                throw SimFailure(
                    .invalidRequest,
                    "Cannot update these configs at default cluster level, broker id must be specified: Set(\(perBrokerOnly.joined(separator: ", ")))"
                )
            }
        } else if changed.contains("min.insync.replicas") && props["min.insync.replicas"] != nil && elrEnabled {
            throw SimFailure(.invalidConfig, "Broker-level min.insync.replicas cannot be altered while ELR is enabled.")
        }
    }

    /// Kafka 4.1 clusters start with eligible leader replicas on (metadata version 4.1-IV1).
    var elrEnabled: Bool {
        (KafkaVersion(catalog.kafkaVersion) ?? KafkaVersion(major: 4, minor: 1)) >= KafkaVersion(major: 4, minor: 1)
    }

    /// Ranges ("[1,...]", "[0,...,9]") and string choices ("[gzip, zstd]") of Kafka's ConfigDef validators.
    static func checkValidValues(_ key: String, _ value: String, _ def: BrokerConfigDefinition) throws(SimFailure) {
        guard let valid = def.validValues, valid.hasPrefix("["), valid.hasSuffix("]") else { return }
        let inner = valid.dropFirst().dropLast()
        let parts = inner.split(separator: ",").map { String($0.trimmingSpaces) }
        let v = String(value.trimmingSpaces)
        if parts.count >= 2, parts[1] == "..." {
            guard let n = Double(v) else { return }
            if let lo = Double(parts[0]), n < lo {
                throw SimFailure(
                    .invalidRequest,
                    "Invalid value \(value) for configuration \(key): Value must be at least \(parts[0])")
            }
            if parts.count == 3, let hi = Double(parts[2]), n > hi {
                throw SimFailure(
                    .invalidRequest,
                    "Invalid value \(value) for configuration \(key): Value must be no more than \(parts[2])")
            }
        } else if def.type == .string, !parts.contains(v) {
            throw SimFailure(
                .invalidRequest,
                "Invalid value \(value) for configuration \(key): String must be one of: \(parts.joined(separator: ", "))"
            )
        }
    }

    func validateTopicConfig(_ key: String, _ value: String) throws(SimFailure) {
        guard let def = catalog.topic[key] else {
            throw SimFailure(.invalidConfig, "Unknown topic config name: \(key)")
        }
        do {
            try Self.checkType(key, value, def.type)
        } catch {
            throw SimFailure(.invalidConfig, error.message)
        }
        if key == "min.insync.replicas", let v = Int(value), v < 1 {
            throw SimFailure(
                .invalidConfig, "Invalid value \(value) for configuration min.insync.replicas: Value must be at least 1"
            )
        }
    }

    static func checkType(_ key: String, _ value: String, _ type: ConfigType) throws(SimFailure) {
        let v = value.trimmingSpaces
        let ok: Bool
        switch type {
        case .int: ok = Int32(v) != nil
        case .short: ok = Int16(v) != nil
        case .long: ok = Int64(v) != nil
        case .double: ok = Double(v) != nil
        case .boolean: ok = v.lowercased() == "true" || v.lowercased() == "false"
        default: ok = true
        }
        guard ok else {
            let typeName: String
            switch type {
            case .int: typeName = "Not a number of type INT"
            case .short: typeName = "Not a number of type SHORT"
            case .long: typeName = "Not a number of type LONG"
            case .double: typeName = "Not a number of type DOUBLE"
            case .boolean: typeName = "Expected value to be either true or false"
            default: typeName = "Invalid value"
            }
            throw SimFailure(.invalidRequest, "Invalid value \(value) for configuration \(key): \(typeName)")
        }
    }
}
