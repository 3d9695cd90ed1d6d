import AgentContract
import BallastTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

@testable import Agent

/// A driver with one pool whose scales wait until the test lets them finish (`releaseOne`, no timers).
final class PoolDriver: NodeDriver {
    let scales = Mutex<[Int]>([])
    /// Releases not yet used, and scales waiting for one.
    let gate = Mutex<(released: Int, waiting: [CheckedContinuation<Void, Never>])>((0, []))

    func nodes() async throws -> [AgentNode] { [AgentNode(id: 1), AgentNode(id: 2), AgentNode(id: 3)] }
    func restart(node: Int32) async throws {}
    func pools() async throws -> [AgentPool] {
        [AgentPool(name: "kafka", replicas: 3, readyReplicas: 3, resource: "statefulsets.apps/kafka")]
    }
    func scale(pool: String, replicas: Int) async throws {
        scales.withLock { $0.append(replicas) }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go = gate.withLock { g -> Bool in
                if g.released > 0 {
                    g.released -= 1
                    return true
                }
                g.waiting.append(c)
                return false
            }
            if go { c.resume() }
        }
        if replicas == 9 { throw AgentError("pod kafka-8 of pool kafka is stuck: ImagePullBackOff") }
    }

    func releaseOne() {
        let waiter = gate.withLock { g -> CheckedContinuation<Void, Never>? in
            if g.waiting.isEmpty {
                g.released += 1
                return nil
            }
            return g.waiting.removeFirst()
        }
        waiter?.resume()
    }
}

@Suite struct PoolScaleTests {
    static let token = "s3cret"
    let auth: HTTPFields = [.authorization: "Bearer \(Self.token)"]

    func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
    }

    @Test func aScaleIsAnOperationAnsweredAgainForItsRequestIdAndRefusedWhileThePoolScales() async throws {
        let driver = PoolDriver()
        let operations = RestartOperations()
        let app = try AgentServer.application(
            driver: driver, configuration: .init(token: Self.token), logger: Logger(label: "test"),
            operations: operations)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/pools", method: .get, headers: auth) { response in
                let pools = try decode(AgentPoolList.self, response).pools
                #expect(pools.map(\.name) == ["kafka"])
            }
            let op = try await client.execute(
                uri: "/v1/pools/kafka/scale", method: .post, headers: auth,
                body: ByteBuffer(string: #"{"replicas": 4, "requestId": "grow-1"}"#)
            ) { response in
                #expect(response.status == .accepted)
                return try decode(AgentOperation.self, response)
            }
            #expect(
                op.kind == .scale && op.pool == "kafka" && op.replicas == 4 && op.node == nil && op.state == .running)
            try await client.execute(
                uri: "/v1/pools/kafka/scale", method: .post, headers: auth,
                body: ByteBuffer(string: #"{"replicas": 5}"#)
            ) { response in
                #expect(response.status == .conflict)
                #expect(String(buffer: response.body).contains("pool kafka is already scaling"))
            }
            driver.releaseOne()
            #expect(await operations.finished(op.id)?.state == .done)
            try await client.execute(
                uri: "/v1/pools/kafka/scale", method: .post, headers: auth,
                body: ByteBuffer(string: #"{"replicas": 4, "requestId": "grow-1"}"#)
            ) { response in
                #expect(response.status == .ok)
                let again = try decode(AgentOperation.self, response)
                #expect(again.id == op.id)
            }
            // A stuck pool fails the operation with the driver's reason.
            let stuck = try await client.execute(
                uri: "/v1/pools/kafka/scale", method: .post, headers: auth,
                body: ByteBuffer(string: #"{"replicas": 9}"#)
            ) { try decode(AgentOperation.self, $0) }
            driver.releaseOne()
            let failed = await operations.finished(stuck.id)
            #expect(failed?.state == .failed && failed?.error?.contains("ImagePullBackOff") == true)
        }
        #expect(driver.scales.withLock { $0 } == [4, 9])
    }

    @Test func unknownPoolsBadBodiesAndDriversWithoutPoolsAreRefused() async throws {
        let app = try AgentServer.application(
            driver: PoolDriver(), configuration: .init(token: Self.token), logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/pools/zk/scale", method: .post, headers: auth, body: ByteBuffer(string: #"{"replicas": 1}"#)
            ) { response in
                #expect(response.status == .notFound)
                #expect(
                    String(buffer: response.body).contains("pool zk is not managed by this agent (its pools: kafka)"))
            }
            try await client.execute(
                uri: "/v1/pools/kafka/scale", method: .post, headers: auth, body: ByteBuffer(string: "{}")
            ) { #expect($0.status == .badRequest) }
            try await client.execute(
                uri: "/v1/pools/kafka/scale", method: .post, headers: auth,
                body: ByteBuffer(string: #"{"replicas": -1}"#)
            ) { #expect($0.status == .badRequest) }
        }
        let none = try AgentServer.application(
            driver: FakeDriver(), configuration: .init(token: Self.token), logger: Logger(label: "test"))
        try await none.test(.router) { client in
            try await client.execute(
                uri: "/v1/pools/kafka/scale", method: .post, headers: auth,
                body: ByteBuffer(string: #"{"replicas": 1}"#)
            ) { #expect($0.status == .notImplemented) }
            try await client.execute(uri: "/v1/pools", method: .get, headers: auth) { response in
                let pools = try decode(AgentPoolList.self, response).pools
                #expect(pools.isEmpty)
            }
        }
    }

    @Test func aScaleRunningWhenTheAgentStoppedIsReportedFailedAfterARestart() async throws {
        let dir = NSTemporaryDirectory() + "ballast-pool-state-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try RestartOperations(store: try OperationStore(directory: dir))
        guard case .started(let op) = await first.startScale(pool: "kafka", replicas: 6, requestId: "grow-2") else {
            Issue.record("the scale was not started")
            return
        }
        let second = try RestartOperations(store: try OperationStore(directory: dir))
        #expect(second.interrupted.map(\.id) == [op.id])
        let loaded = try #require(second.operation(op.id))
        #expect(loaded.state == .failed && loaded.kind == .scale)
        #expect(loaded.error?.contains("the agent stopped while scaling pool kafka to 6") == true)
        // The same request id is answered with that failure, not scaled again.
        guard case .existing(let again) = await second.startScale(pool: "kafka", replicas: 6, requestId: "grow-2")
        else {
            Issue.record("the repeated request id started a new scale")
            return
        }
        #expect(again.id == op.id && again.state == .failed)
    }

    @Test func operationsWrittenBeforePoolsExistedStillLoadAsRestarts() throws {
        let old = #"{"id":"op-1-abc","node":3,"state":"done","requestId":"r"}"#
        let op = try JSONDecoder().decode(AgentOperation.self, from: Data(old.utf8))
        #expect(op.kind == .restart && op.node == 3 && op.pool == nil)
    }
}
