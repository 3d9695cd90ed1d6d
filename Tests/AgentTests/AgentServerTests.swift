import AgentContract
import BallastTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MetricsTestKit
import NIOCore
import Synchronization
import Testing

@testable import Agent

@Suite struct AgentServerTests {
    static let token = "s3cret"
    let auth: HTTPFields = [.authorization: "Bearer \(Self.token)"]

    func app(_ driver: FakeDriver, _ operations: RestartOperations = RestartOperations()) throws
        -> some ApplicationProtocol
    {
        try AgentServer.application(
            driver: driver, configuration: .init(token: Self.token, cluster: "k8s-east"), logger: Logger(label: "test"),
            operations: operations)
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
    }

    func body(_ json: String) -> ByteBuffer { ByteBuffer(string: json) }

    @Test func everyRouteRefusesAMissingOrWrongToken() async throws {
        try await app(FakeDriver()).test(.router) { client in
            let routes: [(String, HTTPRequest.Method)] = [
                ("/healthz", .get), ("/v1/nodes", .get), ("/v1/nodes/1/restart", .post), ("/v1/operations/x", .get),
            ]
            for (uri, method) in routes {
                try await client.execute(uri: uri, method: method) { #expect($0.status == .unauthorized) }
                try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer wrong"]) {
                    #expect($0.status == .unauthorized)
                }
            }
            try await client.execute(uri: "/healthz", method: .get, headers: auth) { #expect($0.status == .ok) }
        }
    }

    @Test func nodesAreListedWithTheirZoneAndCluster() async throws {
        try await app(FakeDriver()).test(.router) { client in
            try await client.execute(uri: "/v1/nodes", method: .get, headers: auth) { response in
                let list = try decode(AgentNodeList.self, response)
                #expect(list.nodes.map(\.id) == [1, 2, 3])
                #expect(list.nodes.allSatisfy { $0.cluster == "k8s-east" && $0.ready })
                #expect(list.nodes[1].zone == "z2")
            }
        }
    }

    /// A driver whose cluster cannot be reached: listing its nodes fails.
    struct UnlistingDriver: NodeDriver {
        func nodes() async throws -> [AgentNode] {
            throw AgentError(.unreachable, "the Kubernetes API at https://10.0.0.1 answered 503")
        }
        func restart(node: Int32) async throws {}
    }

    /// The 60-broker simulator run of issue #15 stopped on a 500: the sim driver's node list timed out under load
    /// while the agent checked the node of a restart request. That is the driver's failure, with its reason: 502.
    @Test func aRestartWhoseDriverCannotTellItsNodesIsABadGatewayNotAServerError() async throws {
        let app = try AgentServer.application(
            driver: UnlistingDriver(), configuration: .init(token: Self.token), logger: Logger(label: "test"),
            operations: RestartOperations())
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/nodes/2/restart", method: .post, headers: auth, body: body(#"{"requestId":"r-1"}"#)
            ) { response in
                #expect(response.status == .badGateway)
                let body = try decode(AgentErrorBody.self, response)
                #expect(body.error.hasPrefix("the agent could not tell whether it manages node 2: "), "\(body.error)")
                #expect(body.error.contains("answered 503"))
            }
        }
    }

    @Test func aDriverThatCannotListItsNodesIsABadGatewayWithItsReason() async throws {
        let app = try AgentServer.application(
            driver: UnlistingDriver(), configuration: .init(token: Self.token), logger: Logger(label: "test"),
            operations: RestartOperations())
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/nodes", method: .get, headers: auth) { response in
                #expect(response.status == .badGateway)
                let body = try decode(AgentErrorBody.self, response)
                #expect(
                    body.error
                        == "the agent could not list its nodes: the Kubernetes API at https://10.0.0.1 answered 503")
            }
        }
    }

    @Test func aRestartRunsToDoneAndARepeatedRequestIdDoesNotRestartAgain() async throws {
        let driver = FakeDriver(holding: true)
        let operations = RestartOperations()
        try await app(driver, operations).test(.router) { client in
            let op = try await client.execute(
                uri: "/v1/nodes/2/restart", method: .post, headers: auth, body: body(#"{"requestId":"roll-1/node-2"}"#)
            ) { response in
                #expect(response.status == .accepted)
                return try decode(AgentOperation.self, response)
            }
            #expect(op.state == .running && op.node == 2)
            // While it runs the node is not ready, and another restart of it is refused.
            try await client.execute(uri: "/v1/nodes", method: .get, headers: auth) { response in
                let node = try decode(AgentNodeList.self, response).nodes.first { $0.id == 2 }
                #expect(node?.ready == false)
            }
            try await client.execute(uri: "/v1/nodes/2/restart", method: .post, headers: auth) {
                #expect($0.status == .conflict)
            }
            driver.release(2)
            _ = await operations.finished(op.id)
            let state = try await client.execute(uri: "/v1/operations/\(op.id)", method: .get, headers: auth) {
                try decode(AgentOperation.self, $0).state
            }
            #expect(state == .done)
            let again = try await client.execute(
                uri: "/v1/nodes/2/restart", method: .post, headers: auth, body: body(#"{"requestId":"roll-1/node-2"}"#)
            ) { response in
                #expect(response.status == .ok)
                return try decode(AgentOperation.self, response)
            }
            #expect(again.id == op.id && again.state == .done)
        }
        #expect(driver.restarts.withLock { $0 } == [2])
    }

    @Test func aFailedRestartIsReportedWithTheDriversReason() async throws {
        let operations = RestartOperations()
        try await app(FakeDriver(failing: [3]), operations).test(.router) { client in
            let op = try await client.execute(uri: "/v1/nodes/3/restart", method: .post, headers: auth) {
                try decode(AgentOperation.self, $0)
            }
            _ = await operations.finished(op.id)
            let current = try await client.execute(uri: "/v1/operations/\(op.id)", method: .get, headers: auth) {
                try decode(AgentOperation.self, $0)
            }
            #expect(current.state == .failed)
            #expect(current.error == "restart command exited with status 2")
        }
    }

    @Test func unknownNodesAndOperationsAreNotFound() async throws {
        try await app(FakeDriver()).test(.router) { client in
            try await client.execute(uri: "/v1/nodes/9/restart", method: .post, headers: auth) {
                #expect($0.status == .notFound)
                #expect(String(buffer: $0.body).contains("node 9 is not managed by this agent"))
            }
            try await client.execute(uri: "/v1/operations/nope", method: .get, headers: auth) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/v1/nodes/x/restart", method: .post, headers: auth) {
                #expect($0.status == .badRequest)
            }
        }
    }

    @Test func restartsAreCountedDoneAndFailedInMetrics() async throws {
        let metrics = TestMetrics()
        let operations = RestartOperations()
        let app = try AgentServer.application(
            driver: FakeDriver(failing: [3]), configuration: .init(token: Self.token), logger: Logger(label: "test"),
            operations: operations, metrics: AgentMetrics(factory: metrics))
        try await app.test(.router) { client in
            for node in [1, 3] {
                let op = try await client.execute(uri: "/v1/nodes/\(node)/restart", method: .post, headers: auth) {
                    try decode(AgentOperation.self, $0)
                }
                _ = await operations.finished(op.id)
            }
        }
        #expect(try metrics.expectCounter("ballast_agent_restarts_requested_total").totalValue == 2)
        #expect(try metrics.expectCounter("ballast_agent_restarts_done_total").totalValue == 1)
        #expect(try metrics.expectCounter("ballast_agent_restarts_failed_total").totalValue == 1)
        #expect(try metrics.expectTimer("ballast_agent_restart_duration_seconds").values.count == 2)
        #expect(try metrics.expectGauge("ballast_agent_restarts_running").lastValue == 0)
    }
}
