public import KafkaModel
import KafkaPolicies

/// Local checks of desired values against Kafka's documented types and valid values, and value comparison.
/// Kafka's own validation (IncrementalAlterConfigs validateOnly) is the final word; this catches the plain
/// mistakes at plan time, when no broker is asked.
public enum ValueCheck {
    /// A sentence naming what is wrong with `value`, nil when it looks valid.
    static func problem(_ value: String, for def: ConfigDefinition) -> String? {
        let v = value.trimmingWhitespace()
        switch def.type {
        case .int, .short, .long:
            guard let n = Int64(v) else { return "'\(v)' is not a whole number (\(def.name) is \(def.type.rawValue))" }
            let limit: Int64 =
                switch def.type {
                case .short: Int64(Int16.max)
                case .int: Int64(Int32.max)
                default: Int64.max
                }
            let low: Int64 =
                switch def.type {
                case .short: Int64(Int16.min)
                case .int: Int64(Int32.min)
                default: Int64.min
                }
            if n > limit || n < low { return "\(v) does not fit in a \(def.type.rawValue)" }
            if let range = NumericRange(def.validValues), !range.contains(Double(n)) {
                return "\(v) is outside the valid values \(def.validValues ?? "")"
            }
        case .double:
            guard let d = Double(v) else { return "'\(v)' is not a number (\(def.name) is a double)" }
            if let range = NumericRange(def.validValues), !range.contains(d) {
                return "\(v) is outside the valid values \(def.validValues ?? "")"
            }
        case .boolean:
            if v.lowercased() != "true" && v.lowercased() != "false" { return "'\(v)' is not true or false" }
        case .string, .list:
            if let allowed = enumeration(def.validValues) {
                let items = def.type == .list ? v.split(separator: ",").map { String($0).trimmingWhitespace() } : [v]
                if let bad = items.first(where: { !allowed.contains($0.lowercased()) }) {
                    return "'\(bad)' is not one of \(def.validValues ?? "")"
                }
            }
        case .class, .password:
            break
        }
        return nil
    }

    /// "[compact, delete]" → {"compact", "delete"} (lower-cased); nil for ranges and free-form descriptions.
    static func enumeration(_ validValues: String?) -> Set<String>? {
        guard let s = validValues, s.hasPrefix("["), s.hasSuffix("]"), !s.contains("...") else { return nil }
        let items = s.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingWhitespace().lowercased() }
        guard !items.isEmpty, items.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else { return nil }
        return Set(items)
    }

    /// Whether two config values are the same value of `type`.
    /// Whether two values are the same for Kafka (numbers in Kafka's own notation, lists as sets of items).
    public static func equal(_ current: String?, _ desired: String?, type: ConfigType?) -> Bool {
        guard let current, let desired else { return current == nil && desired == nil }
        let a = current.trimmingWhitespace()
        let b = desired.trimmingWhitespace()
        if a == b { return true }
        switch type {
        case .int?, .short?, .long?:
            if let x = Int64(a), let y = Int64(b) { return x == y }
        case .double?:
            if let x = Double(a), let y = Double(b) { return x == y }
        case .boolean?:
            return a.lowercased() == b.lowercased()
        case .list?:
            let split = { (s: String) in
                s.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
            }
            return split(a) == split(b)
        default:
            break
        }
        return false
    }
}

/// A range like "[1,...]", "[0,...,100]" or "[-1,...]"; nil for anything else.
struct NumericRange {
    var low: Double
    var high: Double?

    init?(_ validValues: String?) {
        guard let s = validValues, s.hasPrefix("["), s.hasSuffix("]") else { return nil }
        let parts = s.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingWhitespace() }
        guard parts.count >= 2, parts[1] == "...", let low = Double(parts[0]) else { return nil }
        self.low = low
        if parts.count == 3 {
            guard let high = Double(parts[2]) else { return nil }
            self.high = high
        } else if parts.count == 2 {
            high = nil
        } else {
            return nil
        }
    }

    func contains(_ x: Double) -> Bool { x >= low && (high.map { x <= $0 } ?? true) }
}

/// The closest name by edit distance, for "did you mean" hints.
enum NearestName {
    static func find(_ name: String, in candidates: [String]) -> String? {
        let target = Array(name.lowercased().utf8)
        var best: (name: String, distance: Int)?
        for c in candidates {
            let d = distance(target, Array(c.lowercased().utf8))
            if best == nil || d < best!.distance { best = (c, d) }
        }
        guard let best, best.distance <= max(3, target.count / 3) else { return nil }
        return best.name
    }

    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}
