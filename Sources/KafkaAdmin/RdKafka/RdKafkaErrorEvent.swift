import CRdKafka
import Foundation

/// One librdkafka error event: `sasl_ssl://127.0.0.1:19292/bootstrap: SASL authentication error: … (after 3ms in
/// state AUTH_REQ)`.
struct RdKafkaErrorEvent: Sendable {
    var code: rd_kafka_resp_err_t
    var reason: String

    /// `host:port` of the broker the event is about (`[proto://]host:port/name: …`), when it names one.
    var broker: String? {
        guard let colon = reason.range(of: ": ") else { return nil }
        var name = reason[..<colon.lowerBound]
        if let scheme = name.range(of: "://") { name = name[scheme.upperBound...] }
        guard let slash = name.firstIndex(of: "/"), !name.contains(" ") else { return nil }
        let address = String(name[..<slash])
        guard let port = address.lastIndex(of: ":"), Int(address[address.index(after: port)...]) != nil else {
            return nil
        }
        return address
    }

    /// The reason without the broker prefix and without librdkafka's "(after 5ms in state …)" suffix.
    var text: String {
        var t = Substring(reason)
        if broker != nil, let colon = t.range(of: ": ") { t = t[colon.upperBound...] }
        if let after = t.range(of: " (after ", options: .backwards), t.hasSuffix(")") { t = t[..<after.lowerBound] }
        return String(t)
    }
}

extension String {
    func dropPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}

/// `text` as the end of a sentence: one final period.
func sentence(_ text: String) -> String {
    let t = text.trimmingWhitespaceAtEnd()
    return t.hasSuffix(".") ? t : t + "."
}

extension String {
    fileprivate func trimmingWhitespaceAtEnd() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
