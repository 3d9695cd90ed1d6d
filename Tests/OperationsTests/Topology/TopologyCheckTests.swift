import AgentContract
import BallastTestSupport
import Foundation
import KafkaModel
import Planner
import ServiceConfig
import Testing

@testable import Operations

/// The stretch topology check on crafted clusters: 9 brokers in racks r0, r1, r2 (broker i in r((i-1) % 3)), RF 3,
/// min ISR 2, controllers 1, 2, 3; one agent per rack's Kubernetes cluster.
@Suite struct TopologyCheckTests {
    static let racks = ["r0": "east", "r1": "west", "r2": "central"]

    static func snapshot(rackAware: Bool = true, voters: [Int32] = [1, 2, 3]) -> ClusterSnapshot {
        var s = Fixture.cluster(rackAware: rackAware).0
        s.quorum = QuorumInfo(
            leaderId: voters[0], voters: voters.map { QuorumReplica(replicaId: $0, logEndOffset: 10) })
        return s
    }

    /// The agents' reports: each Kubernetes cluster's agent claims the brokers of its rack.
    static func agents(
        _ s: ClusterSnapshot, map: [String: String] = racks, controllers: Set<Int32> = [1, 2, 3]
    ) -> [AgentReport] {
        var nodes: [String: [AgentNode]] = [:]
        for b in s.brokers {
            let roles: [NodeRole] = controllers.contains(b.id) ? [.broker, .controller] : [.broker]
            nodes[map[b.rack!]!, default: []].append(AgentNode(id: b.id, roles: roles, zone: b.rack))
        }
        return nodes.keys.sorted().map { AgentReport(name: $0, url: "http://\($0):9300", outcome: .nodes(nodes[$0]!)) }
    }

    static func check(_ s: ClusterSnapshot, _ agents: [AgentReport], racks: [String: String] = racks) -> TopologyReport
    {
        TopologyCheck.check(
            cluster: "prod", snapshot: s, agents: agents, racks: racks,
            planCommand: {
                "ballast plan --rack-clusters \($0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))"
            })
    }

    func check(_ report: TopologyReport, _ name: String) -> TopologyReport.Check {
        report.checks.first { $0.name == name }!
    }

    @Test func aRackAwareClusterOverThreeKubernetesClustersPassesEveryCheck() {
        let s = Self.snapshot()
        let report = Self.check(s, Self.agents(s))
        #expect(report.ok, "\(report.checks.filter { !$0.ok })")
        #expect(report.violations.isEmpty && report.fix == nil)
        // Without a rack map the racks are learnt from the agents.
        #expect(Self.check(s, Self.agents(s), racks: [:]).ok)
    }

    @Test func partitionsWithTwoReplicasInOneKubernetesClusterAreListedWithThePlanThatFixesThem() throws {
        let s = Self.snapshot(rackAware: false)
        let report = Self.check(s, Self.agents(s))
        #expect(!report.ok)
        let placement = check(report, "placement")
        #expect(!placement.ok)
        let expected = s.topics[0].partitions.filter { p in
            Dictionary(grouping: p.replicas) { Self.racks["r\((Int($0) - 1) % 3)"]! }.values.contains { $0.count > 1 }
        }.map { Int($0.partition) }
        #expect(!expected.isEmpty)
        #expect(report.violations.map(\.partition).sorted() == expected.sorted())
        #expect(report.violations.allSatisfy { $0.allowed == 1 && $0.survivable })
        #expect(
            placement.problems[0].contains("are in Kubernetes cluster") && placement.problems[0].contains("at most 1"))
        #expect(report.fix == "ballast plan --rack-clusters r0=east,r1=west,r2=central")
        // The planner fixes it.
        #expect(report.fixSatisfiesPlacement == true && (report.fixMoves ?? 0) > 0)
    }

    @Test func theListedPartitionsAreExactlyThoseThePlannersGoalCounts() throws {
        for seed in 0..<5 {
            var s = Self.snapshot(rackAware: false)
            s.editPartitions { p in if (Int(p.partition) + seed) % 4 == 0 { p.replicas.reverse() } }
            let model = ClusterModel(snapshot: s, logDirs: [], rackCluster: Self.racks)
            let listed = try Planner.clusterLossViolations(model).count
            let plan = try Planner.plan(model, PlanRequest())
            let goal = plan.proposal.goals.first { $0.name == "ClusterLossSurvivable" }!
            #expect(listed == goal.violationsBefore)
        }
    }

    @Test func controllersInTwoKubernetesClustersFailWithWhereTheyRun() {
        // Controllers 1 and 4 in east (r0), 2 in west: two clusters; losing east loses the quorum.
        let s = Self.snapshot(voters: [1, 4, 2])
        let c = check(Self.check(s, Self.agents(s, controllers: [1, 4, 2])), "controllers")
        #expect(!c.ok)
        #expect(c.problems.contains { $0.contains("run in 2 Kubernetes cluster(s) (east: 1,4; west: 2)") })
        #expect(c.problems.contains { $0.contains("losing Kubernetes cluster east loses 2 of 3 controllers") })
    }

    @Test func aNodeClaimedByTwoAgentsOrByNoneFails() {
        let s = Self.snapshot()
        var agents = Self.agents(s)
        // west also claims 1, and nobody claims 9.
        agents = agents.map { a in
            guard case .nodes(var nodes) = a.outcome else { return a }
            if a.name == "west" { nodes.append(AgentNode(id: 1, zone: "r0")) }
            nodes.removeAll { $0.id == 9 }
            return AgentReport(name: a.name, url: a.url, outcome: .nodes(nodes))
        }
        let c = check(Self.check(s, agents), "nodes")
        #expect(!c.ok)
        #expect(c.problems.contains("node 1 is claimed by agents east and west"))
        #expect(c.problems.contains("node 9 (in the cluster's metadata) is claimed by no agent"))
    }

    @Test func anAgentThatRefusesItsTokenOrCannotBeReachedFailsNamingIt() {
        let s = Self.snapshot()
        var agents = Self.agents(s)
        agents[0].outcome = .unauthorized("answered 401: missing or wrong bearer token")
        agents[1].outcome = .unreachable("connection refused")
        let c = check(Self.check(s, agents), "agents")
        #expect(!c.ok)
        #expect(c.problems.contains { $0.hasPrefix("agent central at http://central:9300 refused its token") })
        #expect(c.problems.contains { $0.hasPrefix("agent east at http://east:9300 is unreachable") })
    }

    @Test func aBrokerWhoseRackTheConfigurationPutsInAnotherClusterFails() {
        let s = Self.snapshot()
        let c = check(Self.check(s, Self.agents(s), racks: ["r0": "east", "r1": "central", "r2": "west"]), "racks")
        #expect(!c.ok)
        #expect(
            c.problems.contains {
                $0
                    == "broker 2 is in rack r1, which the configuration puts in Kubernetes cluster central, but agent west runs it"
            })
    }
}

@Suite struct ServiceConfigurationTests {
    static let yaml = """
        listen: 127.0.0.1:8080
        store: sqlite:///var/lib/ballast/ballast.db
        tokens: {admin: admin.token, read: /etc/ballast/read.token}
        clusters:
          - name: prod
            bootstrap: 10.0.0.1:9092, 10.0.0.2:9092
            security: {protocol: SASL_SSL, caFile: ca.pem, saslMechanism: scram-sha-512, saslUsername: ballast,
                       saslPasswordFile: kafka.password}
            agents:
              - {name: east, url: http://agent-east:9300, tokenFile: /etc/ballast/agent-east.token}
              - {name: west, url: https://agent-west:9300, tokenFile: agent-west.token}
            racks: {az-a: east, az-b: west}
            pools: {brokers: {min: 3, max: 30}}
        """

    @Test func designsExampleParsesWithFilesRelativeToTheConfiguration() throws {
        let c = try ServiceConfiguration.parse(yaml: Self.yaml, directory: "/etc/ballast")
        #expect(c.listen == "127.0.0.1:8080" && c.tokens["admin"] == "/etc/ballast/admin.token")
        let prod = try c.cluster(named: nil)
        #expect(prod.bootstrap == ["10.0.0.1:9092", "10.0.0.2:9092"])
        #expect(prod.security.protocol == "SASL_SSL" && prod.security.saslMechanism == "SCRAM-SHA-512")
        #expect(prod.security.caFile == "/etc/ballast/ca.pem")
        #expect(prod.agents.map(\.name) == ["east", "west"])
        #expect(prod.agents[1].tokenFile == "/etc/ballast/agent-west.token")
        #expect(prod.racks == ["az-a": "east", "az-b": "west"])
        #expect(prod.pools["brokers"] == .init(min: 3, max: 30))
    }

    @Test(arguments: [
        ("tokenfile: x", "clusters[0].agents[0].tokenfile is not a known setting"),
        ("racks: {az-c: north}", "clusters[0].racks.az-c names Kubernetes cluster north, which has no agent"),
        ("pools: {b: {min: 5, max: 2}}", "clusters[0].pools.b needs 0 ≤ min ≤ max"),
        (
            "security: {protocol: TLS}",
            "clusters[0].security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"
        ),
        (
            "security: {protocol: SASL_SSL, saslMechanism: PLAIN, saslUsername: u}",
            "clusters[0].security.saslPasswordFile is required"
        ),
    ])
    func aBadSettingIsRefusedNamingItsPath(_ line: String, _ message: String) {
        var yaml = """
            clusters:
              - name: prod
                bootstrap: 10.0.0.1:9092
                agents:
                  - {name: east, url: http://a:9300, tokenFile: t}
            """
        if line.hasPrefix("tokenfile") {
            yaml = yaml.replacingOccurrences(of: "tokenFile: t}", with: "tokenFile: t, \(line)}")
        } else {
            yaml += "\n    \(line)"
        }
        do {
            _ = try ServiceConfiguration.parse(yaml: yaml)
            Issue.record("should have been refused")
        } catch let error as ServiceConfigurationError {
            #expect(error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func theDeployManifestsConfigurationParses() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../../deploy/kubernetes/base/engine/configmap.yaml"
        ).standardizedFileURL.path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // The ConfigMap's ballast.yaml, unindented.
        let body = text.components(separatedBy: "ballast.yaml: |\n")[1].split(
            separator: "\n", omittingEmptySubsequences: false
        )
        .map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : String($0) }.joined(separator: "\n")
        let c = try ServiceConfiguration.parse(yaml: body)
        #expect(c.clusters[0].agents.map(\.name) == ["east", "west", "central"])
        #expect(Set(c.clusters[0].racks.values) == ["east", "west", "central"])
    }
}
