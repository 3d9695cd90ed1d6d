import Foundation
import Testing

@testable import KafkaWire

/// Frames captured from a real Kafka 4.1 cluster (see Fixtures/real-kafka-4.1/MANIFEST.md): each file is a frame
/// body without its size prefix, named `<MessageName>-v<version>[-<case>].bin`.
@Suite struct GoldenTests {
    struct Fixture {
        var file: String
        var message: String
        var version: Int16
        var bytes: [UInt8]
    }

    static func fixtures() throws -> [Fixture] {
        guard let base = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else { return [] }
        let dir = base.appendingPathComponent("real-kafka-4.1")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        var out: [Fixture] = []
        for name in names.sorted() where name.hasSuffix(".bin") {
            let stem = name.dropLast(4)
            guard let dash = stem.range(of: "-v") else { continue }
            let message = String(stem[..<dash.lowerBound])
            let digits = stem[dash.upperBound...].prefix { $0.isNumber }
            guard let version = Int16(digits) else { continue }
            let data = try Data(contentsOf: dir.appendingPathComponent(name))
            out.append(Fixture(file: name, message: message, version: version, bytes: [UInt8](data)))
        }
        return out
    }

    static func messageType(named name: String) -> (any KafkaMessage.Type)? {
        Samples.all.first { String(describing: $0) == name }
    }

    private func checkResponse<R: KafkaResponse>(_ type: R.Type, _ f: Fixture) throws -> R {
        let (correlationId, response) = try KafkaFrame.decodeResponse(R.self, version: f.version, body: f.bytes)
        let again = try KafkaFrame.response(response, version: f.version, correlationId: correlationId)
        #expect(Array(again.dropFirst(4)) == f.bytes, "\(f.file) re-encodes to different bytes")
        return response
    }

    private func checkRequest<R: KafkaRequest>(_ type: R.Type, _ f: Fixture) throws -> R {
        let (header, request) = try KafkaFrame.decodeRequest(R.self, body: f.bytes)
        #expect(header.apiVersion == f.version)
        let again = try KafkaFrame.request(
            request, version: header.apiVersion, correlationId: header.correlationId, clientId: header.clientId)
        #expect(Array(again.dropFirst(4)) == f.bytes, "\(f.file) re-encodes to different bytes")
        return request
    }

    @Test func realKafkaFramesDecodeAndReEncodeToTheSameBytes() throws {
        let all = try Self.fixtures()
        if all.isEmpty {
            let required = ProcessInfo.processInfo.environment["BALLAST_REQUIRE_GOLDEN"] == "1"
            #expect(!required, "BALLAST_REQUIRE_GOLDEN=1 but Fixtures/real-kafka-4.1 holds no frames")
            return
        }
        var checked: [String] = []
        var skipped: [String] = []
        for f in all {
            guard let type = Self.messageType(named: f.message), type.validVersions.contains(f.version) else {
                // Not in the supported set, or a version newer than the shared JSON declares.
                skipped.append(f.file)
                continue
            }
            do {
                if let r = type as? any KafkaResponse.Type {
                    _ = try checkResponse(r, f)
                } else if let r = type as? any KafkaRequest.Type {
                    _ = try checkRequest(r, f)
                }
                checked.append(f.file)
            } catch {
                Issue.record("\(f.file): \(error)")
            }
        }
        // 81 frames captured; 58 are supported messages in versions the shared JSON declares.
        #expect(checked.count >= 58, "checked \(checked.count): \(checked); skipped: \(skipped)")
    }

    private func fixture(_ file: String) throws -> Fixture {
        let f = try Self.fixtures().first { $0.file == file }
        return try #require(f, "missing fixture \(file)")
    }

    @Test func realApiVersionsResponseListsMetadataAndProduce() throws {
        let r = try checkResponse(ApiVersionsResponse.self, fixture("ApiVersionsResponse-v3.bin"))
        #expect(r.errorCode == 0)
        let metadata = try #require(r.apiKeys.first { $0.apiKey == ApiKey.metadata.rawValue })
        #expect(metadata.maxVersion >= 12)
        #expect(r.apiKeys.contains { $0.apiKey == ApiKey.produce.rawValue })
        #expect(r.apiKeys.count > 40)
        #expect(r.finalizedFeaturesEpoch >= 0)
        #expect(r.supportedFeatures.contains { $0.name == "metadata.version" })
    }

    @Test func realMetadataResponseDescribesTheFixtureTopic() throws {
        let r = try checkResponse(MetadataResponse.self, fixture("MetadataResponse-v4.bin"))
        #expect(r.brokers.count >= 3)
        let topic = try #require(r.topics.first { $0.name == "fixture-topic" })
        #expect(topic.partitions.count == 12)
        #expect(topic.partitions.allSatisfy { $0.replicaNodes.count == 3 && $0.errorCode == 0 })
    }

    @Test func realProduceRequestsCarryValidRecordBatches() throws {
        let r = try checkRequest(ProduceRequest.self, fixture("ProduceRequest-v7.bin"))
        let records = try #require(r.topicData.first?.partitionData.first?.records)
        let batches = try RecordBatchHeader.parse(records)
        #expect(batches.count == 1 && batches[0].recordCount > 0)
        var corrupted = records
        corrupted[corrupted.count - 1] ^= 0xff
        #expect(throws: WireError.self) { try RecordBatchHeader.parse(corrupted) }
    }

    @Test func realNotEnoughReplicasProduceResponseCarriesTheError() throws {
        let r = try checkResponse(ProduceResponse.self, fixture("ProduceResponse-v7-not-enough-replicas.bin"))
        let codes = r.responses.flatMap { $0.partitionResponses.map(\.errorCode) }
        #expect(codes.contains(KafkaErrorCode.notEnoughReplicas.rawValue))
    }
}
