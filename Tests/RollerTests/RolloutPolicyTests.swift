import Foundation
import Testing

@testable import Roller

@Suite struct RolloutPolicyTests {
    static let policyURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("policies/rollout.json")

    @Test func policiesRolloutJsonAndTheSwiftDefaultsAgree() throws {
        let data = try Data(contentsOf: Self.policyURL)
        #expect(try JSONDecoder().decode(RollOptions.self, from: data) == RollOptions())
        // Every setting is spelled out in the file (a default missing there would not be checked).
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let timeouts = try #require(object["timeouts"] as? [String: Any])
        #expect(
            Set(object.keys) == [
                "headroom", "maxBatch", "failureThreshold", "allowOfflinePartitions",
                "batchWithinZone", "batchWithinCluster", "quorumCaughtUpWindowMs", "catchUpAwareBatches",
                "restartEstimateSeconds", "catchUpThrottle", "timeouts",
            ])
        #expect(
            Set(timeouts.keys) == [
                "gateSeconds", "restartSeconds", "registerSeconds", "catchUpSeconds",
                "electSeconds", "postRestartDelaySeconds", "pollSeconds", "agentUnreachableSeconds", "stallSeconds",
            ])
        let encoded = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(RollOptions())) as? [String: Any])
        #expect(Set(encoded.keys).union(["maxBatch", "catchUpThrottle"]) == Set(object.keys))
    }

    @Test func aPartialPolicyFileKeepsTheOtherDefaults() throws {
        let o = try JSONDecoder().decode(
            RollOptions.self, from: Data(#"{"headroom": 1, "timeouts": {"pollSeconds": 5}}"#.utf8))
        #expect(o.headroom == 1 && o.timeouts.pollSeconds == 5 && o.timeouts.catchUpSeconds == 1800)
    }

    @Test func catchUpThrottleIsLiftOrAPositiveRateAndAnythingElseIsRefusedNamingTheKey() throws {
        func decode(_ value: String) throws -> RollOptions {
            try JSONDecoder().decode(RollOptions.self, from: Data(#"{"catchUpThrottle": \#(value)}"#.utf8))
        }
        #expect(try decode(#""lift""#).catchUpThrottle == .lift)
        #expect(try decode(#""52428800""#).catchUpThrottle == .rate(52_428_800))
        #expect(try decode("null").catchUpThrottle == nil)
        for bad in [#""0""#, #""-5""#, #""fast""#, #""""#] {
            #expect {
                try decode(bad)
            } throws: { error in
                "\(error)".contains("catchUpThrottle must be \"lift\" or a positive bytes per second")
            }
        }
        // It is written back as it is read, so a resumed roll gets the same setting from its journal.
        var o = RollOptions()
        o.catchUpThrottle = .rate(1000)
        #expect(
            try JSONDecoder().decode(RollOptions.self, from: JSONEncoder().encode(o)).catchUpThrottle == .rate(1000))
    }
}

@Suite struct RollOptionsProblemTests {
    @Test func theDefaultsAndThePolicyFileHaveNoProblem() throws {
        #expect(RollOptions().problem == nil)
    }

    @Test(arguments: [
        ("headroom", #"{"headroom": -1}"#, "--headroom"),
        ("maxBatch", #"{"maxBatch": 0}"#, "--max-batch"),
        ("failureThreshold", #"{"failureThreshold": -2}"#, "--failure-threshold"),
        ("pollSeconds", #"{"timeouts": {"pollSeconds": 0}}"#, "--poll"),
        ("catchUpSeconds", #"{"timeouts": {"catchUpSeconds": -1}}"#, "--catch-up-timeout"),
        ("postRestartDelaySeconds", #"{"timeouts": {"postRestartDelaySeconds": -1}}"#, "--post-restart-delay"),
    ])
    func anUnusableSettingIsNamedWithItsFlag(key: String, json: String, flag: String) throws {
        let options = try JSONDecoder().decode(RollOptions.self, from: Data(json.utf8))
        let problem = try #require(options.problem)
        #expect(problem.hasPrefix(flag), "\(problem)")
        #expect(problem.contains(key), "\(problem)")
    }
}
