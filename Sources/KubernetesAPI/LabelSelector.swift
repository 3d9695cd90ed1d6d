/// A Kubernetes label selector in its string form (`app.kubernetes.io/name=kafka,tier!=cache,zone in (a,b),!legacy`),
/// as `?labelSelector=` carries it and `kubectl -l` writes it.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    public var requirements: [Requirement]

    public init(requirements: [Requirement]) { self.requirements = requirements }

    /// Every label of `labels`, as equalities.
    public init(matchLabels: [String: String]) {
        requirements = matchLabels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
    }

    /// Parses the string form; throws naming the part that is not a requirement. An empty string selects everything.
    public init(parsing text: String) throws(SelectorError) {
        var requirements: [Requirement] = []
        for part in Self.split(text) {
            let p = part.trimmed
            if p.isEmpty { continue }
            requirements.append(try Self.requirement(p, in: text))
        }
        self.requirements = requirements
    }

    public func matches(_ labels: [String: String]?) -> Bool {
        let labels = labels ?? [:]
        return requirements.allSatisfy { r in
            switch r {
            case .equals(let k, let v): labels[k] == v
            case .notEquals(let k, let v): labels[k] != v
            case .in(let k, let vs): labels[k].map { vs.contains($0) } ?? false
            case .notIn(let k, let vs): labels[k].map { !vs.contains($0) } ?? true
            case .exists(let k): labels[k] != nil
            case .doesNotExist(let k): labels[k] == nil
            }
        }
    }

    /// The labels a selector of equalities only requires (what a new object must carry to be selected).
    public var equalities: [String: String] {
        var out: [String: String] = [:]
        for case .equals(let k, let v) in requirements { out[k] = v }
        return out
    }

    public var description: String {
        requirements.map { r in
            switch r {
            case .equals(let k, let v): "\(k)=\(v)"
            case .notEquals(let k, let v): "\(k)!=\(v)"
            case .in(let k, let vs): "\(k) in (\(vs.sorted().joined(separator: ",")))"
            case .notIn(let k, let vs): "\(k) notin (\(vs.sorted().joined(separator: ",")))"
            case .exists(let k): k
            case .doesNotExist(let k): "!\(k)"
            }
        }.joined(separator: ",")
    }

    /// Splits on commas outside parentheses.
    static func split(_ text: String) -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var start = text.startIndex
        for i in text.indices {
            switch text[i] {
            case "(": depth += 1
            case ")": depth -= 1
            case "," where depth == 0:
                parts.append(text[start..<i])
                start = text.index(after: i)
            default: break
            }
        }
        parts.append(text[start...])
        return parts
    }

    static func requirement(_ p: Substring, in text: String) throws(SelectorError) -> Requirement {
        func key(_ s: Substring) throws(SelectorError) -> String {
            let k = String(s.trimmed)
            guard Self.isLabelKey(k) else { throw SelectorError("'\(k)' in the selector '\(text)' is not a label key") }
            return k
        }
        func value(_ s: Substring) throws(SelectorError) -> String {
            let v = String(s.trimmed)
            guard Self.isLabelValue(v) else {
                throw SelectorError("'\(v)' in the selector '\(text)' is not a label value")
            }
            return v
        }
        if let r = p.firstRange(of: "!=") {
            return .notEquals(try key(p[..<r.lowerBound]), try value(p[r.upperBound...]))
        }
        if let r = p.firstRange(of: "==") {
            return .equals(try key(p[..<r.lowerBound]), try value(p[r.upperBound...]))
        }
        if let r = p.firstRange(of: "=") {
            return .equals(try key(p[..<r.lowerBound]), try value(p[r.upperBound...]))
        }
        if let open = p.firstIndex(of: "("), p.last == ")" {
            let head = p[..<open].trimmed
            let words = head.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count == 2 else { throw SelectorError("'\(p)' in the selector '\(text)' is not a requirement") }
            var values = Set<String>()
            for v in p[p.index(after: open)..<p.index(before: p.endIndex)].split(separator: ",") {
                values.insert(try value(v))
            }
            switch words[1] {
            case "in": return .in(try key(words[0]), values)
            case "notin": return .notIn(try key(words[0]), values)
            default:
                throw SelectorError("'\(words[1])' in the selector '\(text)' is not an operator (in, notin)")
            }
        }
        if p.hasPrefix("!") { return .doesNotExist(try key(p.dropFirst())) }
        return .exists(try key(p))
    }

    /// `[prefix/]name`: the prefix a DNS subdomain, the name up to 63 characters of alphanumerics, `-`, `_`, `.`,
    /// starting and ending alphanumeric.
    public static func isLabelKey(_ k: String) -> Bool {
        let parts = k.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last, isQualifiedName(name) else { return false }
        if parts.count == 2 {
            let prefix = parts[0]
            guard !prefix.isEmpty, prefix.count <= 253,
                prefix.allSatisfy({
                    $0.isASCII && ($0.isLetter && $0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".")
                })
            else { return false }
        }
        return true
    }

    public static func isLabelValue(_ v: String) -> Bool { v.isEmpty || isQualifiedName(Substring(v)) }

    static func isQualifiedName(_ s: Substring) -> Bool {
        guard !s.isEmpty, s.count <= 63, let f = s.first, let l = s.last, f.isASCII && (f.isLetter || f.isNumber),
            l.isASCII && (l.isLetter || l.isNumber)
        else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }
}

/// A field selector (`metadata.name=kafka-0,status.phase!=Failed`): equalities and inequalities on a few fields.
public struct FieldSelector: Sendable, Hashable {
    struct Term: Sendable, Hashable {
        var field: String
        var value: String
        var equal: Bool
    }
    var terms: [Term]

    public init(parsing text: String) throws(SelectorError) {
        terms = []
        for part in text.split(separator: ",") {
            let p = part.trimmed
            if p.isEmpty { continue }
            if let r = p.firstRange(of: "!=") {
                terms.append(Term(field: String(p[..<r.lowerBound]), value: String(p[r.upperBound...]), equal: false))
            } else if let r = p.firstRange(of: "==") ?? p.firstRange(of: "=") {
                terms.append(Term(field: String(p[..<r.lowerBound]), value: String(p[r.upperBound...]), equal: true))
            } else {
                throw SelectorError("'\(p)' in the field selector '\(text)' is not field=value or field!=value")
            }
        }
    }

    /// Whether the fields (by their path, e.g. `metadata.name`) match; a field the object lacks reads as "".
    /// Throws naming a field that `supported` does not list, as Kubernetes answers 400 for it.
    public func matches(_ fields: [String: String], supported: Set<String>) throws(SelectorError) -> Bool {
        if let unknown = terms.first(where: { !supported.contains($0.field) }) {
            throw SelectorError("field label not supported: \(unknown.field)")
        }
        return terms.allSatisfy { ((fields[$0.field] ?? "") == $0.value) == $0.equal }
    }
}

public struct SelectorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Substring {
    var trimmed: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
