import Agent
import AgentContract
import BallastTestSupport
import Foundation
import KafkaModel
import KafkaSim
import KubernetesAPI
import Logging
import Synchronization
import Testing

@testable import AgentKubernetesDriver
@testable import KubernetesSim

/// Polls `condition` until it holds. Used only where the thing awaited happens inside another component with no
/// event to await (a pod's state in the simulated API while the driver waits on it); the deadline is generous so a
/// loaded machine cannot miss it, and a condition that never holds fails the test with `what`.
func eventually(
    _ what: String, seconds: Double = 120, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting until \(what)")
    throw CancellationError()
}

extension KubernetesHarness {
    func pod(_ name: String, cluster: String = "k8s-1") -> SimPod? {
        kubernetes.withCluster(cluster) { $0.pods[name] } ?? nil
    }

    func starts(_ node: Int32) -> Int { sim.simulator.withCluster { $0.node(node)?.starts ?? -1 } }
}

/// The `kubernetes` driver against the simulated Kubernetes API over TCP (HTTPS, a token from the kubeconfig):
/// 3 brokers in one Kubernetes cluster, RF 3, min ISR 2.
@Suite(.serialized) struct KubernetesDriverTests {
    @Test func theDefaultsFindEveryBrokerWithItsRolesZonePodAndReadiness() async throws {
        try await KubernetesHarness.with({ try await KubernetesHarness.small() }) { h in
            let nodes = try await h.withDriver { try await $0.nodes() }
            #expect(nodes.map(\.id) == [1, 2, 3])
            #expect(nodes.map(\.pod) == ["kafka-0", "kafka-1", "kafka-2"])
            #expect(nodes.map(\.zone) == ["rack-a", "rack-b", "rack-c"])
            // With three brokers and no separate controllers, all three are combined nodes.
            #expect(nodes.allSatisfy { $0.roles == [.broker, .controller] })
            #expect(nodes.allSatisfy { $0.ready })
            #expect(nodes.allSatisfy { $0.revision == "kafka-5d8c9b7f4" })
        }
    }

    @Test func aRestartDeletesThePodOnceAndReturnsWhenAPodWithANewUidIsReady() async throws {
        try await KubernetesHarness.with({ try await KubernetesHarness.small() }) { h in
            let before = try #require(h.pod("kafka-1"))
            try await h.withDriver { try await $0.restart(node: 2) }
            let after = try #require(h.pod("kafka-1"))
            #expect(after.uid != before.uid)
            #expect(after.object.isReady)
            #expect(h.sim.simulator.withCluster { $0.node(2)?.state } == .running)
            #expect(h.starts(2) == 1)
            #expect(h.kubernetes.withCluster("k8s-1") { $0.deletions[2] } == 1)
            // The other brokers were not touched.
            #expect(h.starts(1) == 0 && h.starts(3) == 0)
        }
    }

    @Test func aDeleteWithAStalePreconditionIsRefusedWith409AndDeletesNothing() async throws {
        try await KubernetesHarness.with({ try await KubernetesHarness.small() }) { h in
            let stale = try #require(h.pod("kafka-1")).uid
            // Someone else restarts the pod first.
            try await h.withDriver { try await $0.restart(node: 2) }
            let current = try #require(h.pod("kafka-1")).uid
            try await h.withDriver { driver in
                let path = KubernetesClient.path(
                    group: "", version: "v1", namespace: "kafka", resource: "pods", name: "kafka-1")
                do {
                    _ = try await driver.client.send(
                        .DELETE, path, body: try JSONEncoder().encode(DeleteOptions(preconditions: .init(uid: stale))))
                    Issue.record("the stale delete should have been refused")
                } catch let error as KubernetesError {
                    #expect(error.statusCode == 409)
                    #expect(error.status?.reason == "Conflict")
                    #expect(error.message.contains("Precondition failed: UID in precondition: \(stale)"))
                    // What the driver reports when that happens to it.
                    let reported = "\(KubernetesDriver.deleteFailure(error, pod: "kafka-1", node: 2))"
                    #expect(reported.contains("replaced by someone else") && reported.contains("nothing was deleted"))
                }
            }
            #expect(try #require(h.pod("kafka-1")).uid == current)
            #expect(!(try #require(h.pod("kafka-1")).isTerminating))
        }
    }

    @Test(arguments: PodFault.allCases)
    func aStuckReplacementFailsTheRestartAtOnceWithItsReason(_ fault: PodFault) async throws {
        try await KubernetesHarness.with({ try await KubernetesHarness.small() }) { h in
            try h.kubernetes.setFault(fault, broker: 3)
            // With a 10-minute timeout, a restart that waited for it would hang the test: it must fail on the fault.
            let error = await #expect(throws: AgentError.self) {
                try await h.withDriver(configure: { $0.restartTimeout = .seconds(600) }) {
                    try await $0.restart(node: 3)
                }
            }
            let message = error?.message ?? ""
            #expect(message.contains("kafka-2") && message.contains("stuck: \(fault.rawValue)"), "\(message)")
            #expect(!message.contains("within"))
        }
    }

    @Test func anEvictionBlockedByTheDisruptionBudgetWaitsUntilItAllowsOne() async throws {
        try await KubernetesHarness.with({ try await KubernetesHarness.small() }) { h in
            // Node 1's pod is restarted and held (image pull) so the budget (maxUnavailable 1) allows no disruption.
            try h.kubernetes.setFault(.imagePullBackOff, broker: 1)
            let blocker = Task { try await h.withDriver { try await $0.restart(node: 1) } }
            try await eventually("node 1's new pod is stuck") {
                h.pod("kafka-0")?.object.stuckReasonForTest == "ImagePullBackOff"
            }
            #expect(h.kubernetes.withCluster("k8s-1") { $0.budgetStatus($0.budgets["kafka"]!).disruptionsAllowed } == 0)
            let before = try #require(h.pod("kafka-1")).uid
            let evicting = Task {
                try await h.withDriver(configure: { $0.evict = true }) { try await $0.restart(node: 2) }
            }
            try await eventually("the eviction was refused") {
                h.kubernetes.authorizedCalls(cluster: "k8s-1").contains("create pods/eviction")
                    && h.kubernetes.refusedEvictions(cluster: "k8s-1") >= 2
            }
            #expect(try #require(h.pod("kafka-1")).uid == before)
            // Node 1 comes back: the budget allows one disruption again and the eviction goes through.
            try h.kubernetes.setFault(nil, broker: 1)
            _ = try? await blocker.value
            try await evicting.value
            #expect(try #require(h.pod("kafka-1")).uid != before)
            #expect(h.starts(2) == 1)
        }
    }

    @Test func scalingUpWaitsForTheNewBrokersAndScalingDownRemovesThem() async throws {
        try await KubernetesHarness.with({ try await KubernetesHarness.small() }) { h in
            try await h.withDriver { driver in
                #expect(
                    try await driver.pools() == [
                        AgentPool(name: "kafka", replicas: 3, readyReplicas: 3, resource: "statefulsets.apps/kafka")
                    ])
                try await driver.scale(pool: "kafka", replicas: 5)
                let nodes = try await driver.nodes()
                #expect(nodes.count == 5 && nodes.allSatisfy { $0.ready })
                #expect(
                    h.sim.simulator.withCluster { c in c.nodes.filter { !$0.removed && $0.state == .running }.count }
                        == 5)
                #expect(try await driver.pools().first?.readyReplicas == 5)
                try await driver.scale(pool: "kafka", replicas: 3)
                #expect(try await driver.nodes().map(\.id) == [1, 2, 3])
            }
            // The new brokers held no replicas, so the simulator removed them.
            try await eventually("the scaled-down brokers are removed") {
                h.sim.simulator.withCluster { c in c.nodes.filter { !$0.removed }.count } == 3
            }
        }
    }

    @Test func anInClusterAgentPicksUpARotatedTokenFromItsFile() async throws {
        try await KubernetesHarness.with({ try await KubernetesHarness.small() }) { h in
            let account = h.directory + "/serviceaccount"
            try FileManager.default.createDirectory(atPath: account, withIntermediateDirectories: true)
            try h.kubernetes.certificates.caPEM.write(toFile: account + "/ca.crt", atomically: true, encoding: .utf8)
            try "kafka".write(toFile: account + "/namespace", atomically: true, encoding: .utf8)
            let oldToken = try String(contentsOfFile: h.endpoint("k8s-1").tokenFile, encoding: .utf8)
            try oldToken.write(toFile: account + "/token", atomically: true, encoding: .utf8)
            let port = URL(string: h.endpoint("k8s-1").server)!.port!
            let connection = try KubernetesConnection.inCluster(
                environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "\(port)"],
                directory: account)
            #expect(connection.namespace == "kafka")
            try await h.withDriver(connection: connection) { driver in
                #expect(try await driver.nodes().count == 3)
                let newToken = try h.kubernetes.rotateToken(cluster: "k8s-1")
                // The old token is refused now.
                await #expect(throws: KubernetesError.self) { try await driver.nodes() }
                // The kubelet swaps the projected token file: the same driver uses the new token.
                try newToken.write(toFile: account + "/token", atomically: true, encoding: .utf8)
                #expect(try await driver.nodes().count == 3)
            }
        }
    }

    @Test func aClientCertificateSignedByTheClusterCAAuthenticatesWithoutAToken() async throws {
        try await KubernetesHarness.with({ try await KubernetesHarness.small() }) { h in
            let kubeconfig = h.directory + "/cert.kubeconfig"
            try """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "\(h.endpoint("k8s-1").server)", certificate-authority: ca.crt}}]
            users: [{name: u, user: {client-certificate: client.crt, client-key: client.key}}]
            contexts: [{name: x, context: {cluster: c, user: u, namespace: kafka}}]
            current-context: x
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let connection = try KubernetesConnection.kubeconfig(path: kubeconfig, context: nil)
            #expect(try await h.withDriver(connection: connection) { try await $0.nodes() }.count == 3)
        }
    }

    @Test func anAPIServerWhoseCertificateTheCADoesNotSignIsRefused() async throws {
        try await KubernetesHarness.with({ try await KubernetesHarness.small() }) { h in
            let other = try SimCertificates.generate()
            let token = try String(contentsOfFile: h.endpoint("k8s-1").tokenFile, encoding: .utf8)
            let connection = KubernetesConnection(
                server: h.endpoint("k8s-1").server, certificateAuthorityPEM: Array(other.caPEM.utf8),
                credential: .token(token), namespace: "kafka", source: "test")
            let error = await #expect(throws: KubernetesError.self) {
                try await h.withDriver(connection: connection) { try await $0.nodes() }
            }
            #expect(error?.code == .unreachable)
        }
    }

    @Test func aClusterInOutageAnswers503ServiceUnavailableUntilRestored() async throws {
        try await KubernetesHarness.with({ try await KubernetesHarness.small() }) { h in
            try await h.withDriver { driver in
                try h.kubernetes.setOutage(true, cluster: "k8s-1")
                do {
                    _ = try await driver.nodes()
                    Issue.record("listing pods should fail while the API is cut off")
                } catch let error as KubernetesError {
                    #expect(error.statusCode == 503 && error.status?.reason == "ServiceUnavailable", "\(error)")
                    #expect("\(error)".contains("the Kubernetes API of k8s-1 is unreachable"), "\(error)")
                }
                try h.kubernetes.setOutage(false, cluster: "k8s-1")
                #expect(try await driver.nodes().count == 3)
            }
            #expect(throws: KubeSimError.self) { try h.kubernetes.setOutage(true, cluster: "k8s-9") }
        }
    }

    @Test func aCallOutsideTheRoleIsRefusedWith403AndAKubernetesStatus() async throws {
        let role = """
            kind: Role
            metadata: {name: no-delete, namespace: kafka}
            rules:
              - {apiGroups: [""], resources: [pods], verbs: [list, watch]}
            """
        try await KubernetesHarness.with({
            try await KubernetesHarness.small { $0.policy = try! RBACPolicy.load(yaml: role) }
        }) { h in
            try await h.withDriver { driver in
                #expect(try await driver.nodes().count == 3)
                do {
                    try await driver.restart(node: 2)
                    Issue.record("the delete should have been refused")
                } catch let error as KubernetesError {
                    #expect(error.statusCode == 403 && error.status?.reason == "Forbidden")
                    #expect(
                        error.message.contains(
                            "pods \"kafka-1\" is forbidden: User \"system:serviceaccount:kafka:ballast-agent\" cannot "
                                + "delete resource \"pods\" in API group \"\" in the namespace \"kafka\""), "\(error)")
                }
            }
            #expect(h.starts(2) == 0)
        }
    }

    @Test func kubeconfigsWithPluginsInsecureTLSOrMissingContextsAreRefusedNamingTheProblem() throws {
        let dir = NSTemporaryDirectory() + "ballast-kubeconfig-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func refused(_ cluster: String, _ user: String, context: String? = nil) -> String {
            let path = dir + "/\(UUID().uuidString)"
            try? """
            clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", \(cluster)}}]
            users: [{name: u, user: {\(user)}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try KubernetesConnection.kubeconfig(path: path, context: context)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(
            refused("", "exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}").contains("exec plugin"))
        #expect(refused("", "auth-provider: {name: gcp}").contains("auth-provider"))
        #expect(refused("insecure-skip-tls-verify: true", "token: t").contains("always verifies"))
        #expect(refused("", "token: t", context: "nope").contains("has no context nope"))
        #expect(refused("", "username: a, password: b").contains("basic authentication"))
        #expect(refused("", "client-certificate-data: eA==").contains("without its key"))
        #expect(refused("", "token: t").isEmpty)
    }

    @Test func nodeIdsComeFromTheConfiguredLabelAnnotationOrOrdinal() throws {
        var pod = Pod(metadata: ObjectMeta(name: "my-cluster-brokers-104", labels: ["strimzi.io/pool-name": "brokers"]))
        #expect(try NodeIdSource.auto.nodeId(of: pod).get() == 104)
        pod.metadata.labels = ["apps.kubernetes.io/pod-index": "2"]
        #expect(try NodeIdSource(parsing: "ordinal+100").nodeId(of: pod).get() == 102)
        #expect((try? NodeIdSource.auto.nodeId(of: pod).get()) == nil)
        pod.metadata.annotations = ["kafka/id": "7"]
        #expect(try NodeIdSource(parsing: "annotation:kafka/id").nodeId(of: pod).get() == 7)
        #expect(throws: AgentError.self) { try NodeIdSource(parsing: "ordinal-1") }
    }
}

extension Pod {
    var stuckReasonForTest: String? { status?.containerStatuses?.first?.state?.waiting?.reason }
}

/// `--zone-from-node`: pods without a zone label take their Kubernetes node's, which needs `get nodes` (a
/// ClusterRole: nodes are cluster-scoped).
@Suite(.serialized) struct ZoneFromNodeTests {
    @Test func theZoneComesFromThePodsNodeWhenPodsCarryNone() async throws {
        try await KubernetesHarness.with({ try await KubernetesHarness.small { $0.zoneLabelsOnPods = false } }) { h in
            let plain = try await h.withDriver { try await $0.nodes() }
            #expect(plain.allSatisfy { $0.zone == nil })
            let zoned = try await h.withDriver(configure: { $0.zoneFromNode = true }) { try await $0.nodes() }
            #expect(zoned.map(\.zone) == ["rack-a", "rack-b", "rack-c"])
        }
    }

    @Test func withoutTheClusterRoleTheNodeLookupIsRefusedWith403() async throws {
        let role = """
            kind: Role
            metadata: {name: agent, namespace: kafka}
            rules:
              - {apiGroups: [""], resources: [pods], verbs: [list, watch]}
            """
        try await KubernetesHarness.with({
            try await KubernetesHarness.small {
                $0.zoneLabelsOnPods = false
                $0.policy = try! RBACPolicy.load(yaml: role)
            }
        }) { h in
            let error = await #expect(throws: KubernetesError.self) {
                try await h.withDriver(configure: { $0.zoneFromNode = true }) { try await $0.nodes() }
            }
            #expect(error?.statusCode == 403)
            #expect(
                error?.message.contains("cannot get resource \"nodes\" in API group \"\" at the cluster scope") == true)
            // The extras' ClusterRole grants it.
            let extras = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "../../deploy/kubernetes/extras/agent-zone-from-node/clusterrole.yaml"
            ).standardizedFileURL.path
            let granted = try RBACPolicy.load(yamlFile: extras)
            #expect(granted.allows(.init(verb: "get", group: "", resource: "nodes", name: "k8s-1-rack-a")))
        }
    }
}
