import Foundation
import Hummingbird
public import KubernetesAPI
import Yams

/// The simulated Kubernetes API's part of the simulator control API (`ballast sim --control-port`):
///
/// - `GET /v1/kubernetes` → `{"clusters": [{name, server, kubeconfig, tokenFile, namespace, pods: [{name, uid, node,
///   ready, phase, status, restarts, terminating, created, deleted}]}]}` (`created`/`deleted`: pods of that node
///   made and deleted since the start);
/// - `POST /v1/kubernetes/nodes/{id}/fault` `{"fault": "CrashLoopBackOff" | "ImagePullBackOff" | "Unschedulable" |
///   null}` holds the node's pod whenever it (re)starts, until cleared with null;
/// - `POST /v1/kubernetes/clusters/{name}/rotate-token` → `{"token": "..."}`: the old token is refused from now on;
///   the token file and the kubeconfig are rewritten;
/// - `POST /v1/kubernetes/clusters/{name}/outage` `{"down": true | false}`: cuts the cluster's API off (every call
///   answers 503) or restores it.
extension KubernetesSimulator {
    struct PodView: ResponseEncodable, Decodable, Sendable {
        var name: String
        var uid: String
        var node: Int32
        var ready: Bool
        var phase: String
        var status: String
        var restarts: Int
        var terminating: Bool
        var created: Int
        var deleted: Int
    }

    struct ClusterView: ResponseEncodable, Decodable, Sendable {
        var name: String
        var server: String
        var kubeconfig: String
        var tokenFile: String
        var namespace: String
        var pods: [PodView]
    }

    struct ClusterList: ResponseEncodable, Decodable, Sendable {
        var clusters: [ClusterView]
    }

    struct FaultBody: Decodable, Sendable {
        var fault: PodFault?
    }

    struct OutageBody: Decodable, Sendable {
        var down: Bool
    }

    struct TokenView: ResponseEncodable, Decodable, Sendable {
        var token: String
    }

    func clusterViews() -> [ClusterView] {
        endpoints.map { e in
            let pods =
                withCluster(e.name) { w in
                    w.pods.values.sorted { $0.name < $1.name }.map { p in
                        PodView(
                            name: p.name, uid: p.uid, node: p.broker, ready: p.object.isReady && !p.isTerminating,
                            phase: p.object.status?.phase ?? "", status: KubeTable.podStatus(p.object),
                            restarts: p.restarts, terminating: p.isTerminating, created: w.creations[p.broker] ?? 0,
                            deleted: w.deletions[p.broker] ?? 0)
                    }
                } ?? []
            return ClusterView(
                name: e.name, server: e.server, kubeconfig: e.kubeconfig, tokenFile: e.tokenFile,
                namespace: e.namespace, pods: pods)
        }
    }

    func controlRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/v1/kubernetes") { [self] _, _ -> ClusterList in ClusterList(clusters: clusterViews()) }
        router.post("/v1/kubernetes/nodes/:id/fault") { [self] request, context -> HTTPResponse.Status in
            let id = try context.parameters.require("id", as: Int32.self)
            let body: FaultBody
            do {
                body = try await request.decode(as: FaultBody.self, context: context)
            } catch {
                throw HTTPError(
                    .badRequest,
                    message: "the body must be {\"fault\": \"CrashLoopBackOff\" | \"ImagePullBackOff\" | "
                        + "\"Unschedulable\" | null}")
            }
            do {
                try setFault(body.fault, broker: id)
            } catch {
                throw HTTPError(.notFound, message: "\(error)")
            }
            return .noContent
        }
        router.post("/v1/kubernetes/clusters/:name/rotate-token") { [self] _, context -> TokenView in
            let name = try context.parameters.require("name")
            do {
                return TokenView(token: try rotateToken(cluster: name))
            } catch {
                throw HTTPError(.notFound, message: "\(error)")
            }
        }
        router.post("/v1/kubernetes/clusters/:name/outage") { [self] request, context -> HTTPResponse.Status in
            let name = try context.parameters.require("name")
            let body: OutageBody
            do {
                body = try await request.decode(as: OutageBody.self, context: context)
            } catch {
                throw HTTPError(.badRequest, message: "the body must be {\"down\": true | false}")
            }
            do {
                try setOutage(body.down, cluster: name)
            } catch {
                throw HTTPError(.notFound, message: "\(error)")
            }
            return .noContent
        }
    }
}

extension RBACPolicy {
    /// The Roles and ClusterRoles of a YAML file (several documents separated by `---`; other kinds, such as
    /// RoleBindings, are skipped). Throws naming the file when it holds none or cannot be parsed.
    public static func load(yamlFile path: String) throws -> RBACPolicy {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KubeSimError("the Role file \(path) could not be read")
        }
        return try load(yaml: text, source: path)
    }

    public static func load(yaml text: String, source: String = "the Role") throws -> RBACPolicy {
        var roles: [RBACRole] = []
        var document: [Substring] = []
        func flush() throws {
            defer { document = [] }
            let body = document.joined(separator: "\n")
            guard body.contains(where: { !$0.isWhitespace }) else { return }
            do {
                let role = try YAMLDecoder().decode(RBACRole.self, from: body)
                if role.kind == "Role" || role.kind == "ClusterRole" { roles.append(role) }
            } catch {
                throw KubeSimError("\(source) is not valid YAML of Kubernetes objects: \(error)")
            }
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("---") { try flush() } else { document.append(line) }
        }
        try flush()
        guard !roles.isEmpty else { throw KubeSimError("\(source) holds no Role or ClusterRole") }
        return RBACPolicy(roles: roles)
    }
}
