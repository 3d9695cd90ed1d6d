public import DashboardModel
import Foundation
public import Hummingbird

/// Where the dashboard's data comes from: `LiveDashboardSource` in `ballast serve` and `ballast demo`, a fixed
/// view in tests.
public protocol DashboardSource: Sendable {
    /// The Kafka clusters the page can show, in the order it lists them.
    func clusters() async -> [String]
    /// Everything the page shows for one cluster; throws `DashboardError.unknownCluster` for a name not listed.
    func view(cluster: String) async throws -> DashboardView
}

public struct DashboardError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public var status: HTTPResponse.Status

    public init(_ description: String, status: HTTPResponse.Status = .internalServerError) {
        self.description = description
        self.status = status
    }

    public static func unknownCluster(_ name: String) -> DashboardError {
        DashboardError("no Kafka cluster named '\(name)'", status: .notFound)
    }
}

/// The dashboard: the page at `/`, its assets under `/dashboard/`, its JSON API under `/dashboard/api/`. Everything
/// is compiled into the binary (no CDN, fonts or build step).
public enum Dashboard {
    /// How often the live stream sends a new view.
    public static let streamInterval: Duration = .seconds(1)
    /// How long one live stream lasts before the browser reconnects (EventSource does it by itself), so that an
    /// open page never holds a server's shutdown for long.
    public static let streamLifetime: Duration = .seconds(30)

    /// Adds `GET /`, `GET /dashboard/app.js`, `GET /dashboard/app.css`, `GET /dashboard/api/clusters`,
    /// `GET /dashboard/api/clusters/{c}` and `GET /dashboard/api/clusters/{c}/events` (server-sent events: a view
    /// every `streamInterval`).
    public static func addRoutes<C: RequestContext>(to router: Router<C>, source: some DashboardSource) {
        router.get("/") { _, _ in asset(DashboardPage.html, type: "text/html; charset=utf-8") }
        router.get("/dashboard/app.js") { _, _ in
            asset(DashboardPage.javaScript, type: "text/javascript; charset=utf-8")
        }
        router.get("/dashboard/app.css") { _, _ in asset(DashboardPage.css, type: "text/css; charset=utf-8") }
        router.get("/dashboard/api/clusters") { _, _ in
            json(ClusterList(clusters: await source.clusters()))
        }
        router.get("/dashboard/api/clusters/{cluster}") { _, context in
            let cluster = try context.parameters.require("cluster")
            do {
                return json(try await source.view(cluster: cluster))
            } catch let error as DashboardError {
                return json(ErrorBody(error: error.description), status: error.status)
            }
        }
        router.get("/dashboard/api/clusters/{cluster}/events") { _, context in
            let cluster = try context.parameters.require("cluster")
            guard await source.clusters().contains(cluster) else {
                let error = DashboardError.unknownCluster(cluster)
                return json(ErrorBody(error: error.description), status: error.status)
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    let clock = ContinuousClock()
                    let end = clock.now + streamLifetime
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    while clock.now < end, !Task.isCancelled {
                        let message: String
                        do {
                            let view = try await source.view(cluster: cluster)
                            message = "data: " + String(decoding: try encoder.encode(view), as: UTF8.self) + "\n\n"
                        } catch {
                            message =
                                "event: problem\ndata: \(String(describing: error).replacingOccurrences(of: "\n", with: " "))\n\n"
                        }
                        try await writer.write(ByteBuffer(string: message))
                        try await Task.sleep(for: streamInterval)
                    }
                    try await writer.finish(nil)
                })
        }
    }

    struct ClusterList: Codable {
        var clusters: [String]
    }

    struct ErrorBody: Codable {
        var error: String
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
