import Foundation
import KafkaModel
import Planner
import Rebalancer
import Testing

@testable import Operations

/// What identifies a proposal, and how a proposal file becomes the moves the executor carries out.
@Suite struct ProposalExecutionTests {
    static func move(_ topic: String, _ p: Int, _ old: [Int], _ new: [Int], mib: Double = 0) -> Proposal.Move {
        Proposal.Move(
            topic: topic, partition: p, oldReplicas: old, newReplicas: new, oldLeader: old[0], newLeader: new[0],
            dataToMoveMiB: mib, crossCluster: false)
    }

    static let moves = [
        move("payments", 2, [5, 1], [5, 6], mib: 7),
        move("orders", 10, [1, 2, 3], [2, 1, 3]),
        move("orders", 0, [1, 2, 3], [4, 2, 3], mib: 120),
    ]

    @Test func theHashIsTheSHA256OfTheDocumentedCanonicalJSONOfTheMoves() {
        let canonical = String(decoding: Proposal.canonicalMovesJSON(Self.moves), as: UTF8.self)
        #expect(
            canonical
                == #"[{"newReplicas":[4,2,3],"oldReplicas":[1,2,3],"partition":0,"topic":"orders"},"#
                + #"{"newReplicas":[2,1,3],"oldReplicas":[1,2,3],"partition":10,"topic":"orders"},"#
                + #"{"newReplicas":[5,6],"oldReplicas":[5,1],"partition":2,"topic":"payments"}]"#)
        // sha256 of that string, computed independently (python3 hashlib).
        #expect(
            Proposal.canonicalHash(Self.moves)
                == "sha256:5996745e3d79e363c0b6cad23cf7e131a72ac489ea134615f28813b3bd3dc029")
    }

    @Test func theHashIgnoresOrderAndSizesButNotReplicasOrLeaders() {
        let h = Proposal.canonicalHash(Self.moves)
        var sized = Self.moves
        sized[0].dataToMoveMiB = 999
        sized[0].crossCluster = true
        #expect(Proposal.canonicalHash(sized.reversed()) == h)
        var leader = Self.moves
        leader[1].newReplicas = [1, 2, 3]
        #expect(Proposal.canonicalHash(leader) != h)
        var target = Self.moves
        target[0].newReplicas = [5, 6, 1]
        #expect(Proposal.canonicalHash(target) != h)
    }

    @Test func plannedMovesCarryEachNewReplicasBytes() throws {
        let planned = Proposal.plannedMoves(Self.moves)
        #expect(
            planned.map(\.topicPartition) == [TopicPartition("payments", 2), .init("orders", 10), .init("orders", 0)])
        #expect(planned[2].bytes == 120 * 1_048_576)
        #expect(planned[2].added == [4] && planned[2].removed == [1])
        #expect(!planned[1].copiesData && planned[1].needsReassignment)
        #expect(planned[0].bytes == 7 * 1_048_576)
    }

    @Test func aHandWrittenProposalNeedsOnlyTheMovesEssentials() throws {
        let file = try ProposalFile.read(
            Data(#"{"moves": [{"topic": "t", "partition": 1, "oldReplicas": [1, 2], "newReplicas": [3, 2]}]}"#.utf8),
            name: "p.json")
        #expect(file.mode == "rebalance" && file.statedHash == nil)
        #expect(
            file.moves == [
                Proposal.Move(
                    topic: "t", partition: 1, oldReplicas: [1, 2], newReplicas: [3, 2], oldLeader: -1, newLeader: 3,
                    dataToMoveMiB: 0, crossCluster: false)
            ])
    }

    @Test(arguments: [
        (#"[]"#, "p.json is not a JSON object"),
        (#"{"mode": "x"}"#, "p.json: moves: expected an array"),
        (#"{"moves": [{"partition": 1, "oldReplicas": [1], "newReplicas": [2]}]}"#, "p.json: moves[0].topic"),
        (
            #"{"moves": [{"topic": "t", "partition": 1.5, "oldReplicas": [1], "newReplicas": [2]}]}"#,
            "moves[0].partition"
        ),
        (
            #"{"moves": [{"topic": "t", "partition": 1, "oldReplicas": ["a"], "newReplicas": [2]}]}"#,
            "moves[0].oldReplicas"
        ),
        ("{", "p.json is not JSON"),
    ])
    func aBadProposalFileIsRefusedNamingTheField(json: String, named: String) {
        #expect {
            _ = try ProposalFile.read(Data(json.utf8), name: "p.json")
        } throws: { ($0 as? RebalanceSpecError)?.message.contains(named) == true }
    }

    @Test func movesThatCannotBeExecutedAreNamed() {
        #expect(Proposal.executionProblem(Self.moves) == nil)
        #expect(
            Proposal.executionProblem([Self.moves[0], Self.moves[0]])?.contains("appears in more than one move") == true
        )
        #expect(
            Proposal.executionProblem([Self.move("t", 0, [1, 2], [3, 3])])?.contains("newReplicas repeats") == true)
        let empty = Proposal.Move(
            topic: "t", partition: 0, oldReplicas: [1, 2], newReplicas: [], oldLeader: 1, newLeader: -1,
            dataToMoveMiB: 0, crossCluster: false)
        #expect(Proposal.executionProblem([empty])?.contains("newReplicas is empty") == true)
        var badLeader = Self.move("t", 0, [1, 2], [3, 2])
        badLeader.newLeader = 2
        #expect(Proposal.executionProblem([badLeader])?.contains("is not newReplicas[0]") == true)
    }
}
