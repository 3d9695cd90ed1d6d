import BallastTestSupport
import Foundation
import KafkaModel
import KafkaPolicies
import Testing

@testable import ConfigPlanning

@Suite struct ConfigDumpTests {
    @Test func dumpRoundTripsAndCarriesRolesAndSources() throws {
        let current = ConfigFixture.cluster(
            nodes: [1, 4], roles: [4: [.controller]],
            perNode: [1: ["message.max.bytes": ConfigFixture.entry("5", .dynamicBroker)]],
            clusterDefault: ["log.retention.ms": ConfigFixture.entry("1000", .dynamicDefaultBroker)])
        let dump = ConfigDump(current, kafkaVersion: KafkaVersion("4.1.0"))
        let decoded = try ConfigDump.decode(dump.encoded(), fileName: "dump.json")
        #expect(decoded.kafkaVersion == "4.1.0")
        #expect(decoded.current.roles(of: 4).isControllerOnly)
        #expect(decoded.current.entry("message.max.bytes", node: 1)?.source == .dynamicBroker)
        #expect(decoded.current.clusterDefault["log.retention.ms"]?.value == "1000")
    }

    @Test func minimalDumpNeedsOnlyValuesAndSources() throws {
        let json =
            #"{"nodes":[{"id":2,"configs":{"process.roles":{"value":"controller","source":"STATIC_BROKER_CONFIG"}}}]}"#
        let dump = try ConfigDump.decode(Data(json.utf8), fileName: "d.json")
        #expect(dump.current.roles(of: 2).isControllerOnly)
        #expect(dump.current.clusterDefault.isEmpty)
    }

    @Test(arguments: [
        (#"{"nodes": [}"#, "not valid JSON"),
        (#"{"nodes":[{"id":1}]}"#, "lacks \"configs\""),
        (#"{"nodes":[{"id":1,"configs":{}},{"id":1,"configs":{}}]}"#, "node 1 appears twice"),
        (#"{"nodes":[{"id":1,"configs":{"a":{"value":"1","source":"NOPE"}}}]}"#, "d.json"),
    ])
    func badDumpsNameTheProblem(json: String, expected: String) {
        do {
            _ = try ConfigDump.decode(Data(json.utf8), fileName: "d.json")
            Issue.record("decoded \(json)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }
}

@Suite struct KafkaVersionDetectionTests {
    @Test(arguments: KafkaVersion.known)
    func eachKnownVersionIsRecognisedFromItsConfigNames(version: KafkaVersion) throws {
        let names = ConfigCatalog.broker(version: version).names
        let result = try #require(KafkaVersionDetection.detect(fromConfigNames: names))
        #expect(result.version == version)
        #expect(result.isConfident)
    }

    @Test func aPartialDescribeIsAGuess() throws {
        let result = try #require(
            KafkaVersionDetection.detect(fromConfigNames: ["num.io.threads", "message.max.bytes"]))
        #expect(!result.isConfident)
        #expect(KafkaVersionDetection.detect(fromConfigNames: [String]()) == nil)
    }
}
