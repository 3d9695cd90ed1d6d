import Foundation
import Testing

@testable import Rebalancer

@Suite struct RebalancePolicyTests {
    static let policyURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("policies/rebalance.json")

    @Test func policiesRebalanceJsonAndTheSwiftDefaultsAgree() throws {
        let data = try Data(contentsOf: Self.policyURL)
        #expect(try JSONDecoder().decode(RebalanceOptions.self, from: data) == RebalanceOptions())
        // Every setting is spelled out in the file (a default missing there would not be checked).
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let encoded = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(RebalanceOptions())) as? [String: Any])
        #expect(Set(encoded.keys).union(["throttleBytesPerSecond"]) == Set(object.keys))
        let timeouts = try #require(object["timeouts"] as? [String: Any])
        let encodedTimeouts = try #require(encoded["timeouts"] as? [String: Any])
        #expect(Set(timeouts.keys) == Set(encodedTimeouts.keys))
    }

    @Test func aPartialPolicyFileKeepsTheOtherDefaults() throws {
        let o = try JSONDecoder().decode(
            RebalanceOptions.self, from: Data(#"{"movesPerBroker": 2, "timeouts": {"pollSeconds": 1}}"#.utf8))
        #expect(o.movesPerBroker == 2 && o.timeouts.pollSeconds == 1 && o.timeouts.deadBrokerSeconds == 60)
        #expect(o.maxMoves == 1250 && o.throttleBytesPerSecond == nil)
    }

    @Test(arguments: [
        (#"{"movesPerBroker": 0}"#, "--moves-per-broker (policy movesPerBroker)"),
        (#"{"maxMoves": -1}"#, "--max-moves (policy maxMoves)"),
        (#"{"leaderMoves": 0}"#, "--leader-moves (policy leaderMoves)"),
        (#"{"throttleBytesPerSecond": 0}"#, "--throttle (policy throttleBytesPerSecond)"),
        (#"{"timeouts": {"pollSeconds": 0}}"#, "--poll (policy timeouts.pollSeconds)"),
        (#"{"timeouts": {"cleanupAttempts": 0}}"#, "timeouts.cleanupAttempts"),
    ])
    func anUnusableSettingIsNamedByItsFlagAndPolicyKey(json: String, named: String) throws {
        let o = try JSONDecoder().decode(RebalanceOptions.self, from: Data(json.utf8))
        let problem = try #require(o.problem)
        #expect(problem.contains(named), "\(problem)")
    }
}
