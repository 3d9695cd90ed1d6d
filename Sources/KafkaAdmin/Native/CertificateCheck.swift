import Foundation
import NIOCore
import X509

/// Why Ballast would not accept a broker's certificate chain: the checks TLS verification makes, done one by one
/// so the error can say which failed. Pure: the chain, the trusted CAs and the time are arguments.
enum CertificateCheck {
    struct Finding: Sendable, Hashable {
        var problem: CertificateProblem
        /// What is wrong, as the end of a sentence starting "its certificate (CN=…) ": "expired on …".
        var detail: String
    }

    /// The first problem of `presented` (the broker's chain, leaf first), in the order a reader can act on: not
    /// signed by a trusted CA, outside its validity period, not naming `host`. nil when the chain passes.
    static func check(
        presented: [Certificate], trusted: [Certificate], trustedSource: String, host: String, verifyHostname: Bool,
        now: Date
    ) -> Finding? {
        guard let leaf = presented.first else { return nil }
        if !chainsToTrusted(leaf, intermediates: Array(presented.dropFirst()), trusted: trusted) {
            return Finding(
                problem: .unknownAuthority,
                detail: "was issued by \(name(leaf.issuer)), which is not a CA in \(trustedSource)")
        }
        if now > leaf.notValidAfter {
            return Finding(problem: .expired, detail: "expired on \(timestamp(leaf.notValidAfter))")
        }
        if now < leaf.notValidBefore {
            return Finding(problem: .notYetValid, detail: "is not valid before \(timestamp(leaf.notValidBefore))")
        }
        if verifyHostname, !names(leaf, host: host) {
            let listed = identities(leaf)
            return Finding(
                problem: .hostnameMismatch,
                detail: "names \(listed.isEmpty ? "no host" : listed.joined(separator: ", ")), not \(host)")
        }
        return nil
    }

    /// Whether `certificate` leads, through `intermediates`, to a certificate signed by (or equal to) one of
    /// `trusted`. Signatures are checked; validity periods are checked separately.
    static func chainsToTrusted(_ certificate: Certificate, intermediates: [Certificate], trusted: [Certificate])
        -> Bool
    {
        var current = certificate
        var remaining = intermediates
        for _ in 0...intermediates.count {
            if trusted.contains(current) { return true }
            if trusted.contains(where: { $0.subject == current.issuer && signed(current, by: $0) }) { return true }
            guard let i = remaining.firstIndex(where: { $0.subject == current.issuer && signed(current, by: $0) })
            else { return false }
            current = remaining.remove(at: i)
        }
        return false
    }

    static func signed(_ certificate: Certificate, by issuer: Certificate) -> Bool {
        issuer.publicKey.isValidSignature(certificate.signature, for: certificate)
    }

    /// Whether the certificate names `host`: an IP address against its IP SANs, a name against its DNS SANs (a
    /// leading `*.` matches one label), or its common name when it has no DNS SAN.
    static func names(_ certificate: Certificate, host: String) -> Bool {
        let sans = (try? certificate.extensions.subjectAlternativeNames).map { Array($0) } ?? []
        if let ip = normalizedIP(host) {
            return sans.contains {
                if case .ipAddress(let bytes) = $0 { return ipString(bytes.bytes) == ip } else { return false }
            }
        }
        let dnsNames = sans.compactMap { if case .dnsName(let n) = $0 { return n } else { return nil } }
        let candidates = dnsNames.isEmpty ? commonNames(certificate) : dnsNames
        return candidates.contains { matches(pattern: $0, host: host) }
    }

    static func matches(pattern: String, host: String) -> Bool {
        let p = pattern.lowercased()
        let h = host.lowercased().hasSuffix(".") ? String(host.lowercased().dropLast()) : host.lowercased()
        if p.hasPrefix("*.") {
            guard let dot = h.firstIndex(of: ".") else { return false }
            return h[dot...] == p.dropFirst()
        }
        return p == h
    }

    /// The names and addresses a certificate is for, as `DNS:x` / `IP:y`, for messages.
    static func identities(_ certificate: Certificate) -> [String] {
        let sans = (try? certificate.extensions.subjectAlternativeNames).map { Array($0) } ?? []
        var out: [String] = []
        for san in sans {
            switch san {
            case .dnsName(let n): out.append("DNS:\(n)")
            case .ipAddress(let bytes): if let ip = ipString(bytes.bytes) { out.append("IP:\(ip)") }
            default: break
            }
        }
        return out.isEmpty ? commonNames(certificate).map { "CN:\($0)" } : out
    }

    static func commonNames(_ certificate: Certificate) -> [String] {
        certificate.subject.flatMap { rdn in
            rdn.compactMap { attribute in
                let text = String(describing: attribute)
                return text.hasPrefix("CN=") ? String(text.dropFirst(3)) : nil
            }
        }
    }

    /// A distinguished name for a message; `(empty name)` rather than nothing.
    static func name(_ dn: DistinguishedName) -> String {
        let text = String(describing: dn)
        return text.isEmpty ? "(empty name)" : text
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// The canonical text of an IP literal (`::1`, `127.0.0.1`), nil for a host name.
    static func normalizedIP(_ host: String) -> String? {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return (try? SocketAddress(ipAddress: bare, port: 0))?.ipAddress
    }

    static func ipString(_ bytes: ArraySlice<UInt8>) -> String? {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        return (try? SocketAddress(packedIPAddress: ByteBuffer(bytes: bytes), port: 0))?.ipAddress
    }
}
