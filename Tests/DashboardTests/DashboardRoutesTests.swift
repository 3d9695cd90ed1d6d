import Dashboard
import DashboardModel
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct DashboardRoutesTests {
    struct FixedSource: DashboardSource {
        func clusters() async -> [String] { ["demo"] }
        func view(cluster: String) async throws -> DashboardView {
            guard cluster == "demo" else { throw DashboardError.unknownCluster(cluster) }
            return DashboardView(
                cluster: "demo", generatedAtMs: 1,
                kubernetesClusters: [
                    KubernetesClusterView(
                        name: "k8s-1", racks: [RackView(name: "a", brokers: [BrokerView(id: 1, rack: "a", state: .up)])]
                    )
                ])
        }
    }

    func app() -> some ApplicationProtocol {
        let router = Router()
        Dashboard.addRoutes(to: router, source: FixedSource())
        return Application(router: router)
    }

    @Test func thePageAndItsAssetsAreServedFromTheBinaryWithNoExternalReference() async throws {
        try await app().test(.router) { client in
            for (path, type) in [
                ("/", "text/html"), ("/dashboard/app.js", "text/javascript"), ("/dashboard/app.css", "text/css"),
            ] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix(type) == true)
                    let body = String(buffer: response.body)
                    #expect(!body.contains("http://") || body.contains("http://www.w3.org/2000/svg"))
                    #expect(!body.contains("https://"))
                }
            }
        }
    }

    @Test func theClusterListAndAViewAreJSON() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/dashboard/api/clusters", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"clusters":["demo"]}"#)
            }
            try await client.execute(uri: "/dashboard/api/clusters/demo", method: .get) { response in
                let view = try JSONDecoder().decode(DashboardView.self, from: Data(buffer: response.body))
                #expect(view.brokerCount == 1)
            }
        }
    }

    @Test func anUnknownClusterIs404WithItsName() async throws {
        try await app().test(.router) { client in
            for path in ["/dashboard/api/clusters/nope", "/dashboard/api/clusters/nope/events"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect(String(buffer: response.body).contains("nope"))
                }
            }
        }
    }
}
