import KafkaModel
public import KafkaPolicies

/// Classifies a desired broker config against what the cluster reports: for each key, no-op, or a change with
/// its scope (read-only / per-broker / cluster-wide), its action (restart / dynamic) and the nodes it touches.
///
/// Pure: no I/O. The rules it applies beyond Kafka's update-mode table are in `KafkaConfigRules` and
/// docs/config.md.
public struct ConfigClassifier: Sendable {
    public let catalog: ConfigCatalog

    public init(version: KafkaVersion) {
        catalog = ConfigCatalog.broker(version: version)
    }

    /// - Parameters:
    ///   - nodes: the nodes to change; nil means every node in `current`, and cluster-wide keys are then set
    ///     once at the cluster default. With explicit nodes, cluster-wide keys are set per broker on those nodes.
    public func plan(desired: DesiredConfig, current: CurrentClusterConfig, nodes: [Int32]? = nil)
        -> ConfigChangePlan
    {
        var plan = ConfigChangePlan(kafkaVersion: catalog.resolution)
        if let w = catalog.resolution.warning { plan.warnings.append(w) }
        let clusterPlan = nodes == nil
        var targets = (nodes ?? current.nodeIDs).sorted()
        if let nodes {
            let unknown = nodes.filter { current.nodes[$0] == nil }
            for id in unknown {
                plan.problems.append(
                    ConfigKeyProblem(key: "--node \(id)", line: nil, message: "node \(id) is not in the cluster"))
            }
            targets.removeAll { unknown.contains($0) }
        }
        if targets.isEmpty { return plan }
        let context = Context(
            catalog: catalog, desired: desired, current: current, targets: targets, clusterPlan: clusterPlan)
        for entry in desired.entries {
            context.classify(entry, into: &plan)
        }
        if let w = Self.clearElrRestartWarning(plan) { plan.warnings.append(w) }
        return plan
    }

    /// Kafka 4.1.0 (ELR on by default) writes an all-topics ClearElrRecord when the cluster-default
    /// min.insync.replicas changes; a node that replays it from before its next metadata snapshot, with a topic
    /// deleted since that snapshot, dies at start-up (reproduced: docs/real-kafka-4.1.md). Other 4.1 patch
    /// releases are warned about too: whether a later one fixed it is not known here.
    static func clearElrRestartWarning(_ plan: ConfigChangePlan) -> String? {
        let version = plan.kafkaVersion.requested
        guard version.major == 4, version.minor == 1 else { return nil }
        let changesDefault = plan.changes.contains { change in
            change.key == "min.insync.replicas" && change.alterations.contains { $0.target == .clusterDefault }
        }
        guard changesDefault else { return nil }
        return "changing the cluster-default min.insync.replicas on Kafka \(version): on Kafka 4.1.0 a node "
            + "restarted after this change and before its next metadata snapshot may crash at start-up if a topic "
            + "was deleted since its last snapshot (NullPointerException replaying the ClearElrRecord); restart "
            + "nodes only after a metadata snapshot (metadata.log.max.snapshot.interval.ms, 1 hour by default), "
            + "or roll with Ballast, which stops at the first node that does not come back"
    }
}

/// The classification of one key, with everything it needs at hand.
private struct Context {
    let catalog: ConfigCatalog
    let desired: DesiredConfig
    let current: CurrentClusterConfig
    let targets: [Int32]
    let clusterPlan: Bool

    /// What is known about a desired key.
    struct KeyInfo {
        var scope: UpdateMode
        var definition: ConfigDefinition?
        var listener: ListenerPrefixedKey?
        var sensitive: Bool
    }

    func classify(_ entry: DesiredConfig.Entry, into plan: inout ConfigChangePlan) {
        let key = entry.key
        guard let info = keyInfo(entry, plan: &plan) else { return }

        if KafkaConfigRules.nodeIdentityConfigs.contains(key), targets.count != 1 {
            plan.problems.append(
                ConfigKeyProblem(
                    key: key, line: entry.line,
                    message:
                        "a node's own setting is never part of a plan for several nodes; plan it with --node"))
            return
        }
        if let value = entry.value, let def = info.definition, let message = ValueCheck.problem(value, for: def) {
            plan.problems.append(ConfigKeyProblem(key: key, line: entry.line, message: message))
            return
        }
        if let value = entry.value {
            classifySet(entry, value: value, info: info, into: &plan)
        } else {
            classifyRemoval(entry, info: info, into: &plan)
        }
    }

    // MARK: Key lookup

    func keyInfo(_ entry: DesiredConfig.Entry, plan: inout ConfigChangePlan) -> KeyInfo? {
        let key = entry.key
        if key.hasPrefix(ListenerPrefixedKey.prefix) {
            guard let lk = ListenerPrefixedKey(key) else {
                plan.warnings.append(
                    "line \(entry.line): \(key) is not a listener.name.<listener>.<config> key; skipped")
                return nil
            }
            guard let def = catalog[lk.base] else {
                plan.warnings.append(unknownKeyWarning(lk.base, line: entry.line, whole: key))
                return nil
            }
            if KafkaConfigRules.listenerMechanismConfigs.contains(lk.base), lk.mechanism == nil {
                plan.problems.append(
                    ConfigKeyProblem(
                        key: key, line: entry.line,
                        message:
                            "Kafka reads \(lk.base) per listener only with a SASL mechanism segment: "
                            + "listener.name.\(lk.listener).<mechanism>.\(lk.base), e.g. "
                            + "listener.name.\(lk.listener).scram-sha-512.\(lk.base)"))
                return nil
            }
            if let m = lk.mechanism, !KafkaConfigRules.saslMechanisms.contains(m) {
                plan.warnings.append(
                    "line \(entry.line): \(key): '\(m)' is not a SASL mechanism Kafka ships "
                        + "(\(KafkaConfigRules.saslMechanisms.sorted().joined(separator: ", ")))")
            }
            if lk.listener != lk.listener.lowercased() {
                plan.warnings.append(
                    "line \(entry.line): \(key): Kafka matches listener prefixes in lower case "
                        + "(listener.name.\(lk.listener.lowercased()).…)")
            }
            let scope: UpdateMode =
                KafkaConfigRules.clusterLevelListenerConfigs.contains(lk.base) ? .clusterWide : .perBroker
            return KeyInfo(scope: scope, definition: def, listener: lk, sensitive: isSensitive(key, def))
        }
        if let def = catalog[key] {
            return KeyInfo(scope: def.updateMode ?? .readOnly, definition: def, sensitive: isSensitive(key, def))
        }
        if ConfigCatalog.undocumentedDynamicBrokerConfigs.contains(key) {
            return KeyInfo(scope: .clusterWide, definition: nil, sensitive: false)
        }
        plan.warnings.append(unknownKeyWarning(key, line: entry.line, whole: key))
        return nil
    }

    func isSensitive(_ key: String, _ def: ConfigDefinition?) -> Bool {
        if def?.isSensitive == true || KafkaConfigRules.looksSensitive(key) { return true }
        return current.nodes.values.contains { $0[key]?.isSensitive == true }
            || current.clusterDefault[key]?.isSensitive == true
    }

    func unknownKeyWarning(_ name: String, line: Int, whole: String) -> String {
        let subject = name == whole ? name : "\(whole) (config \(name))"
        let elsewhere = KafkaVersion.known.filter { ConfigCatalog.broker(version: $0)[name] != nil }
        if !elsewhere.isEmpty {
            let list = elsewhere.map(\.description).joined(separator: ", ")
            return
                "line \(line): \(subject) is not a broker config in Kafka \(catalog.version) (it is in \(list)); skipped"
        }
        var message = "line \(line): \(subject) is not a known broker config in Kafka \(catalog.version); skipped"
        if let near = NearestName.find(name, in: catalog.names + ConfigCatalog.undocumentedDynamicBrokerConfigs) {
            message += "; did you mean \(near)?"
        }
        return message
    }

    // MARK: Setting a value

    /// The outcome for one node.
    struct NodeVerdict: Hashable {
        var action: ConfigAction
        var reason: String?
    }

    func classifySet(_ entry: DesiredConfig.Entry, value: String, info: KeyInfo, into plan: inout ConfigChangePlan) {
        let key = entry.key
        let type = info.definition?.type
        // Nodes whose effective value differs. Sensitive values are never returned, so they always differ.
        let differing = targets.filter { node in
            info.sensitive || !ValueCheck.equal(current.entry(key, node: node)?.value, value, type: type)
        }
        warnAboutShadowingSynonyms(entry, nodes: differing, into: &plan)
        guard !differing.isEmpty else {
            plan.unchanged.append(key)
            return
        }

        var verdicts: [Int32: NodeVerdict] = [:]
        for node in differing { verdicts[node] = verdict(for: entry, value: value, info: info, node: node) }

        // A cluster-default change reaches every node; if a thread pool is out of bounds on one of them, Kafka
        // would accept it at the default and that broker would only log its failure. Restart them all instead.
        let useDefault = clusterPlan && info.scope == .clusterWide
        if useDefault, KafkaConfigRules.boundedThreadPools.contains(info.listener?.base ?? key),
            let bad = verdicts.first(where: {
                $0.value.action == .restart && !current.roles(of: $0.key).isControllerOnly
            })
        {
            let all = NodeVerdict(action: .restart, reason: "node \(bad.key): " + (bad.value.reason ?? "out of bounds"))
            for node in differing { verdicts[node] = all }
        }

        let groups = Dictionary(grouping: differing) { verdicts[$0]! }.map {
            (verdict: $0.key, nodes: $0.value.sorted())
        }
        let ordered = groups.sorted {
            ($0.verdict.action == .dynamic ? 0 : 1, $0.nodes[0]) < ($1.verdict.action == .dynamic ? 0 : 1, $1.nodes[0])
        }
        for (verdict, nodes) in ordered {
            var change = ConfigChange(
                key: key, from: nil, to: value, scope: info.scope, action: verdict.action, nodes: nodes.sorted(),
                isSensitive: info.sensitive, reason: verdict.reason)
            fillFrom(&change)
            if verdict.action == .dynamic {
                change.alterations = setAlterations(key: key, value: value, nodes: change.nodes, info: info, type: type)
                if change.alterations.contains(where: { $0.operation == .delete }) {
                    let ids = change.alterations.filter { $0.operation == .delete }.map {
                        String($0.target.resourceName)
                    }
                    let note =
                        "removes the per-broker override on node \(ids.joined(separator: ", ")) that would shadow the cluster default"
                    change.reason = [change.reason, note].compactMap { $0 }.joined(separator: "; ")
                }
            }
            plan.changes.append(change)
        }
    }

    /// Alterations for a live set: once at the cluster default for a cluster-wide key in a cluster plan (plus
    /// removal of per-broker overrides that would shadow it), else per broker.
    func setAlterations(key: String, value: String, nodes: [Int32], info: KeyInfo, type: ConfigType?)
        -> [PlannedAlteration]
    {
        guard clusterPlan, info.scope == .clusterWide else {
            return nodes.map { PlannedAlteration(target: .broker($0), key: key, operation: .set(value)) }
        }
        var out: [PlannedAlteration] = []
        let defaultValue = current.clusterDefault[key]
        if info.sensitive || defaultValue == nil || !ValueCheck.equal(defaultValue?.value, value, type: type) {
            out.append(PlannedAlteration(target: .clusterDefault, key: key, operation: .set(value)))
        }
        for node in nodes where current.entry(key, node: node)?.source == .dynamicBroker {
            out.append(PlannedAlteration(target: .broker(node), key: key, operation: .delete))
        }
        return out
    }

    /// Whether a node can take the new value live, and why not.
    func verdict(for entry: DesiredConfig.Entry, value: String, info: KeyInfo, node: Int32) -> NodeVerdict {
        let key = entry.key
        let roles = current.roles(of: node)
        let base = info.listener?.base ?? key
        var v = liveVerdict(entry, value: value, info: info, node: node)
        if v.action == .dynamic, roles.isControllerOnly, !KafkaConfigRules.controllerDynamicConfigs.contains(base) {
            v = NodeVerdict(
                action: .restart,
                reason: "controller-only nodes apply only "
                    + KafkaConfigRules.controllerDynamicConfigs.sorted().joined(separator: ", ") + " live")
        }
        return v
    }

    func liveVerdict(_ entry: DesiredConfig.Entry, value: String, info: KeyInfo, node: Int32) -> NodeVerdict {
        let key = entry.key
        if let lk = info.listener {
            let v = listenerVerdict(lk, node: node)
            if v.action == .dynamic, KafkaConfigRules.boundedThreadPools.contains(lk.base) {
                // A listener's pool starts at the base value until the listener has its own.
                let cur = current.entry(key, node: node)?.value ?? current.entry(lk.base, node: node)?.value
                if let bounded = threadPoolVerdict(current: cur, value) { return bounded }
            }
            return v
        }
        switch info.scope {
        case .readOnly:
            var reason: String?
            if let group = KafkaConfigRules.synonymGroup(of: key), group[0] != key {
                reason = "only \(group[0]) of its synonyms is dynamic; set \(group[0]) to change it live"
            }
            return NodeVerdict(action: .restart, reason: reason)
        case .perBroker:
            return perBrokerVerdict(key, value: value, node: node)
        case .clusterWide:
            if key == "min.insync.replicas", !clusterPlan, catalog.version >= KafkaVersion(major: 4, minor: 0) {
                return NodeVerdict(
                    action: .restart,
                    reason: "Kafka 4 refuses a per-broker min.insync.replicas while ELR is enabled (KIP-966); "
                        + "plan it for the whole cluster to set the cluster default")
            }
            if KafkaConfigRules.boundedThreadPools.contains(key),
                let v = threadPoolVerdict(current: current.entry(key, node: node)?.value, value)
            {
                return v
            }
            return NodeVerdict(action: .dynamic)
        }
    }

    func threadPoolVerdict(current currentValue: String?, _ value: String) -> NodeVerdict? {
        guard let new = Int(value), let cur = currentValue.flatMap({ Int($0) }), new != cur else { return nil }
        if new >= 1, new >= cur / 2, new <= cur * 2 { return nil }
        return NodeVerdict(
            action: .restart,
            reason:
                "Kafka resizes this pool live only within half to double the current value (\(cur / 2)...\(cur * 2)); "
                + "change it in steps or restart")
    }

    func perBrokerVerdict(_ key: String, value: String, node: Int32) -> NodeVerdict {
        if KafkaConfigRules.sslStoreConfigs.contains(key) {
            return NodeVerdict(
                action: .restart,
                reason: "Kafka reloads keystores and truststores live only per listener: "
                    + "set listener.name.<listener>.\(key)")
        }
        switch key {
        case "listeners":
            return listenersVerdict(value, node: node)
        case "listener.security.protocol.map":
            let nodeListeners = Set(
                ListenerEndpoint.parseList(current.entry("listeners", node: node)?.value).map(\.name))
            let old = ListenerEndpoint.parseProtocolMap(current.entry(key, node: node)?.value)
            let new = ListenerEndpoint.parseProtocolMap(value)
            let changed = nodeListeners.filter { old[$0] != nil && old[$0] != new[$0] }
            if !changed.isEmpty {
                return NodeVerdict(
                    action: .restart,
                    reason: "Kafka cannot change the security protocol of an existing listener live ("
                        + changed.sorted().joined(separator: ", ") + ")")
            }
            return NodeVerdict(action: .dynamic)
        case "advertised.listeners":
            return NodeVerdict(
                action: .restart,
                reason: "KRaft brokers register advertised listeners only at start-up (KAFKA-18405)")
        default:
            if KafkaConfigRules.isListenerBaseConfig(key) {
                return NodeVerdict(
                    action: .restart,
                    reason: "existing listeners take settings without a listener prefix only at restart")
            }
            return NodeVerdict(action: .dynamic)
        }
    }

    /// `listeners`: live only when listeners are added or removed; an existing listener keeps its address until
    /// restart, and an advertised listener cannot be removed.
    func listenersVerdict(_ value: String, node: Int32) -> NodeVerdict {
        let old = ListenerEndpoint.parseList(current.entry("listeners", node: node)?.value)
        let new = ListenerEndpoint.parseList(value)
        let oldByName = Dictionary(old.map { ($0.name, $0.address) }, uniquingKeysWith: { a, _ in a })
        let moved = new.filter { oldByName[$0.name] != nil && oldByName[$0.name] != $0.address }.map(\.name)
        if !moved.isEmpty {
            return NodeVerdict(
                action: .restart,
                reason: "an existing listener's address changes only at restart (" + moved.joined(separator: ", ")
                    + ")")
        }
        let removed = Set(old.map(\.name)).subtracting(new.map(\.name))
        let advertisedValue = current.entry("advertised.listeners", node: node)?.value
        let advertised = Set(
            ListenerEndpoint.parseList(advertisedValue ?? current.entry("listeners", node: node)?.value).map(\.name))
        let controllerNames = Set(
            (current.entry("controller.listener.names", node: node)?.value ?? "").split(separator: ",").map {
                String($0).trimmingWhitespace().uppercased()
            })
        let blocked = removed.intersection(advertised.union(controllerNames))
        if !blocked.isEmpty {
            return NodeVerdict(
                action: .restart,
                reason: "advertised or controller listeners cannot be removed live ("
                    + blocked.sorted().joined(separator: ", ") + ")")
        }
        return NodeVerdict(action: .dynamic)
    }

    /// `listener.name.<l>.<config>`: an existing listener changes only its stores and connection limits live; a
    /// listener added in the same plan takes its dynamic settings with it.
    func listenerVerdict(_ lk: ListenerPrefixedKey, node: Int32) -> NodeVerdict {
        let name = lk.listener.uppercased()
        let existing = Set(ListenerEndpoint.parseList(current.entry("listeners", node: node)?.value).map(\.name))
        if existing.contains(name) {
            if KafkaConfigRules.isLiveOnExistingListener(lk.base) { return NodeVerdict(action: .dynamic) }
            return NodeVerdict(
                action: .restart,
                reason: "listener \(lk.listener) exists, and an existing listener takes a new \(lk.base) only at "
                    + "restart (Kafka accepts it live but reloads only keystores, truststores, max.connections, "
                    + "max.connection.creation.rate and num.network.threads)")
        }
        let mode = catalog[lk.base]?.updateMode ?? .readOnly
        if mode == .readOnly, !KafkaConfigRules.listenerMechanismConfigs.contains(lk.base) {
            return NodeVerdict(
                action: .restart, reason: "\(lk.base) is read-only, so a new listener takes it only at restart")
        }
        let added = Set(ListenerEndpoint.parseList(desired["listeners"]?.value).map(\.name))
        if added.contains(name) { return NodeVerdict(action: .dynamic) }
        return NodeVerdict(
            action: .dynamic,
            reason: "listener \(lk.listener) is not defined on node \(node); the setting applies once it exists")
    }

    /// Warns when a read-only synonym is set while a higher-precedence synonym is set on a node: the change would
    /// never take effect, not even after a restart.
    func warnAboutShadowingSynonyms(_ entry: DesiredConfig.Entry, nodes: [Int32], into plan: inout ConfigChangePlan) {
        guard let group = KafkaConfigRules.synonymGroup(of: entry.key), let index = group.firstIndex(of: entry.key),
            index > 0
        else { return }
        for higher in group[..<index] {
            let shadowed = targets.filter { node in
                guard let e = current.entry(higher, node: node) else { return false }
                return e.value != nil && e.source != .defaultConfig
            }
            if !shadowed.isEmpty || desired[higher]?.value != nil {
                let where_ =
                    shadowed.isEmpty
                    ? "in the desired config" : "on node " + shadowed.map(String.init).joined(separator: ", ")
                plan.warnings.append(
                    "line \(entry.line): \(entry.key) has no effect while \(higher) is set (\(where_)); "
                        + "Kafka uses \(higher) first")
                return
            }
        }
    }

    // MARK: Removing an override

    func classifyRemoval(_ entry: DesiredConfig.Entry, info: KeyInfo, into plan: inout ConfigChangePlan) {
        let key = entry.key
        if info.scope == .readOnly, info.listener == nil {
            plan.warnings.append("line \(entry.line): \(key) is read-only, so it has no dynamic override to remove")
            plan.unchanged.append(key)
            return
        }
        var alterations: [PlannedAlteration] = []
        var touched: [Int32] = []
        let defaultSet = clusterPlan && current.clusterDefault[key] != nil
        if defaultSet { alterations.append(PlannedAlteration(target: .clusterDefault, key: key, operation: .delete)) }
        for node in targets {
            let e = current.entry(key, node: node)
            if e?.source == .dynamicBroker {
                alterations.append(PlannedAlteration(target: .broker(node), key: key, operation: .delete))
                touched.append(node)
            } else if defaultSet, e?.source == .dynamicDefaultBroker || e == nil {
                touched.append(node)
            }
        }
        guard !alterations.isEmpty else {
            plan.unchanged.append(key)
            return
        }
        let controllers = touched.filter {
            current.roles(of: $0).isControllerOnly
                && !KafkaConfigRules.controllerDynamicConfigs.contains(info.listener?.base ?? key)
        }
        let live = touched.filter { !controllers.contains($0) }
        if !live.isEmpty || touched.isEmpty {
            var change = ConfigChange(
                key: key, from: nil, to: nil, scope: info.scope, action: .dynamic, nodes: live,
                isSensitive: info.sensitive, alterations: alterations)
            fillFrom(&change)
            plan.changes.append(change)
        }
        if !controllers.isEmpty {
            var change = ConfigChange(
                key: key, from: nil, to: nil, scope: info.scope, action: .restart, nodes: controllers,
                isSensitive: info.sensitive, reason: "controller-only nodes apply this key only at restart")
            fillFrom(&change)
            plan.changes.append(change)
        }
    }

    /// `from`: the current value when the touched nodes agree, else per node.
    func fillFrom(_ change: inout ConfigChange) {
        let values = change.nodes.map { current.entry(change.key, node: $0)?.value }
        if let first = values.first, values.allSatisfy({ $0 == first }) {
            change.from = first
        } else if values.isEmpty {
            change.from = current.clusterDefault[change.key]?.value
        } else {
            for (node, value) in zip(change.nodes, values) { change.fromByNode[node] = .some(value) }
        }
    }
}
