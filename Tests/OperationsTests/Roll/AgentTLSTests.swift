import Agent
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
            let http = try AgentClientTLS(caFile: pki.caFile).makeHTTPClient()
            #expect(try await HTTPAgentClient(endpoint: url, token: "tok", client: http).nodes().count == 3)
            // A client trusting another CA refuses the agent: a TLS error, not "unreachable".
            let other = try AgentClientTLS(caFile: pki.otherCAFile).makeHTTPClient()
            await #expect {
                _ = try await HTTPAgentClient(endpoint: url, token: "tok", client: other, timeoutSeconds: 60).nodes()
            } throws: { ($0 as? AgentClientError)?.code == .tls && "\($0)".contains("TLS with the agent at \(url)") }
            try await http.shutdown()
            try await other.shutdown()
        }
    }

    @Test func withMutualTLSTheAgentWantsTheClientCertificateAndStillTheToken() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let tls = try AgentServer.tlsConfiguration(
            certificateFile: pki.server.certificate, keyFile: pki.server.key, clientCAFile: pki.caFile)
        try await withAgent(driver: FakeDriver(), token: "tok", tls: tls) { url in
            let with = try AgentClientTLS(
                caFile: pki.caFile, certificateFile: pki.client.certificate, keyFile: pki.client.key
            ).makeHTTPClient()
            #expect(try await HTTPAgentClient(endpoint: url, token: "tok", client: with).nodes().count == 3)
            await #expect {
                _ = try await HTTPAgentClient(endpoint: url, token: "wrong", client: with).nodes()
            } throws: { ($0 as? AgentClientError)?.code == .answered(status: 401) }

            for client in [
                AgentClientTLS(caFile: pki.caFile),
                AgentClientTLS(
                    caFile: pki.caFile, certificateFile: pki.otherCAClient.certificate, keyFile: pki.otherCAClient.key),
            ] {
                let http = try client.makeHTTPClient()
                await #expect(throws: AgentClientError.self) {
                    _ = try await HTTPAgentClient(endpoint: url, token: "tok", client: http, timeoutSeconds: 60).nodes()
                }
                try await http.shutdown()
            }
            try await with.shutdown()
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
