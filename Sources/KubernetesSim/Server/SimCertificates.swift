import Crypto
import Foundation
import SwiftASN1
import X509

/// The simulated API's TLS material, made at start-up: a CA, a server certificate for 127.0.0.1 and localhost, and
/// a client certificate (CN `ballast-agent`) the API accepts instead of a token. All PEM; keys are PKCS#8 P-256.
public struct SimCertificates: Sendable {
    public var caPEM: String
    public var serverCertificatePEM: String
    public var serverKeyPEM: String
    public var clientCertificatePEM: String
    public var clientKeyPEM: String

    public static func generate() throws -> SimCertificates {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("ballast-sim-kubernetes-ca") }
        let validFrom = now.addingTimeInterval(-3600)
        let validTo = now.addingTimeInterval(30 * 24 * 3600)
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey), notValidBefore: validFrom,
            notValidAfter: validTo, issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            }, issuerPrivateKey: .init(caKey))

        func leaf(_ cn: String, usage: ExtendedKeyUsage.Usage, names: [GeneralName]) throws -> (String, String) {
            let key = P256.Signing.PrivateKey()
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: validFrom,
                notValidAfter: validTo, issuer: caName, subject: try DistinguishedName { CommonName(cn) },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([usage])
                    if !names.isEmpty { SubjectAlternativeNames(names) }
                }, issuerPrivateKey: .init(caKey))
            return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
        }
        let server = try leaf(
            "ballast-sim-kubernetes", usage: .serverAuth,
            names: [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
        let client = try leaf("ballast-agent", usage: .clientAuth, names: [])
        return SimCertificates(
            caPEM: try ca.serializeAsPEM().pemString, serverCertificatePEM: server.0, serverKeyPEM: server.1,
            clientCertificatePEM: client.0, clientKeyPEM: client.1)
    }
}
