import Agent
import AgentContract
import AgentProcessDriver
import BallastTestSupport
import Foundation
import Roller
import Testing

@testable import Operations

/// The roller's HTTP agent client against a real agent (process driver) on a loopback port.
@Suite struct AgentLiveTests {
    @Test func theRollerClientRestartsANodeThroughALiveAgentAndARepeatedRequestIsTheSameRestart() async throws {
        let dir = NSTemporaryDirectory() + "ballast-live-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let driver = try ProcessDriver(
            yaml: """
                nodes:
                  - {id: 1, roles: [broker, controller], zone: az-a, restart: "echo 1 >> \(dir)/restarts"}
                  - {id: 2, zone: az-b, restart: "echo 2 >> \(dir)/restarts"}
                """)
        let operations = RestartOperations()
        try await withAgent(driver: driver, token: "tok", cluster: "east", operations: operations) { url in
            let client = HTTPAgentClient(endpoint: url, token: "tok", timeoutSeconds: 60)
            let nodes = try await client.nodes()
            #expect(
                nodes.map(\.nodeInfo) == [
                    NodeInfo(id: 1, roles: [.broker, .controller], zone: "az-a", cluster: "east"),
                    NodeInfo(id: 2, roles: [.broker], zone: "az-b", cluster: "east"),
                ])
            let op = try await client.restart(node: 2, requestId: "r/2")
            // The agent says when the restart ends; the client then reads it over HTTP.
            _ = await operations.finished(op.id)
            #expect(try await client.operation(op.id).state == .done)
            #expect(try await client.restart(node: 2, requestId: "r/2").id == op.id)
            // A wrong token is refused with a clear message.
            await #expect {
                _ = try await HTTPAgentClient(endpoint: url, token: "nope", timeoutSeconds: 60).nodes()
            } throws: { "\($0)".contains("answered 401") && "\($0)".contains("bearer token") }
        }
        #expect(try String(contentsOfFile: "\(dir)/restarts", encoding: .utf8) == "2\n")
    }

    @Test func anAgentThatIsNotThereIsReportedUnreachable() async {
        // Port 9 (discard) on loopback: nothing listens there in the test environment.
        await #expect {
            _ = try await HTTPAgentClient(endpoint: "http://127.0.0.1:9", token: "t", timeoutSeconds: 2).nodes()
        } throws: {
            ($0 as? AgentClientError)?.code == .unreachable
                && "\($0)".contains("the agent at http://127.0.0.1:9 is unreachable")
        }
    }
}
