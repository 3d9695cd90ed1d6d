import Foundation
import KafkaModel
import KafkaSim
import Logging
import Testing

/// `ballast plan --bootstrap` against the simulator: the live path from snapshot and log dirs to a proposal.
@Suite(.enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct PlanCLITests {
    /// Six brokers in three racks; partitions 0-2 of "orders" keep two replicas in rack a.
    static let rackViolatingModel = """
        {
            "brokers": [
                {"id": 1, "rack": "a", "capacity": {"disk": 100000, "networkIn": 100000, "networkOut": 100000, "cpu": 100}},
                {"id": 2, "rack": "b", "capacity": {"disk": 100000, "networkIn": 100000, "networkOut": 100000, "cpu": 100}},
                {"id": 3, "rack": "c", "capacity": {"disk": 100000, "networkIn": 100000, "networkOut": 100000, "cpu": 100}},
                {"id": 4, "rack": "a", "capacity": {"disk": 100000, "networkIn": 100000, "networkOut": 100000, "cpu": 100}},
                {"id": 5, "rack": "b", "capacity": {"disk": 100000, "networkIn": 100000, "networkOut": 100000, "cpu": 100}},
                {"id": 6, "rack": "c", "capacity": {"disk": 100000, "networkIn": 100000, "networkOut": 100000, "cpu": 100}}
            ],
            "topics": [{"name": "orders", "minInSyncReplicas": 2, "partitions": [
                    {"id": 0, "replicas": [1, 4, 2], "leader": 1, "load": {"disk": 100, "networkIn": 10, "networkOut": 30, "cpu": 0.1}},
                    {"id": 1, "replicas": [4, 1, 3], "leader": 4, "load": {"disk": 100, "networkIn": 10, "networkOut": 30, "cpu": 0.1}},
                    {"id": 2, "replicas": [1, 4, 5], "leader": 1, "load": {"disk": 100, "networkIn": 10, "networkOut": 30, "cpu": 0.1}},
                    {"id": 3, "replicas": [2, 3, 1], "leader": 2, "load": {"disk": 100, "networkIn": 10, "networkOut": 30, "cpu": 0.1}},
                    {"id": 4, "replicas": [5, 6, 4], "leader": 5, "load": {"disk": 100, "networkIn": 10, "networkOut": 30, "cpu": 0.1}},
                    {"id": 5, "replicas": [3, 1, 2], "leader": 3, "load": {"disk": 100, "networkIn": 10, "networkOut": 30, "cpu": 0.1}}
            ]}]
        }
        """

    static let rackOf: [Int: String] = [1: "a", 2: "b", 3: "c", 4: "a", 5: "b", 6: "c"]

    @Test func planOfALiveClusterMovesReplicasUntilEveryPartitionSpansThreeRacks() async throws {
        var topo = SimTopology()
        topo.model = try ClusterModelFile.decode(Array(Self.rackViolatingModel.utf8))
        let sim = try await EmbeddedSimulator.start(try topo.build(), timeScale: 10)
        defer { sim.cancel() }

        let r = try await run(ballastBinary!, ["plan", "--bootstrap", sim.bootstrap, "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let proposal = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(proposal["mode"] as? String == "rebalance")
        let goals = try #require(proposal["goals"] as? [[String: Any]])
        let rackAware = try #require(goals.first { $0["name"] as? String == "RackAware" })
        #expect(rackAware["satisfiedBefore"] as? Bool == false)
        #expect(rackAware["satisfiedAfter"] as? Bool == true)
        let summary = try #require(proposal["summary"] as? [String: Any])
        #expect(summary["hardGoalsSatisfied"] as? Bool == true)

        // Apply the moves to the placement read from the model and check every partition independently.
        var placement = [[1, 4, 2], [4, 1, 3], [1, 4, 5], [2, 3, 1], [5, 6, 4], [3, 1, 2]]
        for move in try #require(proposal["moves"] as? [[String: Any]]) {
            #expect(move["topic"] as? String == "orders")
            let p = try #require(move["partition"] as? Int)
            #expect(move["oldReplicas"] as? [Int] == placement[p])
            placement[p] = try #require(move["newReplicas"] as? [Int])
        }
        for (p, replicas) in placement.enumerated() {
            #expect(replicas.count == 3, "partition \(p) keeps RF 3")
            #expect(Set(replicas.compactMap { Self.rackOf[$0] }).count == 3, "partition \(p): \(replicas)")
        }
    }
}
