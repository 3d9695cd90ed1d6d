/// The discovery documents of the simulated API (`/api`, `/apis`, `/api/v1`, `/apis/{group}`,
/// `/apis/{group}/{version}`) and `/version`: what kubectl 1.20-1.32 read before `get`, `delete` and `scale`. kubectl
/// 1.27+ asks for aggregated discovery first and falls back to these legacy documents when it gets them.
enum KubeDiscovery {
    struct Version: Encodable {
        var major = "1"
        var minor = "32"
        var gitVersion = "v1.32.0-ballast-sim"
        var gitCommit = "0000000000000000000000000000000000000000"
        var gitTreeState = "clean"
        var buildDate = "2026-01-01T00:00:00Z"
        var goVersion = "go1.23.0"
        var compiler = "gc"
        var platform = "linux/amd64"
    }

    struct APIVersions: Encodable {
        var kind = "APIVersions"
        var versions = ["v1"]
        var serverAddressByClientCIDRs = [ServerAddress()]
    }

    struct ServerAddress: Encodable {
        var clientCIDR = "0.0.0.0/0"
        var serverAddress = "127.0.0.1"
    }

    struct GroupVersion: Encodable {
        var groupVersion: String
        var version: String
    }

    struct APIGroup: Encodable {
        var kind = "APIGroup"
        var apiVersion = "v1"
        var name: String
        var versions: [GroupVersion]
        var preferredVersion: GroupVersion

        init(_ name: String, _ version: String) {
            self.name = name
            let gv = GroupVersion(groupVersion: "\(name)/\(version)", version: version)
            versions = [gv]
            preferredVersion = gv
        }
    }

    struct APIGroupList: Encodable {
        var kind = "APIGroupList"
        var apiVersion = "v1"
        var groups: [APIGroup]
    }

    struct APIResource: Encodable {
        var name: String
        var singularName: String
        var namespaced: Bool
        var group: String?
        var version: String?
        var kind: String
        var verbs: [String]
        var shortNames: [String]?
        var categories: [String]?
    }

    struct APIResourceList: Encodable {
        var kind = "APIResourceList"
        var apiVersion = "v1"
        var groupVersion: String
        var resources: [APIResource]
    }

    static let version = Version()
    static let apiVersions = APIVersions()
    static let groupList = [APIGroup("apps", "v1"), APIGroup("policy", "v1"), APIGroup("kafka.strimzi.io", "v1beta2")]
    static let groups = APIGroupList(groups: groupList)
    static let groupsByName = Dictionary(uniqueKeysWithValues: groupList.map { ($0.name, $0) })

    static let coreResources = APIResourceList(
        groupVersion: "v1",
        resources: [
            APIResource(
                name: "namespaces", singularName: "namespace", namespaced: false, kind: "Namespace",
                verbs: ["get", "list"], shortNames: ["ns"]),
            APIResource(
                name: "nodes", singularName: "node", namespaced: false, kind: "Node", verbs: ["get", "list"],
                shortNames: ["no"]),
            APIResource(
                name: "pods", singularName: "pod", namespaced: true, kind: "Pod",
                verbs: ["delete", "get", "list", "watch"], shortNames: ["po"], categories: ["all"]),
            APIResource(
                name: "pods/eviction", singularName: "", namespaced: true, group: "policy", version: "v1",
                kind: "Eviction", verbs: ["create"]),
        ])

    static let resourcesByGroupVersion: [String: APIResourceList] = [
        "apps/v1": APIResourceList(
            groupVersion: "apps/v1",
            resources: [
                APIResource(
                    name: "statefulsets", singularName: "statefulset", namespaced: true, kind: "StatefulSet",
                    verbs: ["get", "list", "watch"], shortNames: ["sts"], categories: ["all"]),
                APIResource(
                    name: "statefulsets/scale", singularName: "", namespaced: true, group: "autoscaling",
                    version: "v1", kind: "Scale", verbs: ["get", "patch", "update"]),
            ]),
        // Strimzi's node pools, as far as the agent uses them: the scale subresource (served when the simulator
        // models Strimzi pods; the pools themselves are not listed).
        "kafka.strimzi.io/v1beta2": APIResourceList(
            groupVersion: "kafka.strimzi.io/v1beta2",
            resources: [
                APIResource(
                    name: "kafkanodepools/scale", singularName: "", namespaced: true, group: "autoscaling",
                    version: "v1", kind: "Scale", verbs: ["get", "patch", "update"])
            ]),
        "policy/v1": APIResourceList(
            groupVersion: "policy/v1",
            resources: [
                APIResource(
                    name: "poddisruptionbudgets", singularName: "poddisruptionbudget", namespaced: true,
                    kind: "PodDisruptionBudget", verbs: ["get", "list", "watch"], shortNames: ["pdb"])
            ]),
    ]
}
