import Foundation
import KafkaModel
import Planner
import Testing

/// Builds a model file: brokers as (id, rack, cluster, state); partitions of topic "t" as replica lists.
func modelJSON(
    brokers: [(Int, String, String, String)], partitions: [[Int]], sizes: [Double]? = nil, leaders: [Int]? = nil,
    minIsr: Int = 2, diskCapacity: Double = 1000, extraTopics: String = ""
) -> String {
    let bs = brokers.map {
        #"{"id": \#($0.0), "rack": "\#($0.1)", "cluster": "\#($0.2)", "state": "\#($0.3)", "capacity": {"disk": \#(diskCapacity)}}"#
    }
    let ps = partitions.enumerated().map { i, reps in
        let size = sizes?[i] ?? 10
        let leader = leaders?[i] ?? reps[0]
        return
            #"{"id": \#(i), "replicas": \#(reps), "leader": \#(leader), "load": {"disk": \#(size), "networkIn": 1, "networkOut": 2, "cpu": 0.1}}"#
    }
    return
        #"{"brokers": [\#(bs.joined(separator: ","))], "topics": [{"name": "t", "minInSyncReplicas": \#(minIsr), "partitions": [\#(ps.joined(separator: ","))]}\#(extraTopics)]}"#
}

func model(_ json: String) throws(ModelFileError) -> ClusterModel { try ClusterModel(modelJSON: Array(json.utf8)) }

func status(_ p: Proposal, _ goal: Goal) -> Proposal.GoalStatus { p.goals.first { $0.name == goal.rawValue }! }

/// Six alive brokers: racks a, b, c in clusters k1, k2, k3 (two brokers each).
let sixBrokers: [(Int, String, String, String)] = [
    (1, "a", "k1", "alive"), (2, "a", "k1", "alive"), (3, "b", "k2", "alive"), (4, "b", "k2", "alive"),
    (5, "c", "k3", "alive"), (6, "c", "k3", "alive"),
]

@Suite("Model file")
struct ModelFileTests {
    @Test func missingCapacityNamesTheField() throws {
        let json = #"{"brokers": [{"id": 1, "capacity": {}}], "topics": []}"#
        #expect(throws: ModelFileError.self) { try model(json) }
        do {
            _ = try model(json)
        } catch {
            #expect(error.field == "brokers[0].capacity.disk")
        }
    }

    @Test func unknownReplicaBrokerNamesThePartition() throws {
        do {
            _ = try model(modelJSON(brokers: Array(sixBrokers.prefix(3)), partitions: [[1, 2, 9]]))
            Issue.record("expected an error")
        } catch {
            #expect(error.field == "topics[0].partitions[0].replicas")
            #expect(error.reason.contains("broker 9"))
        }
    }

    @Test func badStateAndWrongTypeNameTheirFields() throws {
        do {
            _ = try model(#"{"brokers": [{"id": 1, "state": "zombie", "capacity": {"disk": 1}}], "topics": []}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.field == "brokers[0].state")
        }
        do {
            _ = try model(#"{"brokers": [{"id": "one", "capacity": {"disk": 1}}], "topics": []}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.field == "brokers[0].id")
        }
    }

    @Test func decodesBrokersPartitionsAndLoads() throws {
        let m = try model(modelJSON(brokers: sixBrokers, partitions: [[1, 3, 5]], leaders: [3]))
        #expect(m.brokerCount == 6)
        #expect(m.partitionCount == 1)
        #expect(m.leader[0] == 2)
        #expect(m.load[Resource.disk.rawValue][0] == 10)
        #expect(m.hasCapacity == [true, false, false, false])
    }
}

@Suite("Hard goals")
struct HardGoalTests {
    @Test func replicasOfDeadBrokersMoveToAliveBrokersInTheSameRackLayout() throws {
        var brokers = sixBrokers
        brokers[0].3 = "dead"
        let m = try model(modelJSON(brokers: brokers, partitions: [[1, 3, 5], [3, 1, 6], [5, 4, 1]]))
        let p = try Planner.plan(m, PlanRequest()).proposal
        #expect(status(p, .deadBrokers).satisfiedBefore == false)
        #expect(status(p, .deadBrokers).satisfiedAfter)
        #expect(p.moves.allSatisfy { !$0.newReplicas.contains(1) })
        #expect(p.summary.hardGoalsSatisfied)
        // The only broker left in rack a is 2: every replacement goes there to keep racks distinct.
        #expect(p.moves.filter { $0.oldReplicas.contains(1) }.allSatisfy { $0.newReplicas.contains(2) })
    }

    @Test func twoReplicasInOneRackAreSpreadOverDistinctRacks() throws {
        let m = try model(modelJSON(brokers: sixBrokers, partitions: [[1, 2, 3]]))
        let p = try Planner.plan(m, PlanRequest()).proposal
        #expect(status(p, .rackAware).satisfiedBefore == false)
        #expect(status(p, .rackAware).satisfiedAfter)
        let racks = p.moves[0].newReplicas.map { ($0 + 1) / 2 }
        #expect(Set(racks).count == 3)
    }

    @Test func replicationAboveTheRackCountIsSpreadEvenly() throws {
        let brokers: [(Int, String, String, String)] = [
            (1, "a", "k", "alive"), (2, "a", "k", "alive"), (3, "b", "k", "alive"), (4, "b", "k", "alive"),
        ]
        let m = try model(modelJSON(brokers: brokers, partitions: [[1, 2, 3]], minIsr: 1))
        let p = try Planner.plan(m, PlanRequest()).proposal
        #expect(status(p, .rackAware).satisfiedAfter)
        #expect(status(p, .rackAware).detail?.contains("spread evenly") == true)
        var strict = PlannerPolicy.default
        strict.rackAwareAllowUneven = false
        do {
            _ = try Planner.plan(m, PlanRequest(policy: strict))
            Issue.record("expected infeasible")
        } catch {
            #expect(error.kind == .infeasible)
            #expect(error.goal == .rackAware)
            #expect(error.message == "RF 3 needs 3 racks, 2 are alive")
        }
    }

    @Test func aPartitionSurvivesTheLossOfAKubernetesCluster() throws {
        // Racks a1 and a2 are both in k1: rack-aware alone would allow two replicas in k1.
        let brokers: [(Int, String, String, String)] = [
            (1, "a1", "k1", "alive"), (2, "a2", "k1", "alive"), (3, "b1", "k2", "alive"), (4, "c1", "k3", "alive"),
        ]
        let m = try model(modelJSON(brokers: brokers, partitions: [[1, 2, 3]]))
        let p = try Planner.plan(m, PlanRequest()).proposal
        #expect(status(p, .rackAware).satisfiedBefore)
        #expect(status(p, .clusterLossSurvivable).satisfiedBefore == false)
        #expect(status(p, .clusterLossSurvivable).satisfiedAfter)
        #expect(p.moves[0].newReplicas.contains(4))
        #expect(p.moves[0].crossCluster)
    }

    @Test func twoKubernetesClustersCannotBeSurvivableAndAreReported() throws {
        let brokers: [(Int, String, String, String)] = [
            (1, "a", "k1", "alive"), (2, "b", "k1", "alive"), (3, "c", "k2", "alive"), (4, "d", "k2", "alive"),
        ]
        let m = try model(modelJSON(brokers: brokers, partitions: [[1, 2, 3]]))
        let p = try Planner.plan(m, PlanRequest()).proposal
        #expect(status(p, .clusterLossSurvivable).satisfiedAfter)
        #expect(status(p, .clusterLossSurvivable).detail?.contains("cannot survive") == true)
    }

    @Test func aBrokerAboveItsDiskThresholdSheds() throws {
        // Broker 1 holds 900 of 1000 MiB (threshold 80%); broker 2 in the same rack has room.
        let m = try model(
            modelJSON(
                brokers: sixBrokers, partitions: [[1, 3, 5], [1, 4, 6], [2, 3, 5]], sizes: [450, 450, 10],
                minIsr: 1))
        let p = try Planner.plan(m, PlanRequest()).proposal
        #expect(status(p, .diskCapacity).satisfiedBefore == false)
        #expect(status(p, .diskCapacity).satisfiedAfter)
    }

    @Test func moreDataThanTheCapacityThresholdIsInfeasible() throws {
        let m = try model(modelJSON(brokers: sixBrokers, partitions: [[1, 3, 5], [2, 4, 6]], sizes: [900, 900]))
        #expect {
            try Planner.plan(m, PlanRequest())
        } throws: { error in
            (error as! PlanError).goal == .diskCapacity && (error as! PlanError).kind == .infeasible
        }
    }

    @Test func aDeadBrokersReplicaStaysInItsKubernetesClusterWhenAllowed() throws {
        // Broker 1 (k1) dies. The new replica copies from the leader, 3 in k2: broker 7 (k2) avoids a
        // cross-cluster copy, broker 2 (k1) would not. Only DeadBrokers and MovementCost are asked for.
        let brokers: [(Int, String, String, String)] = [
            (1, "a", "k1", "dead"), (2, "a2", "k1", "alive"), (3, "b", "k2", "alive"), (7, "b2", "k2", "alive"),
        ]
        let m = try model(modelJSON(brokers: brokers, partitions: [[3, 1]], leaders: [3], minIsr: 1))
        let p = try Planner.plan(m, PlanRequest(policy: PlannerPolicy(goals: [.deadBrokers, .movementCost])))
            .proposal
        #expect(p.moves.count == 1)
        #expect(p.moves[0].newReplicas.contains(7))
        #expect(p.moves[0].crossCluster == false)
        #expect(p.summary.crossClusterDataMiB == 0)
    }

    @Test func replicationAboveTheAliveBrokersIsInfeasible() throws {
        var brokers = Array(sixBrokers.prefix(3))
        brokers[2].3 = "dead"
        let m = try model(modelJSON(brokers: brokers, partitions: [[1, 2, 3]], minIsr: 1))
        #expect {
            try Planner.plan(m, PlanRequest())
        } throws: { error in
            let e = error as! PlanError
            return e.kind == .infeasible && e.message.contains("needs 3 brokers, 2 are alive")
        }
    }
}

@Suite("Soft goals")
struct SoftGoalTests {
    /// 60 partitions all on brokers 1, 3, 5 of six: half of them should move to 2, 4, 6.
    func skew() throws -> ClusterModel {
        try model(modelJSON(brokers: sixBrokers, partitions: Array(repeating: [1, 3, 5], count: 60)))
    }

    @Test func replicaAndDiskDistributionEvenOut() throws {
        let p = try Planner.plan(skew(), PlanRequest()).proposal
        #expect(status(p, .replicaDistribution).satisfiedBefore == false)
        #expect(status(p, .replicaDistribution).satisfiedAfter)
        #expect(status(p, .diskDistribution).satisfiedAfter)
        let after = p.statistics.after.first { $0.metric == "replicas" }!
        #expect(after.maxOverMean <= 1.10)
        #expect(p.summary.hardGoalsSatisfied)
    }

    @Test func leadersSpreadBySwapsWithoutMovingData() throws {
        // Balanced replicas, all leaders on broker 1 or 2.
        let parts = (0..<40).map { i in i % 2 == 0 ? [1, 3, 5] : [2, 4, 6] }
        let m = try model(modelJSON(brokers: sixBrokers, partitions: parts))
        let p = try Planner.plan(m, PlanRequest(policy: PlannerPolicy(goals: [.leaderReplicaDistribution])))
            .proposal
        #expect(status(p, .leaderReplicaDistribution).satisfiedBefore == false)
        #expect(status(p, .leaderReplicaDistribution).satisfiedAfter)
        #expect(p.summary.dataToMoveMiB == 0)
        #expect(p.summary.leaderMoves > 0)
        #expect(p.moves.allSatisfy { Set($0.newReplicas) == Set($0.oldReplicas) && $0.newLeader == $0.newReplicas[0] })
    }

    @Test func partitionsLedByAnotherReplicaGetTheirPreferredLeader() throws {
        let m = try model(modelJSON(brokers: sixBrokers, partitions: [[1, 3, 5], [2, 4, 6]], leaders: [3, 2]))
        let p = try Planner.plan(m, PlanRequest(policy: PlannerPolicy(goals: [.preferredLeader]))).proposal
        #expect(status(p, .preferredLeader).satisfiedBefore == false)
        #expect(status(p, .preferredLeader).satisfiedAfter)
        #expect(p.moves.count == 1)
        #expect(p.moves[0].newLeader == 1)
        #expect(p.moves[0].oldLeader == 3)
    }

    @Test func topicReplicasSpreadOverBrokers() throws {
        let brokers = (1...12).map { ($0, "r\($0 % 3)", "k\($0 % 3)", "alive") }
        // 24 replicas of one topic over 12 brokers: mean 2, at most 2 + clamp(2 × 2, 2, 40) = 6 per broker.
        let parts = Array(repeating: [1, 2, 3], count: 8)
        let m = try model(modelJSON(brokers: brokers, partitions: parts, minIsr: 1))
        let p = try Planner.plan(m, PlanRequest(policy: PlannerPolicy(goals: [.topicReplicaDistribution]))).proposal
        #expect(status(p, .topicReplicaDistribution).satisfiedBefore == false)
        #expect(status(p, .topicReplicaDistribution).satisfiedAfter)
    }
}

@Suite("Modes and limits")
struct ModeTests {
    func cluster(newBrokers: Bool) throws -> ClusterModel {
        var brokers = sixBrokers
        if newBrokers {
            brokers += [(7, "a", "k1", "new"), (8, "b", "k2", "new"), (9, "c", "k3", "new")]
        }
        let parts = (0..<30).map { i in [[1, 3, 5], [2, 4, 6], [3, 5, 1]][i % 3] }
        return try model(modelJSON(brokers: brokers, partitions: parts, sizes: (0..<30).map { Double($0 + 1) }))
    }

    @Test func addBrokersMovesOnlyOntoTheNewBrokers() throws {
        let p = try Planner.plan(cluster(newBrokers: true), PlanRequest(mode: .addBrokers)).proposal
        #expect(!p.moves.isEmpty)
        for move in p.moves {
            for b in move.newReplicas where !move.oldReplicas.contains(b) { #expect([7, 8, 9].contains(b)) }
        }
        #expect(p.summary.hardGoalsSatisfied)
    }

    @Test func removeBrokersMovesOnlyOffTheNamedBrokers() throws {
        let m = try cluster(newBrokers: true)
        let p = try Planner.plan(m, PlanRequest(mode: .removeBrokers, brokers: [1])).proposal
        #expect(p.moves.allSatisfy { $0.oldReplicas.contains(1) && !$0.newReplicas.contains(1) })
        #expect(p.moves.allSatisfy { Set($0.oldReplicas).subtracting($0.newReplicas) == [1] })
        #expect(status(p, .deadBrokers).satisfiedAfter)
    }

    @Test func fixOfflineMovesOnlyReplicasOfDeadBrokers() throws {
        var m = try cluster(newBrokers: false)
        m.brokerState[2] = .dead
        let p = try Planner.plan(m, PlanRequest(mode: .fixOffline)).proposal
        #expect(!p.moves.isEmpty)
        #expect(p.moves.allSatisfy { Set($0.oldReplicas).subtracting($0.newReplicas) == [3] })
    }

    @Test func excludedTopicsStayAndMaxMovesIsHonoured() throws {
        let m = try model(
            modelJSON(
                brokers: sixBrokers, partitions: Array(repeating: [1, 3, 5], count: 30),
                extraTopics: #", {"name": "keep", "partitions": [{"id": 0, "replicas": [1, 3, 5]}]}"#))
        let p = try Planner.plan(m, PlanRequest(excludedTopics: ["keep"], maxMoves: 5)).proposal
        #expect(p.moves.allSatisfy { $0.topic != "keep" || Set($0.newReplicas) == Set($0.oldReplicas) })
        #expect(p.summary.replicaMoves <= 5)
        #expect(p.summary.replicaMoves > 0)
    }

    @Test func emptyAndSingleReplicaClustersPlanWithoutTrouble() throws {
        let empty = try model(#"{"brokers": [{"id": 1, "capacity": {"disk": 10}}], "topics": []}"#)
        let p = try Planner.plan(empty, PlanRequest()).proposal
        #expect(p.moves.isEmpty && p.summary.hardGoalsSatisfied)
        let single = try model(
            modelJSON(brokers: sixBrokers, partitions: Array(repeating: [1], count: 12), leaders: nil, minIsr: 1))
        let q = try Planner.plan(single, PlanRequest()).proposal
        #expect(q.summary.hardGoalsSatisfied)
        #expect(status(q, .replicaDistribution).satisfiedAfter)
    }

    @Test func brokersMustExistAndFitTheMode() throws {
        let m = try cluster(newBrokers: false)
        #expect(throws: PlanError.self) { try Planner.plan(m, PlanRequest(mode: .removeBrokers, brokers: [42])) }
        #expect(throws: PlanError.self) { try Planner.plan(m, PlanRequest(mode: .rebalance, brokers: [1])) }
        #expect(throws: PlanError.self) { try Planner.plan(m, PlanRequest(mode: .addBrokers)) }
    }
}

@Suite("Properties on random skewed models")
struct PropertyTests {
    /// Seeds 1-4 give every broker count of `spec` (18, 24, 30, 36) once; more seeds repeat the shapes.
    static let seeds: [UInt64] = [1, 2, 3, 4]

    func spec(_ seed: UInt64) -> SkewedModelSpec {
        var s = SkewedModelSpec(brokers: 18 + Int(seed % 4) * 6, replicas: 900 + Int(seed % 8) * 150, seed: seed)
        s.racksPerCluster = 2
        return s
    }

    @Test(arguments: seeds)
    func hardGoalsHoldWhenSatisfiableAndTheCheckerAgrees(seed: UInt64) async throws {
        let m = ClusterModel.skewed(spec(seed))
        let result = try await Planner.plan(m, PlanRequest())
        let p = result.proposal
        #expect(p.summary.hardGoalsSatisfied, "seed \(seed): \(p.firstFailedHardGoal?.detail ?? "")")
        let checker = ProposalChecker(m)
        let (replicas, leaders, problems) = checker.apply(p)
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        #expect(replicas == (0..<m.partitionCount).map { Array(result.finalReplicas($0)) })
        #expect(leaders == result.finalLeaders)
        let inv = checker.invariants(replicas)
        #expect(inv.onIneligible == 0)
        #expect(inv.rackUneven == 0)
        #expect(inv.clusterOverLimit == 0)
        #expect(inv.survivableAvailable > 0)
        #expect(inv.diskOverCapacity == 0)
        // Soft goals: where the planner reports them met, the checker must agree.
        if status(p, .replicaDistribution).satisfiedAfter { #expect(inv.replicaMaxOverMean <= 1.10 + 1e-9) }
        if status(p, .diskDistribution).satisfiedAfter { #expect(inv.diskMaxOverMean <= 1.10 + 1e-9) }
        // The checker's counts before agree with the planner's "before" statuses.
        let before = checker.invariants(
            (0..<m.partitionCount).map { p in m.replicas[m.replicaRange(p)].map { m.brokerIds[Int($0)] } })
        #expect((before.onIneligible == 0) == status(p, .deadBrokers).satisfiedBefore)
    }

    @Test func theCheckerCatchesABrokenProposal() throws {
        var brokers = sixBrokers
        brokers[0].3 = "dead"
        let m = try model(modelJSON(brokers: brokers, partitions: [[1, 3, 5], [2, 4, 6]]))
        var p = try Planner.plan(m, PlanRequest()).proposal
        let checker = ProposalChecker(m)
        #expect(checker.apply(p).problems.isEmpty)
        // Put the dead broker back and break the leader rule: the checker must see both.
        p.moves[0].newReplicas = [3, 1, 5]
        p.moves[0].newLeader = 5
        let (replicas, _, problems) = checker.apply(p)
        #expect(problems.contains { $0.contains("newLeader") })
        #expect(checker.invariants(replicas).onIneligible == 1)
    }

    @Test(arguments: seeds)
    func noGoalRegressesAfterItWasOptimized(seed: UInt64) async throws {
        let m = ClusterModel.skewed(spec(seed))
        let result = try await Planner.plan(m, PlanRequest(), trace: true)
        for g in result.proposal.goals where g.name != Goal.movementCost.rawValue {
            let own = result.violationsAfterOwnPhase[Goal(rawValue: g.name)!]!
            #expect(g.violationsAfter <= own, "seed \(seed): \(g.name) \(own) -> \(g.violationsAfter)")
        }
    }

    @Test(arguments: [UInt64(11), 12])
    func sameInputGivesTheSamePlan(seed: UInt64) throws {
        let m = ClusterModel.skewed(spec(seed))
        let a = try Planner.plan(m, PlanRequest()).proposal
        let b = try Planner.plan(m, PlanRequest()).proposal
        #expect(a == b)
        #expect(ClusterModel.skewed(spec(seed)) == m)
    }

    @Test(arguments: [UInt64(21), 22, 23])
    func modesHoldTheirMoveRulesOnRandomModels(seed: UInt64) async throws {
        let m = ClusterModel.skewed(spec(seed))
        let newIds = (0..<m.brokerCount).filter { m.brokerState[$0] == .new }.map { m.brokerIds[$0] }
        let deadIds = Set((0..<m.brokerCount).filter { m.brokerState[$0] == .dead }.map { m.brokerIds[$0] })
        let add = try await Planner.plan(m, PlanRequest(mode: .addBrokers)).proposal
        for move in add.moves {
            for b in move.newReplicas where !move.oldReplicas.contains(b) { #expect(newIds.contains(b)) }
        }
        let fix = try await Planner.plan(m, PlanRequest(mode: .fixOffline)).proposal
        for move in fix.moves { #expect(Set(move.oldReplicas).subtracting(move.newReplicas).isSubset(of: deadIds)) }
        #expect(status(fix, .deadBrokers).satisfiedAfter)
    }
}

@Suite("Policy and output")
struct PolicyTests {
    @Test func thePolicyFileHoldsTheBuiltInDefaults() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies/planner-goals.json")
        let file = try JSONDecoder().decode(PlannerPolicy.self, from: Data(contentsOf: url))
        #expect(file == PlannerPolicy.default)
    }

    @Test func goalListsParseAndUnknownGoalsAreNamed() throws {
        #expect(try PlannerPolicy.parseGoals("RackAware, DiskDistribution") == [.rackAware, .diskDistribution])
        do {
            _ = try PlannerPolicy.parseGoals("RackAware,Bogus")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("Bogus"))
        }
    }

    @Test func theProposalJSONUsesTheDesignFieldNames() throws {
        let m = try model(modelJSON(brokers: sixBrokers, partitions: [[1, 2, 3]]))
        let p = try Planner.plan(m, PlanRequest()).proposal
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(p)) as! [String: Any]
        #expect(Set(json.keys).isSuperset(of: ["mode", "moves", "summary", "goals"]))
        let move = (json["moves"] as! [[String: Any]])[0]
        #expect(
            Set(move.keys) == [
                "topic", "partition", "oldReplicas", "newReplicas", "oldLeader", "newLeader", "dataToMoveMiB",
                "crossCluster",
            ])
        let summary = json["summary"] as! [String: Any]
        #expect(
            Set(summary.keys).isSuperset(of: [
                "replicaMoves", "leaderMoves", "dataToMoveMiB", "crossClusterDataMiB", "hardGoalsSatisfied",
                "durationMs",
            ]))
        let goal = (json["goals"] as! [[String: Any]])[0]
        #expect(Set(goal.keys).isSuperset(of: ["name", "hard", "satisfiedBefore", "satisfiedAfter"]))
        #expect(p.text().contains("RackAware"))
    }

    @Test func aProposalFileWrittenBeforeSwapsAndLeadershipOnlyMovesLoadsWithZeros() throws {
        let parts = (0..<40).map { i in i % 2 == 0 ? [1, 3, 5] : [2, 4, 6] }
        let m = try model(modelJSON(brokers: sixBrokers, partitions: parts))
        var p = try Planner.plan(m, PlanRequest()).proposal
        #expect(p.summary.leadershipOnlyMoves > 0)
        p.summary.replicaSwaps = 3
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(p)) as! [String: Any]
        var summary = json["summary"] as! [String: Any]
        summary["replicaSwaps"] = nil
        summary["leadershipOnlyMoves"] = nil
        json["summary"] = summary
        let old = try JSONDecoder().decode(Proposal.self, from: JSONSerialization.data(withJSONObject: json))
        var expected = p
        expected.summary.leadershipOnlyMoves = 0
        expected.summary.replicaSwaps = 0
        #expect(old == expected)
        // The fields that were always there stay required.
        summary["replicaMoves"] = nil
        json["summary"] = summary
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Proposal.self, from: JSONSerialization.data(withJSONObject: json))
        }
    }
}
