import BallastTestSupport
import Foundation
import KubernetesAPI
import KubernetesSim
import Testing

@testable import AgentKubernetesDriver

/// The agent's Role in `deploy/kubernetes/base/agent/role.yaml` against the calls the `kubernetes` driver makes: the
/// simulated API enforces it while the driver does everything an agent does (list, restart by delete and by
/// eviction, list pools, scale up and down). With the Role every call passes and every rule is used; without any
/// one verb, a call is refused with 403.
@Suite(.serialized) struct DeployRoleTests {
    static var rolePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../deploy/kubernetes/base/agent/role.yaml"
        ).standardizedFileURL.path
    }

    static func grants() -> [String] {
        (try? RBACPolicy.load(yamlFile: rolePath).grants.sorted()) ?? ["the role file is missing"]
    }

    static func exercise(_ h: KubernetesHarness) async throws {
        try await h.withDriver { driver in
            _ = try await driver.nodes()
            try await driver.restart(node: 2)
            _ = try await driver.pools()
            try await driver.scale(pool: "kafka", replicas: 4)
            try await driver.scale(pool: "kafka", replicas: 3)
        }
        try await h.withDriver(configure: { $0.evict = true }) { try await $0.restart(node: 3) }
        // The driver watches only when a wait's first list does not show the end state yet; on a loaded machine the
        // simulated pods can be Ready before it lists them (it then never watches), so its watch is also made here,
        // as the driver makes it, ended by the API server after a second.
        try await h.withDriver { driver in
            let list = try await driver.client.get(ObjectList<Pod>.self, driver.podsPath)
            _ = try await driver.client.watch(
                Pod.self, driver.podsPath, query: [], resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 1
            ) { _ in true }
        }
    }

    @Test func withTheDeployRoleEveryDriverCallPassesAndEveryGrantIsUsed() async throws {
        let policy = try RBACPolicy.load(yamlFile: Self.rolePath)
        try await KubernetesHarness.with({ try await KubernetesHarness.small { $0.policy = policy } }) { h in
            try await Self.exercise(h)
            #expect(h.kubernetes.authorizedCalls(cluster: "k8s-1") == policy.grants)
        }
    }

    @Test(arguments: grants())
    func withoutOneOfItsVerbsTheDriverIsRefusedWith403(_ grant: String) async throws {
        let full = try RBACPolicy.load(yamlFile: Self.rolePath)
        var reduced = full
        for r in reduced.roles.indices {
            reduced.roles[r].rules = full.roles[r].rules?.compactMap { rule in
                var rule = rule
                rule.verbs = rule.verbs.filter { verb in
                    !RBACPolicy(roles: [
                        RBACRole(
                            kind: "Role", metadata: nil,
                            rules: [
                                PolicyRule(
                                    apiGroups: rule.apiGroups ?? [], resources: rule.resources ?? [], verbs: [verb])
                            ])
                    ]).grants
                        .contains(grant)
                }
                return rule.verbs.isEmpty ? nil : rule
            }
        }
        #expect(reduced.grants == full.grants.subtracting([grant]))
        try await KubernetesHarness.with({ try await KubernetesHarness.small { $0.policy = reduced } }) { h in
            do {
                try await Self.exercise(h)
                Issue.record("without \(grant) the driver should have been refused")
            } catch let error as KubernetesError {
                #expect(error.statusCode == 403, "\(error)")
                let verb = String(grant.split(separator: " ")[0])
                #expect(error.message.contains("cannot \(verb) resource"), "\(error)")
            }
        }
    }
}

/// A Strimzi-style pool (pods labelled `strimzi.io/pool-name`, scaled through `kafkanodepools/scale`): the driver
/// finds the pool by the label, learns the group's version from discovery, and scales it with the base Role plus
/// the `extras/agent-strimzi` Role; without the extra Role the pool is refused with 403.
@Suite(.serialized) struct StrimziPoolTests {
    static var strimziRolePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../deploy/kubernetes/extras/agent-strimzi/role.yaml"
        ).standardizedFileURL.path
    }

    @Test func aKafkaNodePoolIsScaledThroughItsScaleSubresourceWithTheStrimziRole() async throws {
        let base = try RBACPolicy.load(yamlFile: DeployRoleTests.rolePath)
        let strimzi = try RBACPolicy.load(yamlFile: Self.strimziRolePath)
        let both = RBACPolicy(roles: base.roles + strimzi.roles)
        try await KubernetesHarness.with({
            try await KubernetesHarness.small {
                $0.strimziNodePools = true
                $0.policy = both
            }
        }) { h in
            try await h.withDriver { driver in
                let pools = try await driver.pools()
                #expect(pools.map(\.resource) == ["kafkanodepools.kafka.strimzi.io/kafka"])
                try await driver.scale(pool: "kafka", replicas: 4)
                #expect(try await driver.nodes().count == 4)
                try await driver.scale(pool: "kafka", replicas: 3)
                #expect(try await driver.nodes().count == 3)
            }
            let calls = h.kubernetes.authorizedCalls(cluster: "k8s-1")
            #expect(calls.contains("patch kafkanodepools.kafka.strimzi.io/scale"))
            #expect(calls.isSubset(of: both.grants))
        }
        try await KubernetesHarness.with({
            try await KubernetesHarness.small {
                $0.strimziNodePools = true
                $0.policy = base
            }
        }) { h in
            let error = await #expect(throws: KubernetesError.self) { try await h.withDriver { try await $0.pools() } }
            #expect(error?.statusCode == 403)
        }
    }
}
