public import ConfigPlanning
public import KafkaModel
public import Logging

/// Applies the dynamic part of a `ConfigChangePlan`: IncrementalAlterConfigs validate-only first, then for real
/// (the cluster default once, then each broker), then DescribeConfigs until every node reports the new value or
/// the wait runs out. A key Kafka rejects is reported with Kafka's message and nothing is applied for it; a key
/// that fails part-way is rolled back where it was applied, and reported.
public struct ConfigApplier: Sendable {
    public struct Options: Sendable {
        /// How long to wait for every node to report the new values.
        public var verifyTimeout: Duration = .seconds(30)
        public var pollInterval: Duration = .milliseconds(500)

        public init(verifyTimeout: Duration = .seconds(30), pollInterval: Duration = .milliseconds(500)) {
            self.verifyTimeout = verifyTimeout
            self.pollInterval = pollInterval
        }
    }

    public let client: any ConfigAdminClient
    public let options: Options
    /// Measures the verify timeout and spaces the DescribeConfigs polls.
    public let clock: AnyClock
    let logger: Logger

    public init(
        client: any ConfigAdminClient, options: Options = Options(), clock: AnyClock = AnyClock(ContinuousClock()),
        logger: Logger
    ) {
        self.client = client
        self.options = options
        self.clock = clock
        self.logger = logger
    }

    /// - Parameter current: what the plan was computed from; used to roll back a key that fails part-way.
    public func apply(_ plan: ConfigChangePlan, current: CurrentClusterConfig) async throws -> ConfigApplyReport {
        var report = ConfigApplyReport(restartNodes: plan.restartNodes)
        let changes = plan.dynamicChanges
        guard !changes.isEmpty else { return report }
        let keys = orderedUnique(changes.map(\.key))
        var opsByKey: [String: [PlannedAlteration]] = [:]
        for change in changes { opsByKey[change.key, default: []] += change.alterations }

        // 1. Validate everything; find the keys Kafka rejects and drop them entirely.
        let rejected = try await validate(opsByKey)
        for (key, message) in rejected.sorted(by: { $0.key < $1.key }) {
            logger.warning("Kafka rejected a config change", metadata: [LogKey.configKey: "\(key)"])
            report.results.append(.init(key: key, status: .rejected, message: message, nodes: nodes(of: key, changes)))
            opsByKey[key] = nil
        }

        // 2. Apply: the cluster default first, then broker by broker.
        var appliedTargets: [String: [ConfigResourceTarget]] = [:]
        var failed: [String: String] = [:]
        let targets = Set(opsByKey.values.flatMap { $0.map(\.target) }).sorted()
        for target in targets {
            let ops = opsByKey.values.flatMap { $0 }.filter { $0.target == target && failed[$0.key] == nil }
            guard !ops.isEmpty else { continue }
            do {
                let answer = try await client.incrementalAlterConfigs([target: ops], validateOnly: false)
                if let error = answer[target] ?? nil {
                    for key in orderedUnique(ops.map(\.key)) { failed[key] = "\(target): \(error)" }
                } else {
                    for key in Set(ops.map(\.key)) { appliedTargets[key, default: []].append(target) }
                }
            } catch {
                // No answer: Kafka may or may not have applied it, so it is rolled back like the others.
                for key in orderedUnique(ops.map(\.key)) {
                    failed[key] = "\(target): no answer from Kafka (\(error))"
                    appliedTargets[key, default: []].append(target)
                }
            }
        }
        for key in keys where failed[key] != nil {
            var message = failed[key]!
            let done = appliedTargets[key] ?? []
            if !done.isEmpty {
                message += "; " + (await rollBack(key, on: done, current: current))
            }
            report.results.append(.init(key: key, status: .failed, message: message, nodes: nodes(of: key, changes)))
            opsByKey[key] = nil
        }

        // 3. Verify on every node the change touches.
        let toVerify = changes.filter { opsByKey[$0.key] != nil }
        let unverified = try await verify(toVerify)
        for key in keys where opsByKey[key] != nil {
            if let nodes = unverified[key] {
                report.results.append(
                    .init(
                        key: key, status: .unverified,
                        message: "node \(nodes.map(String.init).joined(separator: ", ")) did not report the new value "
                            + "within \(options.verifyTimeout)",
                        nodes: nodes))
            } else {
                report.results.append(.init(key: key, status: .applied, message: nil, nodes: nodes(of: key, changes)))
            }
        }
        report.results.sort { (keys.firstIndex(of: $0.key) ?? 0) < (keys.firstIndex(of: $1.key) ?? 0) }
        return report
    }

    /// Key → Kafka's message for every key that does not pass validate-only.
    func validate(_ opsByKey: [String: [PlannedAlteration]]) async throws -> [String: String] {
        var rejected: [String: String] = [:]
        var byTarget: [ConfigResourceTarget: [PlannedAlteration]] = [:]
        for ops in opsByKey.values { for op in ops { byTarget[op.target, default: []].append(op) } }
        guard !byTarget.isEmpty else { return [:] }
        let answer = try await client.incrementalAlterConfigs(byTarget, validateOnly: true)
        for target in byTarget.keys.sorted() {
            guard let error = answer[target] ?? nil else { continue }
            // Kafka answers per resource; find the keys that fail on their own.
            let ops = byTarget[target]!
            let keys = orderedUnique(ops.map(\.key))
            var culprits: [String: String] = [:]
            if keys.count > 1 {
                for key in keys {
                    let single = ops.filter { $0.key == key }
                    if let e = try await client.incrementalAlterConfigs([target: single], validateOnly: true)[target]
                        ?? nil
                    {
                        culprits[key] = "\(target): \(e)"
                    }
                }
            }
            let rest = ops.filter { culprits[$0.key] == nil }
            var restFails = culprits.isEmpty
            if !culprits.isEmpty, !rest.isEmpty {
                restFails =
                    (try await client.incrementalAlterConfigs([target: rest], validateOnly: true)[target] ?? nil)
                    != nil
            }
            for (key, message) in culprits { rejected[key] = rejected[key] ?? message }
            if restFails {
                for key in orderedUnique(rest.map(\.key)) { rejected[key] = rejected[key] ?? "\(target): \(error)" }
            }
        }
        return rejected
    }

    /// Restores the dynamic value a key had at `targets` before this apply; returns what happened, in words.
    func rollBack(_ key: String, on targets: [ConfigResourceTarget], current: CurrentClusterConfig) async -> String {
        var restored: [ConfigResourceTarget] = []
        var notRestored: [String] = []
        for target in targets {
            let before: ConfigEntry? =
                switch target {
                case .clusterDefault: current.clusterDefault[key]
                case .broker(let id): current.entry(key, node: id).flatMap { $0.source == .dynamicBroker ? $0 : nil }
                }
            let op: PlannedAlteration.Operation
            if let before {
                guard let value = before.value else {
                    notRestored.append("\(target) (its previous value is sensitive and unknown)")
                    continue
                }
                op = .set(value)
            } else {
                op = .delete
            }
            do {
                let answer = try await client.incrementalAlterConfigs(
                    [target: [PlannedAlteration(target: target, key: key, operation: op)]], validateOnly: false)
                if let e = answer[target] ?? nil {
                    notRestored.append("\(target) (\(e))")
                } else {
                    restored.append(target)
                }
            } catch {
                notRestored.append("\(target) (no answer: \(error))")
            }
        }
        var parts: [String] = []
        if !restored.isEmpty { parts.append("rolled back on " + restored.map(\.description).joined(separator: ", ")) }
        if !notRestored.isEmpty { parts.append("NOT rolled back on " + notRestored.joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    }

    /// Key → nodes that still do not report the new value after the wait.
    func verify(_ changes: [ConfigChange]) async throws -> [String: [Int32]] {
        let nodes = Set(changes.flatMap(\.nodes)).sorted()
        guard !nodes.isEmpty else { return [:] }
        let deadline = clock.elapsed + options.verifyTimeout
        while true {
            let described: [Int32: [String: ConfigEntry]]
            do {
                described = try await client.describeBrokerConfigs(nodes: nodes)
            } catch {
                // A node that does not answer is not verified; try again until the deadline.
                logger.info("DescribeConfigs failed while verifying", metadata: [LogKey.error: "\(error)"])
                if clock.elapsed >= deadline {
                    return Dictionary(uniqueKeysWithValues: changes.map { ($0.key, $0.nodes) })
                }
                try await clock.sleep(for: options.pollInterval)
                continue
            }
            // Some dynamic-only keys (replication throttles) are not in a broker's own description; for those
            // set at the cluster default, the default resource is what can be checked.
            let missing = changes.contains { c in
                c.alterations.contains { $0.target == .clusterDefault }
                    && c.nodes.contains { described[$0]?[c.key] == nil }
            }
            let defaults = missing ? ((try? await client.describeClusterDefaultConfigs()) ?? [:]) : [:]
            var pending: [String: [Int32]] = [:]
            for change in changes {
                for node in change.nodes {
                    var entry = described[node]?[change.key]
                    if entry == nil, change.alterations.contains(where: { $0.target == .clusterDefault }) {
                        entry = defaults[change.key]
                        if change.to == nil, entry == nil { continue }
                    }
                    if !Self.reports(change, entry) { pending[change.key, default: []].append(node) }
                }
            }
            if pending.isEmpty || clock.elapsed >= deadline { return pending }
            try await clock.sleep(for: options.pollInterval)
        }
    }

    /// Whether a node's entry shows the change in effect.
    static func reports(_ change: ConfigChange, _ entry: ConfigEntry?) -> Bool {
        guard let to = change.to else {
            // Removal: no dynamic value left where the plan removed it.
            let removedDefault = change.alterations.contains { $0.target == .clusterDefault }
            guard let entry else { return true }
            return entry.source != .dynamicBroker && (!removedDefault || entry.source != .dynamicDefaultBroker)
        }
        guard let entry else { return false }
        if change.isSensitive || entry.isSensitive {
            return entry.source == .dynamicBroker || entry.source == .dynamicDefaultBroker
        }
        // Kafka reports numbers in its own form (1000000000.0 comes back as 1.0E9).
        return ValueCheck.equal(entry.value, to, type: nil) || ValueCheck.equal(entry.value, to, type: .list)
            || ValueCheck.equal(entry.value, to, type: .long) || ValueCheck.equal(entry.value, to, type: .double)
    }

    func nodes(of key: String, _ changes: [ConfigChange]) -> [Int32] {
        Set(changes.filter { $0.key == key }.flatMap(\.nodes)).sorted()
    }
}

func orderedUnique<T: Hashable>(_ items: [T]) -> [T] {
    var seen = Set<T>()
    return items.filter { seen.insert($0).inserted }
}
