import Foundation
import KubernetesAPI
import KubernetesSim
import Testing

@Suite struct LabelSelectorTests {
    @Test func equalityInequalitySetAndExistenceRequirementsMatchAsKubernetesDoes() throws {
        let s = try LabelSelector(parsing: "app.kubernetes.io/name=kafka, tier!=cache,zone in (a, b),!legacy,role")
        #expect(s.matches(["app.kubernetes.io/name": "kafka", "zone": "a", "role": "x"]))
        #expect(!s.matches(["app.kubernetes.io/name": "kafka", "zone": "c", "role": "x"]))
        #expect(!s.matches(["app.kubernetes.io/name": "kafka", "zone": "a", "role": "x", "legacy": "1"]))
        #expect(!s.matches(["app.kubernetes.io/name": "kafka", "zone": "a", "role": "x", "tier": "cache"]))
        #expect(!s.matches(["app.kubernetes.io/name": "kafka", "zone": "a"]))
        #expect(try LabelSelector(parsing: "a notin (x)").matches([:]))
        #expect(try LabelSelector(parsing: "").matches(["any": "thing"]))
        #expect(try LabelSelector(parsing: "a==1").equalities == ["a": "1"])
    }

    @Test func aSelectorThatIsNotOneNamesThePartAtFault() {
        #expect(throws: SelectorError.self) { try LabelSelector(parsing: "app=kafka,-bad-=x") }
        do {
            _ = try LabelSelector(parsing: "zone within (a)")
            Issue.record("should have failed")
        } catch {
            #expect(error.message.contains("within"))
        }
    }

    @Test func theStringFormRoundTrips() throws {
        let text = "a=1,b!=2,c in (x,y),d notin (z),e,!f"
        #expect(try LabelSelector(parsing: text).description == text)
    }

    @Test func fieldSelectorsMatchNamedFieldsAndRefuseUnknownOnes() throws {
        let f = try FieldSelector(parsing: "metadata.name=kafka-0,status.phase!=Failed")
        let fields: Set<String> = ["metadata.name", "status.phase"]
        #expect(try f.matches(["metadata.name": "kafka-0", "status.phase": "Running"], supported: fields))
        #expect(try !f.matches(["metadata.name": "kafka-1", "status.phase": "Running"], supported: fields))
        #expect(throws: SelectorError.self) { try f.matches([:], supported: ["metadata.name"]) }
    }
}

@Suite struct RBACTests {
    static let role = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: r, namespace: kafka}
        rules:
          - apiGroups: [""]
            resources: ["pods"]
            verbs: ["list", "delete"]
          - apiGroups: [""]
            resources: ["pods/eviction"]
            verbs: ["create"]
          - apiGroups: ["apps"]
            resources: ["*/scale"]
            verbs: ["get"]
            resourceNames: ["kafka"]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: ignored}
        roleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: nodes}
        rules:
          - apiGroups: [""]
            resources: ["nodes"]
            verbs: ["get"]
        """

    @Test func aRoleGrantsItsVerbsOnItsResourcesInItsNamespaceOnly() throws {
        let policy = try RBACPolicy.load(yaml: Self.role)
        #expect(policy.roles.count == 2)
        #expect(policy.allows(.init(verb: "delete", group: "", resource: "pods", name: "kafka-0", namespace: "kafka")))
        #expect(!policy.allows(.init(verb: "delete", group: "", resource: "pods", name: "kafka-0", namespace: "other")))
        #expect(!policy.allows(.init(verb: "get", group: "", resource: "pods", name: "kafka-0", namespace: "kafka")))
        // A subresource needs its own rule.
        #expect(
            !policy.allows(
                .init(verb: "delete", group: "", resource: "pods", subresource: "eviction", namespace: "kafka")))
        #expect(
            policy.allows(
                .init(verb: "create", group: "", resource: "pods", subresource: "eviction", namespace: "kafka")))
        // `*/scale` with resourceNames.
        #expect(
            policy.allows(
                .init(
                    verb: "get", group: "apps", resource: "statefulsets", subresource: "scale", name: "kafka",
                    namespace: "kafka")))
        #expect(
            !policy.allows(
                .init(
                    verb: "get", group: "apps", resource: "statefulsets", subresource: "scale", name: "zk",
                    namespace: "kafka")))
        // The ClusterRole applies to cluster-scoped resources; the Role never does.
        #expect(policy.allows(.init(verb: "get", group: "", resource: "nodes", name: "n1")))
        #expect(!policy.allows(.init(verb: "list", group: "", resource: "nodes")))
    }

    @Test func grantsListEveryVerbAndResourcePair() throws {
        let policy = try RBACPolicy.load(yaml: Self.role)
        #expect(
            policy.grants == [
                "list pods", "delete pods", "create pods/eviction", "get *.apps/scale", "get nodes",
            ])
    }

    @Test func aFileWithoutARoleIsRefusedNamingIt() {
        #expect(throws: KubeSimError.self) { try RBACPolicy.load(yaml: "kind: ServiceAccount\nmetadata: {name: a}") }
    }
}

@Suite struct ObjectJSONTests {
    @Test func watchEventsDecodeObjectsAndErrorStatuses() throws {
        let added = #"{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","uid":"u1"}}}"#
        let error =
            #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410,"message":"too old"}}"#
        #expect(try JSONDecoder().decode(WatchEvent<Pod>.self, from: Data(added.utf8)).object?.metadata.uid == "u1")
        guard case .error(let s) = try JSONDecoder().decode(WatchEvent<Pod>.self, from: Data(error.utf8)) else {
            Issue.record("not an error event")
            return
        }
        #expect(s.code == 410 && s.reason == "Expired")
    }

    @Test func nilFieldsAreLeftOutAndPercentagesRoundUp() throws {
        let json = String(decoding: try JSONEncoder().encode(Pod(metadata: ObjectMeta(name: "p"))), as: UTF8.self)
        #expect(!json.contains("null"))
        #expect(IntOrString.string("50%").value(of: 3) == 2)
        #expect(IntOrString.int(1).value(of: 3) == 1)
    }
}
