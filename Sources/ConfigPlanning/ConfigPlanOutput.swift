/// Renders plans and apply reports: the `--json` contract of DESIGN.md and a table for people.
/// Sensitive values are never rendered.
public enum ConfigPlanOutput {
    public static let redacted = "[redacted]"

    /// `{"changes":[{"key","from","to","scope","action","nodes"}],"restart":{"required","nodes"}}` plus
    /// `kafkaVersion`, `unchanged`, `warnings`, `problems`, and per change `reason` / `fromByNode` when present.
    public static func json(_ plan: ConfigChangePlan, apply report: ConfigApplyReport? = nil) -> String {
        var root: [(String, JSONValue)] = [
            ("kafkaVersion", .string(plan.kafkaVersion.version.description)),
            ("changes", .array(plan.changes.map(changeJSON))),
            (
                "restart",
                .object([
                    ("required", .bool(plan.restartRequired)),
                    ("nodes", .array(plan.restartNodes.map { .int(Int($0)) })),
                ])
            ),
            ("unchanged", .array(plan.unchanged.map(JSONValue.string))),
            ("warnings", .array(plan.warnings.map(JSONValue.string))),
            (
                "problems",
                .array(
                    plan.problems.map { p in
                        .object([
                            ("key", .string(p.key)), ("line", p.line.map { .int($0) } ?? .null),
                            ("message", .string(p.message)),
                        ])
                    })
            ),
        ]
        if let report {
            root.append(
                (
                    "results",
                    .array(
                        report.results.map { r in
                            .object([
                                ("key", .string(r.key)), ("status", .string(r.status.rawValue)),
                                ("message", r.message.map(JSONValue.string) ?? .null),
                                ("nodes", .array(r.nodes.map { .int(Int($0)) })),
                            ])
                        })
                ))
        }
        return JSONValue.object(root).serialized()
    }

    static func changeJSON(_ c: ConfigChange) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("key", .string(c.key)),
            ("from", shown(c.from, sensitive: c.isSensitive)),
            ("to", shown(c.to, sensitive: c.isSensitive)),
            ("scope", .string(c.scope.rawValue)),
            ("action", .string(c.action.rawValue)),
            ("nodes", .array(c.nodes.map { .int(Int($0)) })),
        ]
        if !c.fromByNode.isEmpty {
            fields.append(
                (
                    "fromByNode",
                    .object(
                        c.fromByNode.sorted { $0.key < $1.key }.map {
                            ("\($0.key)", shown($0.value, sensitive: c.isSensitive))
                        })
                ))
        }
        if let reason = c.reason { fields.append(("reason", .string(reason))) }
        return .object(fields)
    }

    static func shown(_ value: String?, sensitive: Bool) -> JSONValue {
        guard let value else { return sensitive ? .string(redacted) : .null }
        return .string(sensitive ? redacted : value)
    }

    static func text(_ value: String?, sensitive: Bool, removal: Bool = false) -> String {
        if sensitive { return redacted }
        guard let value else { return removal ? "(remove override)" : "(null)" }
        return value
    }

    /// A table for a terminal.
    public static func table(_ plan: ConfigChangePlan, apply report: ConfigApplyReport? = nil) -> String {
        var lines: [String] = []
        let v = plan.kafkaVersion
        lines.append(
            "Kafka \(v.version)" + (v.isExact ? "" : " (nearest known to \(v.requested))") + ": \(plan.changes.count) "
                + "change(s), \(plan.unchanged.count) unchanged")
        if !plan.changes.isEmpty {
            var rows = [["KEY", "FROM", "TO", "SCOPE", "ACTION", "NODES"]]
            for c in plan.changes {
                let from =
                    c.fromByNode.isEmpty
                    ? text(c.from, sensitive: c.isSensitive)
                    : c.fromByNode.sorted { $0.key < $1.key }.map {
                        "\($0.key):\(text($0.value, sensitive: c.isSensitive))"
                    }
                    .joined(separator: " ")
                rows.append([
                    c.key, clip(from), clip(text(c.to, sensitive: c.isSensitive, removal: true)), c.scope.rawValue,
                    c.action.rawValue, c.nodes.map(String.init).joined(separator: ","),
                ])
            }
            let widths = (0..<6).map { i in rows.map { $0[i].count }.max() ?? 0 }
            for row in rows {
                let cells = row.enumerated().map { i, cell in
                    i == 5 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
                }
                lines.append(cells.joined(separator: "  "))
            }
            for c in plan.changes where c.reason != nil {
                lines.append("  \(c.key) (\(c.action.rawValue)): \(c.reason!)")
            }
        }
        if let report {
            for r in report.results {
                lines.append("\(r.status.rawValue): \(r.key)" + (r.message.map { " - \($0)" } ?? ""))
            }
        }
        lines.append(
            plan.restartRequired
                ? "Restart required: node " + plan.restartNodes.map(String.init).joined(separator: ", ")
                : "Restart required: no")
        for w in plan.warnings { lines.append("warning: \(w)") }
        for p in plan.problems { lines.append("not planned: \(p)") }
        return lines.joined(separator: "\n")
    }

    static func clip(_ s: String) -> String { s.count > 48 ? String(s.prefix(45)) + "..." : s }
}

/// A JSON value that keeps its object keys in order, so output reads the way the contract is written. (Foundation's
/// `JSONEncoder` on Linux writes keys in hash order, and `.sortedKeys` is not the contract's order, which
/// `jsonFollowsTheContract` checks.)
enum JSONValue {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    func serialized() -> String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (i, (k, v)) in fields.enumerated() {
                if i > 0 { out += "," }
                Self.writeString(k, into: &out)
                out += ":"
                v.write(into: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
