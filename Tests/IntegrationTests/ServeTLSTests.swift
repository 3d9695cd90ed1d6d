import AsyncHTTPClient
import BallastTestSupport
import Foundation
import NIOSSL
import ServiceContract
import Testing

/// `ballast serve` with `tls: {certFile, keyFile}`: HTTPS on the listener. Real clients (AsyncHTTPClient and curl)
/// trust it with the test CA and refuse it without; a plain-HTTP request to the port gets no answer.
@Suite(.enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct ServeTLSTests {
    @Test("a TLS listener serves HTTPS to a client that trusts the CA; a client without the CA refuses it")
    func httpsWithTheCAOnly() async throws {
        let pki = try TestPKI()
        let dir = NSTemporaryDirectory() + "serve-tls-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: pki.directory)
        }
        let serve = try await ServeProcess.start(
            """
            listen: 127.0.0.1:0
            store: sqlite://\(dir)/serve.sqlite
            tls: {certFile: \(pki.server.certificate), keyFile: \(pki.server.key)}
            clusters:
              - name: prod
                bootstrap: 127.0.0.1:1

            """, in: dir)
        defer { serve.child.kill9() }
        #expect(serve.base.hasPrefix("https://127.0.0.1:"), "\(serve.base)")

        // AsyncHTTPClient trusting the test CA: the API answers over TLS, the token still required. Another without
        // it (the system's trust store only; a failed handshake is not retried, so the error is the handshake's).
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(pki.caFile)
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        let trusting = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var plain = HTTPClient.Configuration()
        plain.connectionPool.retryConnectionEstablishment = false
        let untrusting = HTTPClient(eventLoopGroupProvider: .singleton, configuration: plain)
        // Both shut down before they are released, whatever happened (AsyncHTTPClient asserts it).
        let answers: Result<[ServeProcess.Answer], any Error>
        do {
            answers = .success([
                try await serve.call(.GET, "/readyz", token: nil, client: trusting),
                try await serve.call(.GET, "/v1/clusters", token: nil, client: trusting),
                try await serve.call(.GET, "/v1/clusters", token: ServeProcess.read, client: trusting),
            ])
        } catch { answers = .failure(error) }
        var refusal: (any Error)?
        do { _ = try await serve.call(.GET, "/readyz", token: nil, client: untrusting) } catch { refusal = error }
        try await trusting.shutdown()
        try await untrusting.shutdown()
        let (ready, anonymous, clusters) = try answers.map { ($0[0], $0[1], $0[2]) }.get()
        #expect(ready.status == 200, "\(ready.text)")
        #expect(anonymous.status == 401)
        #expect(clusters.status == 200)
        #expect(try clusters.decode(ClusterList.self).clusters.map(\.name) == ["prod"])
        #expect(refusal is NIOSSLError, "without the CA: \(refusal.map { "\($0)" } ?? "answered")")

        // curl: with --cacert it gets the answer; without it, exit 60 (the peer's certificate is not trusted).
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") {
            let ok = try await run("/usr/bin/curl", ["-sS", "--cacert", pki.caFile, serve.base + "/healthz"])
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(ok.stdout.contains("ok"), "\(ok.stdout)")
            let refused = try await run("/usr/bin/curl", ["-sS", serve.base + "/healthz"])
            #expect(refused.status == 60, "\(refused.status) \(refused.stderr)")
            // Plain HTTP to the TLS port: the server does not answer it as HTTP.
            let plain = try await run(
                "/usr/bin/curl",
                [
                    "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30",
                    serve.base.replacingOccurrences(of: "https://", with: "http://") + "/healthz",
                ])
            #expect(plain.status != 0 && plain.stdout != "200", "\(plain.status) \(plain.stdout) \(plain.stderr)")
        }
    }
}
