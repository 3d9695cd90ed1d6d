public import Hummingbird
import KafkaModel

/// The simulator control API of DESIGN.md: list, stop, kill, start, add and remove nodes; stats; and faults
/// (a node whose next starts fail).
public enum ControlAPI {
    struct NodeView: ResponseEncodable, Decodable, Sendable {
        var id: Int32
        var rack: String?
        var cluster: String
        var roles: [NodeRole]
        var state: String
        var port: Int
        /// Starts still to fail (the injected fault), starts asked for, and starts that died at start-up.
        var failStarts: Int
        var starts: Int
        var failedStarts: Int
    }

    /// `POST /v1/brokers/{id}/faults`: the node's next `failStarts` starts fail (the process dies at start-up
    /// instead of registering); 0 clears the fault.
    struct Faults: Decodable, Sendable {
        var failStarts: Int
    }

    struct ServerProperties: Decodable, Sendable {
        var configs: [String: String]
    }

    struct NodeList: ResponseEncodable, Decodable, Sendable {
        var brokers: [NodeView]
    }

    struct AddBroker: Decodable, Sendable {
        var rack: String?
        var cluster: String?
        var id: Int32?
    }

    struct HealthPoint: Codable, Sendable {
        var timeMs: Int64
        var offline: Int
        var underMinIsr: Int
        var underReplicated: Int
    }

    struct Stats: ResponseEncodable, Decodable, Sendable {
        var timeMs: Int64
        /// Produce partition answers by Kafka error name (`NONE`, `NOT_ENOUGH_REPLICAS`, ...).
        var produce: [String: Int]
        var produceTotal: Int
        var offline: Int
        var underMinIsr: Int
        var underReplicated: Int
        var uncleanElections: Int
        var health: [HealthPoint]
        var reassignments: [ReassignmentView]
        /// Fetch partition answers by Kafka error name; consumer groups; consumer gaps; the stored log.
        var fetch: [String: Int]
        var fetchTotal: Int
        var groups: [GroupView]
        var rebalances: Int
        var consumerGaps: ConsumerGaps
        var log: LogView
    }

    struct ReassignmentView: Codable, Sendable {
        var topic: String
        var partition: Int32
        var replicas: [Int32]
        var adding: [Int32]
        var removing: [Int32]
        var copiedBytes: Int64
        var totalBytes: Int64
    }

    static func view(_ n: SimNode) -> NodeView {
        NodeView(
            id: n.id, rack: n.rack, cluster: n.cluster, roles: n.roles.sorted(), state: n.state.rawValue, port: n.port,
            failStarts: n.failStarts, starts: n.starts, failedStarts: n.failedStarts)
    }

    /// Called after a node was added so the I/O layer can open its listener; returns the bound port.
    public typealias NodeAdded = @Sendable (Int32) async throws -> Int

    public static func router(simulator sim: KafkaSimulator, onNodeAdded: @escaping NodeAdded) -> Router<
        BasicRequestContext
    > {
        let router = Router()
        router.get("/v1/brokers") { _, _ -> NodeList in
            NodeList(brokers: sim.withCluster { c in c.nodes.filter { !$0.removed }.map(view) })
        }
        router.post("/v1/brokers/:id/:action") { req, ctx -> NodeView in
            let id = try ctx.parameters.require("id", as: Int32.self)
            let action = try ctx.parameters.require("action")
            let faults = action == "faults" ? try await req.decode(as: Faults.self, context: ctx) : nil
            let properties =
                action == "server-properties" ? try await req.decode(as: ServerProperties.self, context: ctx) : nil
            let result: Result<NodeView, SimFailure> = sim.withCluster { c in
                do throws(SimFailure) {
                    switch action {
                    case "stop": try c.stop(id)
                    case "kill": try c.kill(id)
                    case "start": try c.start(id)
                    case "faults": try c.setFailStarts(faults!.failStarts, of: id)
                    case "server-properties": try c.editServerProperties(properties!.configs, of: id)
                    default:
                        throw SimFailure(
                            .invalidRequest,
                            "unknown action '\(action)'; expected stop, kill, start, faults or server-properties")
                    }
                    return .success(view(c.node(id)!))
                } catch {
                    return .failure(error)
                }
            }
            return try httpResult(result)
        }
        router.post("/v1/brokers") { req, ctx -> NodeView in
            let body = try await req.decode(as: AddBroker.self, context: ctx)
            let result: Result<Int32, SimFailure> = sim.withCluster { c in
                do throws(SimFailure) {
                    return .success(
                        try c.addBroker(id: body.id, rack: body.rack, cluster: body.cluster, state: .starting))
                } catch {
                    return .failure(error)
                }
            }
            let id = try httpResult(result)
            let port = try await onNodeAdded(id)
            return sim.withCluster { c in
                c.setPort(port, of: id)
                return view(c.node(id)!)
            }
        }
        router.delete("/v1/brokers/:id") { _, ctx -> HTTPResponse.Status in
            let id = try ctx.parameters.require("id", as: Int32.self)
            let result: Result<Void, SimFailure> = sim.withCluster { c in
                do throws(SimFailure) {
                    try c.remove(id)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            try httpResult(result)
            return .noContent
        }
        router.get("/v1/stats") { _, _ -> Stats in
            sim.withCluster { c in
                let counts = c.healthCounts()
                var produce: [String: Int] = [:]
                for (e, n) in c.stats.produceByError { produce[e.name] = n }
                let clients = clientFigures(c)
                return Stats(
                    timeMs: c.now, produce: produce, produceTotal: c.stats.produceTotal, offline: counts.offline,
                    underMinIsr: counts.underMinIsr, underReplicated: counts.underReplicated,
                    uncleanElections: c.stats.uncleanElections,
                    health: c.stats.health.map {
                        HealthPoint(
                            timeMs: $0.timeMs, offline: $0.offline, underMinIsr: $0.underMinIsr,
                            underReplicated: $0.underReplicated)
                    },
                    reassignments: c.listReassignments().map {
                        ReassignmentView(
                            topic: $0.topic, partition: $0.partition, replicas: $0.replicas, adding: $0.adding,
                            removing: $0.removing, copiedBytes: $0.copiedBytes, totalBytes: $0.totalBytes)
                    }, fetch: clients.fetch, fetchTotal: c.clientStats.fetchTotal, groups: clients.groups,
                    rebalances: clients.groups.reduce(0) { $0 + $1.rebalances }, consumerGaps: clients.gaps,
                    log: clients.log)
            }
        }
        router.get("/healthz") { _, _ -> HTTPResponse.Status in .ok }
        return router
    }

    static func httpResult<T>(_ r: Result<T, SimFailure>) throws -> T {
        switch r {
        case .success(let v): return v
        case .failure(let f):
            let status: HTTPResponse.Status = f.code == .brokerNotAvailable ? .notFound : .conflict
            throw HTTPError(status, message: f.message)
        }
    }
}
