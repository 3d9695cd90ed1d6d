import Crypto
import Foundation
import X509

/// A test CA and the certificates the security tests need, made with swift-certificates into a fresh temporary
/// directory: a server certificate for `localhost` and 127.0.0.1, the same host but expired or not yet valid, one
/// for another host only, one signed by another CA, and client certificates from both CAs. PEM files, P-256 keys.
public struct TestPKI: Sendable {
    /// A certificate and its private key, as PEM files.
    public struct Pair: Sendable, Hashable {
        public let certificate: String
        public let key: String
    }

    public let directory: String
    public let caFile: String
    /// A CA that signed nothing the servers present.
    public let otherCAFile: String
    public let server: Pair
    public let expiredServer: Pair
    public let notYetValidServer: Pair
    /// Names `kafka.example.com` only.
    public let wrongHostServer: Pair
    public let otherCAServer: Pair
    public let client: Pair
    public let otherCAClient: Pair

    public init() throws {
        directory = NSTemporaryDirectory() + "ballast-pki-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let now = Date()
        let ca = try Self.authority("Ballast Test CA", now: now)
        let other = try Self.authority("Other Test CA", now: now)
        caFile = try Self.write(ca.certificate, to: directory + "/ca.pem")
        otherCAFile = try Self.write(other.certificate, to: directory + "/other-ca.pem")
        let day: TimeInterval = 86_400
        let dir = directory
        func issue(
            _ name: String, by issuer: Authority, dns: [String] = ["localhost"], ip: [UInt8]? = [127, 0, 0, 1],
            from: Date = now - 3600, until: Date = now + 2 * day
        ) throws -> Pair {
            let key = P256.Signing.PrivateKey()
            var names: [GeneralName] = dns.map { .dnsName($0) }
            if let ip { names.append(.ipAddress(.init(contentBytes: ip[...]))) }
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: from,
                notValidAfter: until, issuer: issuer.certificate.subject,
                subject: try DistinguishedName { CommonName(name) }, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                    SubjectAlternativeNames(names)
                }, issuerPrivateKey: .init(issuer.key))
            return Pair(
                certificate: try Self.write(certificate, to: "\(dir)/\(name).pem"),
                key: try Self.write(key.pemRepresentation, to: "\(dir)/\(name).key"))
        }
        server = try issue("server", by: ca)
        expiredServer = try issue("expired-server", by: ca, from: now - 10 * day, until: now - day)
        notYetValidServer = try issue("future-server", by: ca, from: now + day, until: now + 10 * day)
        wrongHostServer = try issue("wrong-host-server", by: ca, dns: ["kafka.example.com"], ip: nil)
        otherCAServer = try issue("other-ca-server", by: other)
        client = try issue("client", by: ca, dns: ["ballast-client"], ip: nil)
        otherCAClient = try issue("other-ca-client", by: other, dns: ["ballast-client"], ip: nil)
    }

    struct Authority {
        var certificate: Certificate
        var key: P256.Signing.PrivateKey
    }

    static func authority(_ name: String, now: Date) throws -> Authority {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: now - 86_400,
            notValidAfter: now + 30 * 86_400, issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            }, issuerPrivateKey: .init(key))
        return Authority(certificate: certificate, key: key)
    }

    static func write(_ certificate: Certificate, to path: String) throws -> String {
        try write(try certificate.serializeAsPEM().pemString, to: path)
    }

    static func write(_ text: String, to path: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Writes `text` into the PKI's directory (a users file, a desired config) and returns its path.
    public func file(_ name: String, _ text: String) throws -> String {
        try Self.write(text, to: directory + "/" + name)
    }

    /// Removes the directory.
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
