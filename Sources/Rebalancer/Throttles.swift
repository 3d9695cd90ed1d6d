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
        // Kinds compared as numbers: `!=` on the enum itself compares the raw value strings (5× slower sorts).
        let (ka, kb) = (a.resource.kind.throttleOrder, b.resource.kind.throttleOrder)
        if ka != kb { return ka < kb }
        let (la, lb) = (a.resource.name.utf8.count, b.resource.name.utf8.count)
        if la != lb { return la < lb }
        if a.resource.name != b.resource.name { return a.resource.name < b.resource.name }
        return a.key < b.key
    }

    /// Resources in throttle order: by kind (brokers before topics), then by name, shorter first (broker ids
    /// numerically). utf8.count is O(1) (count walks the grapheme clusters); resource names are ASCII (Kafka's topic
    /// names and broker ids), where both count the same.
    public static func precedes(_ a: ConfigResource, _ b: ConfigResource) -> Bool {
        let (ka, kb) = (a.kind.throttleOrder, b.kind.throttleOrder)
        if ka != kb { return ka < kb }
        let (la, lb) = (a.name.utf8.count, b.name.utf8.count)
        return la != lb ? la < lb : a.name < b.name
    }

    // Hashed at every poll for every key the execution holds: the four throttle configs have distinct lengths, so the
    // key's length stands for its name (equal keys still hash equally).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(resource.kind.throttleOrder)
        hasher.combine(resource.name)
        hasher.combine(key.utf8.count)
    }

    public var description: String { "\(key) of \(resource.displayName)" }
}

extension ConfigResource.Kind {
    /// The order of `rawValue` (broker, brokerLogger, topic) as a number, cheap to compare and hash.
    var throttleOrder: Int {
        switch self {
        case .broker: 0
        case .brokerLogger: 1
        case .topic: 2
        }
    }
}

/// The throttle configs of one resource as read back: the value of each key of `ThrottleConfig.keys(of:)` set at
/// the resource's own level (a broker's DYNAMIC_BROKER_CONFIG, a topic's DYNAMIC_TOPIC_CONFIG), in that order; nil
/// when not set.
public struct ThrottleRead: Sendable, Hashable {
    public var resource: ConfigResource
    public var values: [String?]

    public init(resource: ConfigResource, values: [String?]) {
        self.resource = resource
        self.values = values
    }

    /// From the values set, by key name (names other than the resource's throttle keys are ignored).
    public init(_ resource: ConfigResource, _ set: [String: String]) {
        self.init(resource: resource, values: ThrottleConfig.keys(of: resource).map { set[$0] })
    }
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
