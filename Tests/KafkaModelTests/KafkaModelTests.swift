import Foundation
import Testing

@testable import KafkaModel

@Suite struct ClusterModelFileTests {
    func decode(_ json: String) throws(ModelFileError) -> ClusterModelFile { try .decode(Array(json.utf8)) }

    func expectError(_ json: String, field: String, reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try decode(json)
            Issue.record("expected \(field): \(reason)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.field == field, sourceLocation: sourceLocation)
            #expect(error.reason == reason, sourceLocation: sourceLocation)
        }
    }

    @Test func theDesignExampleDecodesWithEveryField() throws {
        let file = try decode(
            #"""
            {"brokers": [{"id": 1, "rack": "az-a", "cluster": "k8s-east", "state": "alive",
                          "capacity": {"disk": 1000000, "networkIn": 100000, "networkOut": 100000, "cpu": 100}}],
             "topics": [{"name": "orders", "minInSyncReplicas": 2,
                         "partitions": [{"id": 0, "replicas": [1], "leader": 1,
                                         "load": {"disk": 1200, "networkIn": 150, "networkOut": 450, "cpu": 0.4}}]}]}
            """#)
        #expect(file.brokers[0].cluster == "k8s-east" && file.brokers[0].state == .alive)
        #expect(file.brokers[0].capacity?.cpu == 100)
        #expect(file.topics[0].partitions[0].load?.networkOut == 450)
        #expect(try ClusterModelFile.decode(file.encoded()) == file)
    }

    @Test func everyCommonRuleNamesTheFieldAtFault() {
        expectError(#"{"brokers": [], "topics": []}"#, field: "brokers", reason: "no brokers")
        expectError(
            #"{"brokers": [{"id": -1}], "topics": []}"#, field: "brokers[0].id", reason: "broker id -1 is negative")
        expectError(
            #"{"brokers": [{"id": 1}, {"id": 1}], "topics": []}"#, field: "brokers[1].id",
            reason: "broker 1 appears twice")
        expectError(
            #"{"brokers": [{"id": 1, "capacity": {"disk": 0}}], "topics": []}"#, field: "brokers[0].capacity.disk",
            reason: "must be a positive number")
        expectError(
            #"{"brokers": [{"id": 1, "state": "zombie"}], "topics": []}"#, field: "brokers[0].state",
            reason: "must be one of alive, dead, new, removing")
        let broker = #"{"brokers": [{"id": 1}, {"id": 2}], "topics": "#
        expectError(
            broker + #"[{"name": "t", "partitions": []}, {"name": "t", "partitions": []}]}"#, field: "topics[1].name",
            reason: "topic t appears twice")
        expectError(
            broker + #"[{"name": "t", "minInSyncReplicas": 0, "partitions": []}]}"#,
            field: "topics[0].minInSyncReplicas", reason: "must be at least 1")
        expectError(
            broker + #"[{"name": "t", "partitions": [{"id": 0, "replicas": [1]}, {"id": 0, "replicas": [2]}]}]}"#,
            field: "topics[0].partitions[1].id", reason: "partition 0 appears twice")
        expectError(
            broker + #"[{"name": "t", "partitions": [{"id": 0, "replicas": []}]}]}"#,
            field: "topics[0].partitions[0].replicas", reason: "no replicas")
        expectError(
            broker + #"[{"name": "t", "partitions": [{"id": 0, "replicas": [1, 9]}]}]}"#,
            field: "topics[0].partitions[0].replicas", reason: "broker 9 is not in brokers")
        expectError(
            broker + #"[{"name": "t", "partitions": [{"id": 0, "replicas": [1, 1]}]}]}"#,
            field: "topics[0].partitions[0].replicas", reason: "broker 1 appears twice")
        expectError(
            broker + #"[{"name": "t", "partitions": [{"id": 0, "replicas": [1], "leader": 2}]}]}"#,
            field: "topics[0].partitions[0].leader", reason: "broker 2 is not one of the replicas")
        expectError(
            broker + #"[{"name": "t", "partitions": [{"id": 0, "replicas": [1], "load": {"cpu": -1}}]}]}"#,
            field: "topics[0].partitions[0].load.cpu", reason: "must be a non-negative number")
    }

    @Test func anOfflineLeaderIsAllowed() throws {
        let file = try decode(
            #"{"brokers": [{"id": 1}], "topics": [{"name": "t", "partitions": [{"id": 0, "replicas": [1], "leader": -1}]}]}"#
        )
        #expect(file.topics[0].partitions[0].leader == -1)
    }
}

@Suite struct VocabularyTests {
    @Test func processRolesParseToOneRoleSet() {
        #expect(Set<NodeRole>(processRoles: "broker, controller") == [.broker, .controller])
        #expect(Set<NodeRole>(processRoles: "controller")?.isControllerOnly == true)
        #expect(Set<NodeRole>(processRoles: "observer") == nil)
        #expect(Set<NodeRole>([.controller, .broker]).processRoles == "broker,controller")
    }

    @Test func configSourceCodesRoundTripAndUnknownCodesAreUnknown() {
        for code in Int8(0)...8 { #expect(ConfigSource(code: code).code == code) }
        #expect(ConfigSource(code: 42) == .unknown)
        #expect(ConfigSource.dynamicDefaultBroker.rawValue == "DYNAMIC_DEFAULT_BROKER_CONFIG")
    }

    @Test func configTypeAndResourceCodesAreKafkas() {
        #expect(ConfigType.password.code == 9 && ConfigType(code: 7) == .list && ConfigType(code: 0) == nil)
        #expect(ConfigResource.Kind(code: 2) == .topic && ConfigResource.Kind(code: 4) == .broker)
        #expect(ConfigResource.Kind(code: 3) == nil)
    }

    @Test func splitMixIsDeterministicPerSeed() {
        var a = SplitMix64(seed: 7)
        var b = SplitMix64(seed: 7)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        var c = SplitMix64(seed: 8)
        #expect(a.next() != c.next())
        let u = c.unit()
        #expect(u >= 0 && u < 1)
    }

    @Test func whitespaceIsTrimmedAtBothEndsOnly() {
        #expect(" \ta b \n".trimmingWhitespace() == "a b")
        #expect(Duration.milliseconds(1500).seconds == 1.5)
    }
}

@Suite struct PartitionInfoTests {
    @Test func theInlineISRCountFollowsEveryChangeOfTheISR() {
        var p = PartitionInfo(topic: "t", partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3])
        #expect(p.isrCount == 3)
        p.isr.removeLast()
        #expect(p.isrCount == 2)
        p.isr = [1]
        #expect(p.isrCount == 1)
        p.isr.append(contentsOf: [2, 3])
        #expect(p.isrCount == 3)
    }

    @Test func itsJSONHasNoISRCountAndDecodingSetsIt() throws {
        let p = PartitionInfo(topic: "t", partition: 4, leader: 2, leaderEpoch: 7, replicas: [2, 3], isr: [2])
        let json = String(decoding: try JSONEncoder().encode(p), as: UTF8.self)
        #expect(!json.contains("isrCount"))
        let back = try JSONDecoder().decode(PartitionInfo.self, from: Data(json.utf8))
        #expect(back == p)
        #expect(back.isrCount == 1)
    }
}
