import KafkaModel

/// A Kafka release, as "major.minor" or "major.minor.patch" (e.g. "4.1", "3.9.1").
///
/// Config update modes change only between minor releases, so lookups use major.minor; the patch is kept for
/// display.
public struct KafkaVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int?

    public init(major: Int, minor: Int, patch: Int? = nil) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses "4.1", "4.1.0", "3.9.1"; a suffix after the numbers ("3.9.1-SNAPSHOT", "4.0.0-rc1") is ignored.
    /// Returns nil for anything else.
    public init?(_ text: String) {
        let trimmed = text.trimmingWhitespace()
        let numeric = trimmed.prefix { $0.isNumber || $0 == "." }
        let rest = trimmed.dropFirst(numeric.count)
        guard rest.isEmpty || rest.first == "-" || rest.first == "+" else { return nil }
        let parts = numeric.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3,
            let major = Int(parts[0]), let minor = Int(parts[1])
        else { return nil }
        var patch: Int?
        if parts.count == 3 {
            guard let p = Int(parts[2]) else { return nil }
            patch = p
        }
        self.init(major: major, minor: minor, patch: patch)
    }

    /// The versions Ballast has config tables for, oldest first.
    public static var known: [KafkaVersion] { GeneratedConfigTables.knownVersions }

    /// This version without its patch: the key of the config tables.
    public var minorRelease: KafkaVersion { KafkaVersion(major: major, minor: minor) }

    public var description: String {
        if let patch { "\(major).\(minor).\(patch)" } else { "\(major).\(minor)" }
    }

    public static func < (lhs: KafkaVersion, rhs: KafkaVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch ?? 0) < (rhs.major, rhs.minor, rhs.patch ?? 0)
    }

    /// The known version whose tables apply to this one: itself when known, else the nearest known one.
    public func resolved() -> ResolvedKafkaVersion {
        let key = minorRelease
        let known = Self.known
        if known.contains(key) {
            return ResolvedKafkaVersion(requested: self, version: key, isExact: true)
        }
        // Nearest by release order; a version between two known ones takes the older (its rules are a subset
        // of what ships later), one beyond either end takes that end.
        let nearest = known.last { $0 < key } ?? known[0]
        return ResolvedKafkaVersion(requested: self, version: nearest, isExact: false)
    }
}

/// The outcome of mapping a requested Kafka version onto a known config table.
public struct ResolvedKafkaVersion: Sendable, Hashable {
    /// What was asked for (detected from the broker or given with --kafka-version).
    public var requested: KafkaVersion
    /// The known version whose tables are used.
    public var version: KafkaVersion
    /// False when `requested` has no table of its own and `version` is the nearest known one.
    public var isExact: Bool

    /// A one-sentence warning when the tables are those of another version, nil otherwise.
    public var warning: String? {
        isExact
            ? nil
            : "Kafka \(requested) has no config table; using the nearest known version, \(version)."
    }
}
