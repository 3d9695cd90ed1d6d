import Foundation
import KafkaModel
import Logging
import NIOSSL
import Testing

@testable import KafkaAdmin

/// TLS of the native connection against the in-process server, with certificates made by `openssl`.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl"))
struct TLSTests {
    /// A CA, a server certificate for `localhost`/127.0.0.1 and a client certificate, in a temporary directory.
    struct PKI {
        let dir: String
        var ca: String { dir + "/ca.pem" }
        var serverCert: String { dir + "/server.pem" }
        var serverKey: String { dir + "/server.key" }
        var clientCert: String { dir + "/client.pem" }
        var clientKey: String { dir + "/client.key" }
        var otherCA: String { dir + "/other-ca.pem" }

        init() throws {
            dir = NSTemporaryDirectory() + "ballast-tls-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let script = """
                set -e
                cd '\(dir)'
                openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null
                openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=other 2>/dev/null
                for n in server client; do
                  openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj /CN=$n 2>/dev/null
                  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > $n.ext
                  openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 2 \
                    -extfile $n.ext 2>/dev/null
                done
                """
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", script]
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw KafkaAdminError(.tls, "openssl failed") }
        }

        func serverContext(requireClientCert: Bool) throws -> NIOSSLContext {
            var c = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(serverCert).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: serverKey, format: .pem)))
            if requireClientCert {
                c.certificateVerification = .noHostnameVerification
                c.trustRoots = .file(ca)
            }
            return try NIOSSLContext(configuration: c)
        }
    }

    static func client(_ bootstrap: String, _ tls: KafkaSecurity.TLS) throws -> NativeClient {
        var c = KafkaAdminConfiguration(bootstrap: bootstrap, security: KafkaSecurity(tls: tls))
        // Generous: a TLS handshake in a debug build on a loaded machine can take seconds.
        c.requestTimeout = .seconds(60)
        return try NativeClient(configuration: c, logger: Logger(label: "test"))
    }

    @Test func aServerSignedByTheConfiguredCAIsAcceptedByNameAndByIP() async throws {
        let pki = try PKI()
        let server = try await FakeKafkaServer(.init(tls: try pki.serverContext(requireClientCert: false)))
        for host in ["localhost", "127.0.0.1"] {
            let native = try Self.client("\(host):\(server.port)", .init(caFile: pki.ca))
            let info = try await native.refreshCluster()
            #expect(info.clusterId == "fake")
            await native.shutdown()
        }
        await server.close()
    }

    @Test func aServerSignedByAnotherCAIsRefusedAsACertificateVerificationError() async throws {
        let pki = try PKI()
        let server = try await FakeKafkaServer(.init(tls: try pki.serverContext(requireClientCert: false)))
        let native = try Self.client("localhost:\(server.port)", .init(caFile: pki.otherCA))
        await #expect {
            try await native.refreshCluster()
        } throws: { e in
            (e as? KafkaAdminError)?.code == .tlsVerification
                && (e as? KafkaAdminError)?.certificateProblem == .unknownAuthority
                && (e as? KafkaAdminError)?.message.contains("localhost:\(server.port)") == true
        }
        await native.shutdown()
        await server.close()
    }

    @Test func mutualTLSNeedsTheClientCertificate() async throws {
        let pki = try PKI()
        let server = try await FakeKafkaServer(.init(tls: try pki.serverContext(requireClientCert: true)))
        let with = try Self.client(
            "localhost:\(server.port)", .init(caFile: pki.ca, certificateFile: pki.clientCert, keyFile: pki.clientKey))
        #expect(try await with.refreshCluster().clusterId == "fake")
        await with.shutdown()
        let without = try Self.client("localhost:\(server.port)", .init(caFile: pki.ca))
        await #expect(throws: KafkaAdminError.self) { try await without.refreshCluster() }
        await without.shutdown()
        await server.close()
    }
}
