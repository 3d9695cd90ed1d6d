import Agent
import AsyncHTTPClient
import BallastTestSupport
import Foundation
import Testing

@testable import Operations

/// The agent over HTTPS and mutual TLS (certificates from `TestPKI`), called by the roller's agent client with
/// its CA and client certificate, on a loopback port.
@Suite struct AgentTLSTests {
    @Test func theRollerClientCallsAnHttpsAgentThatItsCASigned() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let tls = try AgentServer.tlsConfiguration(certificateFile: pki.server.certificate, keyFile: pki.server.key)
        try await withAgent(driver: FakeDriver(), token: "tok", tls: tls) { url in
            #expect(url.hasPrefix("https://"))
            try await usingHTTPClient(AgentClientTLS(caFile: pki.caFile)) { (http: HTTPClient) async throws in
                #expect(
                    try await HTTPAgentClient(endpoint: url, token: "tok", client: http, timeoutSeconds: 60).nodes()
                        .count == 3)
            }
            // A client trusting another CA refuses the agent: a TLS error, not "unreachable".
            try await usingHTTPClient(AgentClientTLS(caFile: pki.otherCAFile)) { (other: HTTPClient) async throws in
                await #expect {
                    _ = try await HTTPAgentClient(endpoint: url, token: "tok", client: other, timeoutSeconds: 60)
                        .nodes()
                } throws: {
                    ($0 as? AgentClientError)?.code == .tls && "\($0)".contains("TLS with the agent at \(url)")
                }
            }
        }
    }

    @Test func withMutualTLSTheAgentWantsTheClientCertificateAndStillTheToken() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let tls = try AgentServer.tlsConfiguration(
            certificateFile: pki.server.certificate, keyFile: pki.server.key, clientCAFile: pki.caFile)
        try await withAgent(driver: FakeDriver(), token: "tok", tls: tls) { url in
            try await usingHTTPClient(
                AgentClientTLS(caFile: pki.caFile, certificateFile: pki.client.certificate, keyFile: pki.client.key)
            ) { (with: HTTPClient) async throws in
                #expect(
                    try await HTTPAgentClient(endpoint: url, token: "tok", client: with, timeoutSeconds: 60).nodes()
                        .count == 3)
                await #expect {
                    _ = try await HTTPAgentClient(endpoint: url, token: "wrong", client: with, timeoutSeconds: 60)
                        .nodes()
                } throws: { ($0 as? AgentClientError)?.code == .answered(status: 401) }
            }

            for client in [
                AgentClientTLS(caFile: pki.caFile),
                AgentClientTLS(
                    caFile: pki.caFile, certificateFile: pki.otherCAClient.certificate, keyFile: pki.otherCAClient.key),
            ] {
                try await usingHTTPClient(client) { (http: HTTPClient) async throws in
                    await #expect(throws: AgentClientError.self) {
                        _ = try await HTTPAgentClient(endpoint: url, token: "tok", client: http, timeoutSeconds: 60)
                            .nodes()
                    }
                }
            }
        }
    }

    @Test func unusableTLSFilesAreNamed() throws {
        #expect {
            _ = try AgentServer.tlsConfiguration(certificateFile: "/nonexistent/agent.pem", keyFile: "/nonexistent/k")
        } throws: { "\($0)".contains("/nonexistent/agent.pem") }
        #expect {
            _ = try AgentClientTLS(caFile: "/nonexistent/ca.pem").makeHTTPClient()
        } throws: { ($0 as? AgentClientError)?.code == .tls && "\($0)".contains("/nonexistent/ca.pem") }
        #expect {
            _ = try AgentClientTLS(certificateFile: "/nonexistent/c.pem").makeHTTPClient()
        } throws: { "\($0)".contains("needs its key") }
    }
}

/// Runs `body` with a client made from `tls` and shuts the client down however `body` ends: a client dropped without
/// `shutdown()` traps (AsyncHTTPClient's deinit check) and takes the whole test process with it.
private func usingHTTPClient(_ tls: AgentClientTLS, _ body: (HTTPClient) async throws -> Void) async throws {
    let http = try tls.makeHTTPClient()
    do {
        try await body(http)
    } catch {
        try? await http.shutdown()
        throw error
    }
    try await http.shutdown()
}
