import Foundation
import KafkaWire
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import X509

/// The broker's certificate chain as presented during a probe's handshake.
final class PeerChainRecorder: Sendable {
    private let der = Mutex<[[UInt8]]>([])

    func record(_ chain: [NIOSSLCertificate]) {
        let bytes = chain.compactMap { try? $0.toDERBytes() }
        der.withLock { $0 = bytes }
    }

    var certificates: [Certificate] { der.withLock { $0 }.compactMap { try? Certificate(derEncoded: $0) } }
}

/// Explains a failed TLS connection the way a reader can act on it. TLS libraries report "certificate verify
/// failed" or a bare alert; the probe connects once more with the same CA, client certificate and host, records
/// the broker's chain instead of verifying it, sends ApiVersions, and then checks the chain itself
/// (`CertificateCheck`): not signed by a trusted CA, expired, not yet valid, not naming the host. A broker that
/// accepts the chain's handshake but ends the session with a certificate alert demanded (or refused) Ballast's
/// client certificate. Used for failures of both librdkafka and the native connection, only after a failure.
enum TLSProbe {
    /// `error` refined by a probe of `address`, or `error` itself when the probe cannot tell more. The probe
    /// connects within `configuration.connectTimeout` and waits `requestTimeout` for the answer.
    static func explain(
        _ error: KafkaAdminError, address: BrokerAddress, tls: KafkaSecurity.TLS,
        configuration: KafkaAdminConfiguration
    ) async -> KafkaAdminError {
        await diagnose(
            address: address, tls: tls, connectTimeout: configuration.connectTimeout,
            requestTimeout: configuration.requestTimeout) ?? error
    }

    static func diagnose(
        address: BrokerAddress, tls: KafkaSecurity.TLS, connectTimeout: Duration, requestTimeout: Duration
    ) async -> KafkaAdminError? {
        guard let context = try? tls.makeContext() else { return nil }
        let recorder = PeerChainRecorder()
        let connection: KafkaConnection
        do {
            connection = try await KafkaConnection.open(
                host: address.host, port: address.port, tls: context, verifyHostname: tls.verifyHostname,
                connectTimeout: connectTimeout, group: MultiThreadedEventLoopGroup.singleton,
                acceptingAnyCertificate: recorder
            )
        } catch {
            return nil
        }
        // Every Kafka listener answers ApiVersions before authentication, so no answer means the TLS session
        // ended: in TLS 1.3 a broker that wants a client certificate says so only after the client's Finished.
        var failure: KafkaAdminError?
        do {
            let frame = try KafkaFrame.request(ApiVersionsRequest(), version: 0, correlationId: 0, clientId: "ballast")
            _ = try await connection.roundTrip(frame: frame, apiName: "ApiVersions", timeout: requestTimeout)
        } catch let e as KafkaAdminError {
            failure = e
        } catch {
            failure = KafkaAdminError(.tls, "\(error)")
        }
        await connection.close()

        let chain = recorder.certificates
        guard let leaf = chain.first else { return nil }
        let (trusted, source) = trustedCertificates(tls.caFile)
        if let finding = CertificateCheck.check(
            presented: chain, trusted: trusted, trustedSource: source, host: address.host,
            verifyHostname: tls.verifyHostname, now: Date())
        {
            return KafkaAdminError(
                .tlsVerification,
                "TLS verification of broker \(address) failed: its certificate "
                    + "(\(CertificateCheck.name(leaf.subject))) \(finding.detail).",
                certificateProblem: finding.problem, brokerAddress: address.description)
        }
        guard let failure, failure.code == .tls || failure.code == .connectionClosed else { return nil }
        let alert = peerAlert(in: failure.message)
        guard alert != nil || failure.code == .connectionClosed else { return nil }
        let how = alert.map { "TLS alert \($0)" } ?? "it ended the TLS session before answering"
        if let certificate = tls.certificateFile {
            guard alert != nil else { return nil }
            return KafkaAdminError(
                .tls, "Broker \(address) refused Ballast's client certificate \(certificate) (\(how)).",
                brokerAddress: address.description)
        }
        return KafkaAdminError(
            .clientCertificateRequired,
            "Broker \(address) demanded a client certificate and none is configured (\(how)).",
            brokerAddress: address.description)
    }

    /// The alert a peer sent, from a BoringSSL error text (`…:TLSV1_ALERT_CERTIFICATE_REQUIRED`), when it is
    /// one a server sends about the client's certificate.
    static func peerAlert(in text: String) -> String? {
        let alerts = [
            "CERTIFICATE_REQUIRED", "HANDSHAKE_FAILURE", "BAD_CERTIFICATE", "UNKNOWN_CA", "CERTIFICATE_UNKNOWN",
            "ACCESS_DENIED", "CERTIFICATE_EXPIRED", "UNSUPPORTED_CERTIFICATE",
        ]
        for alert in alerts {
            for prefix in ["TLSV1_ALERT_", "SSLV3_ALERT_", "TLSV13_ALERT_"] where text.contains(prefix + alert) {
                return prefix + alert
            }
        }
        return nil
    }

    /// The CAs a connection trusts: the CA file, else the system's store (Debian, Red Hat and Alpine paths).
    static func trustedCertificates(_ caFile: String?) -> (certificates: [Certificate], source: String) {
        let path: String
        let source: String
        if let caFile {
            path = caFile
            source = "the CA file \(caFile)"
        } else {
            path =
                [
                    "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem",
                ].first { FileManager.default.fileExists(atPath: $0) } ?? ""
            source = "the system's trust store"
        }
        let pem = (try? NIOSSLCertificate.fromPEMFile(path)) ?? []
        return (pem.compactMap { try? Certificate(derEncoded: $0.toDERBytes()) }, source)
    }
}
