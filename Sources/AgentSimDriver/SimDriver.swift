public import Agent
public import AgentContract
public import AsyncHTTPClient
import Foundation
public import KafkaModel
import NIOCore

/// Restarts simulator brokers through the simulator's control API (`ballast sim --control-port`):
/// `POST /v1/brokers/{id}/stop`, wait for `stopped`, `POST /v1/brokers/{id}/start`, wait for `running`.
public struct SimDriver: NodeDriver {
    public let control: String
    let client: HTTPClient
    let timeoutSeconds: Double
    let pollMilliseconds: Int64
    let clock: AnyClock
    /// How long one call to the control API may take.
    let requestTimeout: Duration

    public init(
        control: String, client: HTTPClient = .shared, timeoutSeconds: Double = 300, pollMilliseconds: Int64 = 100,
        requestTimeout: Duration = .seconds(10), clock: AnyClock = AnyClock(ContinuousClock())
    ) {
        self.requestTimeout = requestTimeout
        self.control = control.hasSuffix("/") ? String(control.dropLast()) : control
        self.client = client
        self.timeoutSeconds = timeoutSeconds
        self.pollMilliseconds = pollMilliseconds
        self.clock = clock
    }

    struct SimBroker: Decodable {
        var id: Int32
        var rack: String?
        var cluster: String?
        var roles: [NodeRole]?
        var state: String
    }

    struct SimBrokerList: Decodable {
        var brokers: [SimBroker]
    }

    func brokers() async throws -> [SimBroker] {
        let data = try await call("GET", "/v1/brokers")
        if let list = try? JSONDecoder().decode([SimBroker].self, from: data) { return list }
        do {
            return try JSONDecoder().decode(SimBrokerList.self, from: data).brokers
        } catch {
            throw AgentError(.unreachable, "the simulator at \(control) sent an unreadable broker list: \(error)")
        }
    }

    public func nodes() async throws -> [AgentNode] {
        try await brokers().map {
            AgentNode(
                id: $0.id, roles: $0.roles ?? [.broker], pod: "sim-broker-\($0.id)", ready: $0.state == "running",
                zone: $0.rack, cluster: $0.cluster)
        }
    }

    public func restart(node: Int32) async throws {
        try await post(node, "stop", applied: ["stopping", "stopped"])
        try await waitFor(node, state: "stopped")
        try await post(node, "start", applied: ["starting", "running"])
        // Once started, `stopped` means the process died during start-up: it will not come back by itself.
        try await waitFor(node, state: "running", failingOn: "stopped")
    }

    /// Asks the simulator to `stop` or `start` a broker. A call that failed (a control API slow to answer on a loaded
    /// machine) may still have been applied: the broker's state says so before the call is made again, until
    /// `timeoutSeconds`.
    func post(_ node: Int32, _ action: String, applied: Set<String>) async throws {
        let deadline = clock.elapsed + .seconds(timeoutSeconds)
        while true {
            do {
                _ = try await call("POST", "/v1/brokers/\(node)/\(action)")
                return
            } catch let error as AgentError where error.code == .unreachable && clock.elapsed < deadline {
                if let state = try? await brokers().first(where: { $0.id == node })?.state, applied.contains(state) {
                    return
                }
                try await clock.sleep(for: .milliseconds(pollMilliseconds))
            }
        }
    }

    /// Polls the broker's state until it is `state`. A poll the control API does not answer in time is not the
    /// broker's failure: polling goes on until `timeoutSeconds`.
    func waitFor(_ node: Int32, state: String, failingOn dead: String? = nil) async throws {
        let deadline = clock.elapsed + .seconds(timeoutSeconds)
        while true {
            let current: String?
            do {
                current = try await brokers().first { $0.id == node }?.state
            } catch let error as AgentError where error.code == .unreachable && clock.elapsed < deadline {
                try await clock.sleep(for: .milliseconds(pollMilliseconds))
                continue
            }
            if current == state { return }
            if let dead, current == dead {
                throw AgentError(
                    .nodeDidNotRecover,
                    "simulated broker \(node) did not come back: its process exited during start-up "
                        + "(state \(dead) instead of \(state)); check the node's logs")
            }
            if clock.elapsed >= deadline {
                throw AgentError(
                    .nodeDidNotRecover,
                    "simulated broker \(node) did not reach state \(state) within \(Int(timeoutSeconds)) s "
                        + "(it is \(current ?? "absent"))"
                        + (dead != nil && current == "starting"
                            ? ": it did not come back, check the node's logs" : ""))
            }
            try await clock.sleep(for: .milliseconds(pollMilliseconds))
        }
    }

    // MARK: The pool: every broker of the simulator

    /// The simulator's brokers (not its controller-only nodes) are one pool, `brokers`.
    public static let poolName = "brokers"

    func poolBrokers() async throws -> [SimBroker] {
        try await brokers().filter { ($0.roles ?? [.broker]).contains(.broker) }
    }

    public func pools() async throws -> [AgentPool] {
        let list = try await poolBrokers()
        return [
            AgentPool(
                name: Self.poolName, replicas: list.count, readyReplicas: list.filter { $0.state == "running" }.count,
                resource: "simulator/brokers")
        ]
    }

    /// Adds brokers (each in the rack with the fewest brokers, in that rack's Kubernetes cluster) and waits until
    /// they run; or stops the highest ids (controlled shutdown) and removes them, as a StatefulSet scaled down
    /// removes its highest ordinals. The simulator refuses to remove a broker that still hosts replicas.
    public func scale(pool: String, replicas: Int) async throws {
        guard pool == Self.poolName else {
            throw AgentError(.notManaged, "the simulator has one pool, \(Self.poolName), not \(pool)")
        }
        var list = try await poolBrokers()
        while list.count < replicas {
            let racks = Dictionary(grouping: list, by: { $0.rack ?? "" })
            let rack = racks.min { a, b in
                a.value.count != b.value.count ? a.value.count < b.value.count : a.key < b.key
            }
            var body: [String: String] = [:]
            if let rack, !rack.key.isEmpty {
                body["rack"] = rack.key
                if let cluster = rack.value.first?.cluster { body["cluster"] = cluster }
            }
            let data = try await call("POST", "/v1/brokers", body: try JSONEncoder().encode(body))
            let added = try JSONDecoder().decode(SimBroker.self, from: data)
            try await waitFor(added.id, state: "running", failingOn: "stopped")
            list = try await poolBrokers()
        }
        while list.count > replicas, let highest = list.max(by: { $0.id < $1.id }) {
            if highest.state != "stopped" {
                _ = try await call("POST", "/v1/brokers/\(highest.id)/stop")
                try await waitFor(highest.id, state: "stopped")
            }
            _ = try await call("DELETE", "/v1/brokers/\(highest.id)")
            list = try await poolBrokers()
        }
    }

    func call(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        var request = HTTPClientRequest(url: control + path)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .init(requestTimeout))
            body = try await response.body.collect(upTo: 4 << 20)
        } catch {
            throw AgentError(.unreachable, "the simulator control API at \(control) is unreachable: \(error)")
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            throw AgentError(
                .unreachable,
                "the simulator control API answered \(response.status.code) to \(method) \(path): "
                    + String(buffer: body).prefix(300))
        }
        return Data(body.readableBytesView)
    }
}
