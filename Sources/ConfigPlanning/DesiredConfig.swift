public import KafkaModel

/// A desired broker config: the keys to set, from a server.properties-style file.
///
/// `key=value` sets the key; `key=` (empty) removes its dynamic override so the static or default value applies
/// again. Lines are `key=value` or `key: value`; `#` and `!` start comments; a trailing backslash continues a line.
public struct DesiredConfig: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var key: String
        /// nil for `key=`: remove the dynamic override.
        public var value: String?
        /// 1-based line number in the file (the first line of a continued line).
        public var line: Int

        public init(key: String, value: String?, line: Int) {
            self.key = key
            self.value = value
            self.line = line
        }
    }

    /// In file order; keys are unique.
    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Parses the text of a desired-config file.
    public init(parsing text: String, fileName: String = "desired config") throws(DesiredConfigError) {
        var entries: [Entry] = []
        var seen: [String: Int] = [:]
        var pending: (text: String, line: Int)?
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            if let p = pending {
                line = p.text + String(line.drop { $0 == " " || $0 == "\t" })
            } else {
                let trimmed = line.drop { $0 == " " || $0 == "\t" }
                if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix("!") { continue }
                line = String(trimmed)
            }
            let start = pending?.line ?? number
            if Self.endsWithContinuation(line) {
                pending = (String(line.dropLast()), start)
                continue
            }
            pending = nil
            let entry = try Self.parseLine(line, number: start, fileName: fileName)
            if let first = seen[entry.key] {
                throw DesiredConfigError(
                    fileName: fileName, line: start,
                    message: "\(entry.key) is set twice (first on line \(first))")
            }
            seen[entry.key] = start
            entries.append(entry)
        }
        if let p = pending {
            throw DesiredConfigError(fileName: fileName, line: p.line, message: "the file ends inside a continued line")
        }
        self.entries = entries
    }

    public subscript(key: String) -> Entry? { entries.first { $0.key == key } }

    /// An odd number of trailing backslashes continues the line (an even number is escaped backslashes).
    static func endsWithContinuation(_ line: String) -> Bool {
        line.reversed().prefix { $0 == "\\" }.count % 2 == 1
    }

    static func parseLine(_ line: String, number: Int, fileName: String) throws(DesiredConfigError) -> Entry {
        guard let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
            throw DesiredConfigError(
                fileName: fileName, line: number, message: "expected key=value, found '\(line.prefix(60))'")
        }
        let key = String(line[..<sep]).trimmingWhitespace()
        guard !key.isEmpty else {
            throw DesiredConfigError(fileName: fileName, line: number, message: "the key is empty")
        }
        guard key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw DesiredConfigError(
                fileName: fileName, line: number,
                message: "'\(key.prefix(60))' is not a config key (letters, digits, '.', '_', '-')")
        }
        let value = String(line[line.index(after: sep)...]).trimmingWhitespace()
        return Entry(key: key, value: value.isEmpty ? nil : unescape(value), line: number)
    }

    /// Java Properties escapes that matter in config values: `\\`, `\=`, `\:`, `\t`, `\n`, `\uXXXX`.
    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out = ""
        var it = s.makeIterator()
        while let c = it.next() {
            guard c == "\\", let n = it.next() else {
                out.append(c)
                continue
            }
            switch n {
            case "t": out.append("\t")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "u":
                var hex = ""
                for _ in 0..<4 { if let h = it.next() { hex.append(h) } }
                if let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) {
                    out.append(Character(scalar))
                } else {
                    out.append("\\u" + hex)
                }
            default: out.append(n)
            }
        }
        return out
    }
}

/// A desired-config file that cannot be read: names the file and the line.
public struct DesiredConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var fileName: String
    public var line: Int
    public var message: String

    public var description: String { "\(fileName):\(line): \(message)" }
}

extension DesiredConfigError: CategorizedError {
    public var category: ErrorCategory { .badInput }
}
