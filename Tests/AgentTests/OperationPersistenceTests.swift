import AgentContract
import AgentProcessDriver
import AgentSimDriver
import BallastTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import KafkaModel
import Logging
import NIOCore
import Testing

@testable import Agent

/// The agent's operations in a state directory: what a restarted agent answers.
@Suite struct OperationPersistenceTests {
    static let token = "s3cret"
    let auth: HTTPFields = [.authorization: "Bearer \(Self.token)"]

    /// A fresh state directory, removed after `body`.
    func withStateDirectory(_ body: (String) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("agent-state-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body(dir)
    }

    func reload(_ dir: String, maxFinished: Int = RestartOperations.defaultMaxFinished) throws -> RestartOperations {
        try RestartOperations(store: OperationStore(directory: dir), maxFinished: maxFinished)
    }

    func started(_ result: StartResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> AgentOperation {
        guard case .started(let op) = result else {
            Issue.record("expected a started operation, got \(result)", sourceLocation: sourceLocation)
            throw AgentError(.restartFailed, "not started")
        }
        return op
    }

    func app(_ driver: FakeDriver, _ operations: RestartOperations) throws -> some ApplicationProtocol {
        try AgentServer.application(
            driver: driver, configuration: .init(token: Self.token), logger: Logger(label: "test"),
            operations: operations)
    }

    func decode(_ response: TestResponse) throws -> AgentOperation {
        try JSONDecoder().decode(AgentOperation.self, from: Data(response.body.readableBytesView))
    }

    /// The operation once it has ended, as `GET /v1/operations/{id}` answers it.
    func finished(_ client: some TestClientProtocol, _ operations: RestartOperations, _ id: String) async throws
        -> AgentOperation
    {
        _ = await operations.finished(id)
        return try await client.execute(uri: "/v1/operations/\(id)", method: .get, headers: auth) { try decode($0) }
    }

    @Test func aDoneRestartAndItsRequestIdSurviveAnAgentRestartOverHTTPWithoutASecondDriverCall() async throws {
        try await withStateDirectory { dir in
            let driver = FakeDriver()
            let request = ByteBuffer(string: #"{"requestId":"roll-7/node-2"}"#)
            let operations = try reload(dir)
            let first = try await app(driver, operations).test(.router) { client in
                let op = try await client.execute(
                    uri: "/v1/nodes/2/restart", method: .post, headers: auth, body: request
                ) { response in
                    #expect(response.status == .accepted)
                    return try decode(response)
                }
                return try await finished(client, operations, op.id)
            }
            #expect(first.state == .done)
            #expect(driver.restarts.withLock { $0 } == [2])

            // A new agent process on the same state directory: the resumed roll's repeated request id.
            try await app(driver, reload(dir)).test(.router) { client in
                let again = try await client.execute(
                    uri: "/v1/nodes/2/restart", method: .post, headers: auth, body: request
                ) { response in
                    #expect(response.status == .ok)
                    return try decode(response)
                }
                #expect(again == first)
                try await client.execute(uri: "/v1/operations/\(first.id)", method: .get, headers: auth) {
                    #expect($0.status == .ok)
                    let op = try decode($0)
                    #expect(op == first)
                }
            }
            #expect(driver.restarts.withLock { $0 } == [2])
        }
    }

    @Test func aFinishedOperationLoadsWithTheSameIdStateAndRequestId() async throws {
        try await withStateDirectory { dir in
            let first = try reload(dir)
            let ok = try started(first.start(node: 1, requestId: "roll-1/node-1"))
            let bad = try started(first.start(node: 2, requestId: "roll-1/node-2"))
            try first.finish(ok.id, error: nil)
            try first.finish(bad.id, error: "restart command exited with status 2")

            let second = try reload(dir)
            #expect(second.interrupted.isEmpty)
            #expect(second.operation(ok.id)?.state == .done)
            #expect(second.operation(bad.id)?.state == .failed)
            #expect(second.operation(bad.id)?.error == "restart command exited with status 2")
            guard case .existing(let op) = second.start(node: 2, requestId: "roll-1/node-2") else {
                Issue.record("the stored request id was not recognized")
                return
            }
            #expect(op.id == bad.id)
        }
    }

    @Test func aRestartRunningWhenTheAgentStoppedLoadsAsFailedNamingTheNodeAndIsNotRunAgain() async throws {
        try await withStateDirectory { dir in
            // The "crashed" agent recorded the restart but never finished it.
            let crashed = try reload(dir)
            let op = try started(crashed.start(node: 3, requestId: "roll-9/node-3"))

            let restarted = try reload(dir)
            let expected =
                "the agent stopped while restarting node 3 (operation \(op.id)); it cannot tell whether the restart "
                + "finished: check node 3 before restarting it again"
            #expect(restarted.interrupted.map(\.id) == [op.id])
            #expect(restarted.operation(op.id)?.state == .failed)
            #expect(restarted.operation(op.id)?.error == expected)
            #expect(!restarted.isRestarting(3))

            let driver = FakeDriver()
            try await app(driver, restarted).test(.router) { client in
                // The roller resuming with the same request id gets the failure, not a second restart.
                try await client.execute(
                    uri: "/v1/nodes/3/restart", method: .post, headers: auth,
                    body: ByteBuffer(string: #"{"requestId":"roll-9/node-3"}"#)
                ) { response in
                    #expect(response.status == .ok)
                    let again = try decode(response)
                    #expect(again.id == op.id && again.state == .failed && again.error == expected)
                }
                try await client.execute(uri: "/v1/nodes", method: .get, headers: auth) { response in
                    #expect(String(buffer: response.body).contains(#""id":3"#))
                    let nodes = try JSONDecoder().decode(
                        AgentNodeList.self, from: Data(response.body.readableBytesView))
                    #expect(nodes.nodes.first { $0.id == 3 }?.ready == true)
                }
                #expect(driver.restarts.withLock { $0 }.isEmpty)
                // Once checked, a new request id restarts the node.
                let fresh = try await client.execute(
                    uri: "/v1/nodes/3/restart", method: .post, headers: auth,
                    body: ByteBuffer(string: #"{"requestId":"roll-10/node-3"}"#)
                ) { response in
                    #expect(response.status == .accepted)
                    return try decode(response)
                }
                #expect(fresh.id != op.id)
                #expect(try await finished(client, restarted, fresh.id).state == .done)
            }
            #expect(driver.restarts.withLock { $0 } == [3])
            // The failure was saved: a third agent process sees it failed, not interrupted again.
            let third = try reload(dir)
            #expect(third.interrupted.isEmpty)
            #expect(third.operation(op.id)?.error == expected)
        }
    }

    @Test func aCorruptStateFileIsRefusedNamingItAndLeftUnchanged() async throws {
        try await withStateDirectory { dir in
            let store = try OperationStore(directory: dir)
            let bytes = Data(#"{"version":1,"counter":4,"operations":[{"id":"op-1"#.utf8)
            try bytes.write(to: URL(fileURLWithPath: store.path))
            #expect {
                try RestartOperations(store: store)
            } throws: { error in
                let message = (error as? AgentError)?.message ?? ""
                return message.contains(store.path) && message.contains("corrupt")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == bytes)
            // Valid JSON that is not a state file is refused the same way.
            let other = Data(#"{"nodes":[]}"#.utf8)
            try other.write(to: URL(fileURLWithPath: store.path))
            #expect(throws: AgentError.self) { try RestartOperations(store: store) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == other)
        }
    }

    @Test func operationIdsStayUniqueAcrossAgentRestarts() async throws {
        try await withStateDirectory { dir in
            var ids: [String] = []
            for round in 0..<3 {
                let operations = try reload(dir)
                for node: Int32 in [1, 2] {
                    let op = try started(operations.start(node: node, requestId: nil))
                    try operations.finish(op.id, error: nil)
                    ids.append(op.id)
                }
                #expect(ids.last?.hasPrefix("op-\(2 * round + 2)-") == true)
            }
            #expect(Set(ids).count == 6)
        }
    }

    @Test func onlyTheNewestFinishedOperationsAreKept() async throws {
        try await withStateDirectory { dir in
            let operations = try reload(dir, maxFinished: 3)
            let running = try started(operations.start(node: 9, requestId: "r-running"))
            var finished: [AgentOperation] = []
            for i in 0..<5 {
                let op = try started(operations.start(node: Int32(i), requestId: "r-\(i)"))
                try operations.finish(op.id, error: nil)
                finished.append(op)
            }
            #expect(operations.operation(finished[0].id) == nil)
            #expect(operations.operation(finished[1].id) == nil)
            #expect(finished[2...].allSatisfy { operations.operation($0.id)?.state == .done })
            // The running one is never dropped, however old.
            #expect(operations.operation(running.id)?.state == .running)

            let file = try #require(try OperationStore(directory: dir).load())
            #expect(file.operations.map(\.id) == [running.id] + finished[2...].map(\.id))
            // A dropped request id is unknown again.
            let reloaded = try reload(dir, maxFinished: 3)
            #expect(reloaded.operation(finished[0].id) == nil)
            if case .existing = reloaded.start(node: 0, requestId: "r-0") {
                Issue.record("a dropped request id was still answered")
            }
        }
    }

    @Test func aRestartThatCannotBeRecordedIsNotRun() async throws {
        try await withStateDirectory { dir in
            let operations = try reload(dir)
            try FileManager.default.removeItem(atPath: dir)
            guard case .unrecorded(let reason) = operations.start(node: 1, requestId: "roll-1/node-1") else {
                Issue.record("a restart was accepted although it could not be saved")
                return
            }
            #expect(reason.contains(dir) && reason.contains("node 1 was not restarted"))
            #expect(!operations.isRestarting(1))
            #expect(operations.state.withLock { $0.operations.isEmpty && $0.byRequest.isEmpty })
        }
    }

    @Test func aStateDirectoryThatCannotBeCreatedIsNamed() async throws {
        try await withStateDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let file = (dir as NSString).appendingPathComponent("plain-file")
            try Data("x".utf8).write(to: URL(fileURLWithPath: file))
            #expect {
                try OperationStore(directory: file)
            } throws: { ($0 as? AgentError)?.message.contains(file) == true }
            let below = (file as NSString).appendingPathComponent("agent")
            #expect {
                try OperationStore(directory: below)
            } throws: { ($0 as? AgentError)?.message.contains(below) == true }
        }
    }

    @Test func twoAgentsCannotShareAStateDirectory() async throws {
        try await withStateDirectory { dir in
            let store = try OperationStore(directory: dir)
            do {
                let held = try StateDirectoryLock(directory: store.directory)
                #expect {
                    try StateDirectoryLock(directory: store.directory)
                } throws: { ($0 as? AgentError)?.message.contains("another ballast agent") == true }
                withExtendedLifetime(held) {}
            }
            // Released with its holder.
            _ = try StateDirectoryLock(directory: store.directory)
        }
    }
}
