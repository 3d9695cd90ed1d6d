import Foundation
public import KafkaModel

/// The four configs of Kafka's replication throttle (KIP-73): a rate on each broker (bytes per second, for the
/// leader's sending and the follower's fetching side), and on each topic the replicas it applies to, as
/// `partition:broker` entries (`*` for all).
public enum ThrottleConfig {
    public static let leaderRate = "leader.replication.throttled.rate"
    public static let followerRate = "follower.replication.throttled.rate"
    public static let leaderReplicas = "leader.replication.throttled.replicas"
    public static let followerReplicas = "follower.replication.throttled.replicas"
    public static let brokerKeys = [leaderRate, followerRate]
    public static let topicKeys = [leaderReplicas, followerReplicas]

    /// The throttle keys of a resource's kind.
    public static func keys(of resource: ConfigResource) -> [String] {
        resource.kind == .topic ? topicKeys : brokerKeys
    }
}

/// One throttle config of one resource (a broker's own level, or a topic).
public struct ThrottleKey: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var resource: ConfigResource
    public var key: String

    public init(_ resource: ConfigResource, _ key: String) {
        self.resource = resource
        self.key = key
    }

    public static func < (a: ThrottleKey, b: ThrottleKey) -> Bool {
        // utf8.count is O(1) (count walks the grapheme clusters); resource names are ASCII (Kafka's topic names
        // and broker ids), where both count the same.
        (a.resource.kind.rawValue, a.resource.name.utf8.count, a.resource.name, a.key)
            < (b.resource.kind.rawValue, b.resource.name.utf8.count, b.resource.name, b.key)
    }

    public var description: String { "\(key) of \(resource.displayName)" }
}

/// A throttle config's value before the execution touched it (nil: not set at that level); restored exactly.
public struct ThrottlePrior: Sendable, Hashable, Codable {
    public var key: ThrottleKey
    public var value: String?

    public init(key: ThrottleKey, value: String?) {
        self.key = key
        self.value = value
    }
}

/// A change to make with IncrementalAlterConfigs: set `value`, or delete the key when nil.
public struct ThrottleChange: Sendable, Hashable {
    public var key: ThrottleKey
    public var value: String?

    public init(key: ThrottleKey, value: String?) {
        self.key = key
        self.value = value
    }
}

/// A `*.replication.throttled.replicas` value as entries, and the merge of Ballast's entries into what a topic
/// already had.
public enum ThrottledReplicas {
    /// The entries of a list value (trimmed, empty ones dropped); nil for `*`.
    public static func entries(_ value: String?) -> [String]? {
        guard let value else { return [] }
        let parts = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if parts == ["*"] { return nil }
        return parts
    }

    /// `prior` with `ours` added after its own entries (in their order), each once. A prior of `*` already throttles
    /// every replica and is kept as it is; with nothing to add the prior is kept byte for byte.
    public static func merge(prior: String?, ours: [String]) -> String? {
        guard var list = entries(prior) else { return prior }
        let had = Set(list)
        let added = ours.filter { !had.contains($0) }
        if added.isEmpty { return prior }
        list += added
        return list.joined(separator: ",")
    }

    /// `partition:broker`, Kafka's entry format.
    public static func entry(partition: Int32, broker: Int32) -> String { "\(partition):\(broker)" }
}
