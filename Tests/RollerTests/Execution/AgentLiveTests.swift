import Agent
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import Roller

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
        let port = Mutex<Int>(0)
        let app = AgentServer.application(
            driver: driver, configuration: .init(port: 0, token: "tok", cluster: "east"), logger: Logger(label: "t"),
            onServerRunning: { p in port.withLock { $0 = p } })
        let group = ServiceGroup(services: [app], logger: Logger(label: "t"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var p = 0
            for _ in 0..<500 where p == 0 {
                try await Task.sleep(for: .milliseconds(10))
                p = port.withLock { $0 }
            }
            let client = HTTPAgentClient(endpoint: "http://127.0.0.1:\(p)", token: "tok")
            let nodes = try await client.nodes()
            #expect(
                nodes.map(\.nodeInfo) == [
                    NodeInfo(id: 1, roles: [.broker, .controller], zone: "az-a", cluster: "east"),
                    NodeInfo(id: 2, roles: [.broker], zone: "az-b", cluster: "east"),
                ])
            let op = try await client.restart(node: 2, requestId: "r/2")
            var state = op.state
            for _ in 0..<200 where state == "running" {
                try await Task.sleep(for: .milliseconds(10))
                state = try await client.operation(op.id).state
            }
            #expect(state == "done")
            #expect(try await client.restart(node: 2, requestId: "r/2").id == op.id)
            // A wrong token is refused with a clear message.
            await #expect {
                _ = try await HTTPAgentClient(endpoint: "http://127.0.0.1:\(p)", token: "nope").nodes()
            } throws: { "\($0)".contains("answered 401") && "\($0)".contains("bearer token") }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try String(contentsOfFile: "\(dir)/restarts", encoding: .utf8) == "2\n")
    }

    @Test func anAgentThatIsNotThereIsReportedUnreachable() async {
        // Port 9 (discard) on loopback: nothing listens there in the test environment.
        await #expect {
            _ = try await HTTPAgentClient(endpoint: "http://127.0.0.1:9", token: "t", timeoutSeconds: 2).nodes()
        } throws: { "\($0)".contains("the agent at http://127.0.0.1:9 is unreachable") }
    }
}
