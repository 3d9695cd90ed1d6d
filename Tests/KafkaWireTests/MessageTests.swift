import Testing

@testable import KafkaWire

@Suite struct MessageTests {
    @Test func apiVersionsV3RequestMatchesTheBytesLibrdkafkaSends() throws {
        // Built by hand from ApiVersionsRequest.json and the header spec: size, then request header v2
        // (api key 18, version 3, correlation id 1, classic client id "rdkafka", no tags), then the body:
        // compact strings "librdkafka" and "2.3.0", no tags.
        let request = ApiVersionsRequest(clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.3.0")
        let frame = try KafkaFrame.request(request, version: 3, correlationId: 1, clientId: "rdkafka")
        var expected: [UInt8] = [0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07]
        expected += Array("rdkafka".utf8)
        expected += [0x00, 0x0b] + Array("librdkafka".utf8) + [0x06] + Array("2.3.0".utf8) + [0x00]
        #expect(frame == [0, 0, 0, UInt8(expected.count)] + expected)
        let (header, offset) = try KafkaFrame.decodeRequestHeader(Array(frame.dropFirst(4)))
        #expect(header == RequestHeader(apiKey: 18, apiVersion: 3, correlationId: 1, clientId: "rdkafka"))
        var reader = WireReader(Array(frame.dropFirst(4)), offset: offset)
        #expect(try ApiVersionsRequest(from: &reader, version: 3) == request)
        #expect(reader.isAtEnd)
    }

    @Test func apiVersionsV3ResponseUsesHeaderV0AndTaggedFeatures() throws {
        let response = ApiVersionsResponse(
            errorCode: 0,
            apiKeys: [.init(apiKey: 3, minVersion: 0, maxVersion: 12)],
            throttleTimeMs: 0,
            finalizedFeaturesEpoch: 5)
        let frame = try KafkaFrame.response(response, version: 3, correlationId: 7)
        let expected: [UInt8] = [
            0, 0, 0, 7,  // correlation id; header v0 has no tag section
            0, 0,  // error code
            2, 0, 3, 0, 0, 0, 12, 0,  // compact array of one ApiVersion with its empty tag section
            0, 0, 0, 0,  // throttle time
            1, 1, 8, 0, 0, 0, 0, 0, 0, 0, 5,  // one tagged field: tag 1, 8 bytes, FinalizedFeaturesEpoch = 5
        ]
        #expect(frame == [0, 0, 0, UInt8(expected.count)] + expected)
        let decoded = try KafkaFrame.decodeResponse(ApiVersionsResponse.self, version: 3, body: expected)
        #expect(decoded.correlationId == 7)
        #expect(decoded.response == response)
    }

    @Test func taggedStructFieldsAreWrittenOnlyWhenNotDefault() throws {
        // ProduceResponse v10: CurrentLeader is tag 0 of each partition, NodeEndpoints tag 0 of the response.
        var partition = ProduceResponse.PartitionProduceResponse(index: 1, errorCode: 6, baseOffset: -1)
        var response = ProduceResponse(responses: [.init(name: "t", partitionResponses: [partition])])
        let plain = try response.encoded(version: 10)
        partition.currentLeader = .init(leaderId: 2, leaderEpoch: 9)
        response.responses[0].partitionResponses[0] = partition
        response.nodeEndpoints = [.init(nodeId: 2, host: "h", port: 9092, rack: nil)]
        let tagged = try response.encoded(version: 10)
        // The partition's tag section grows from [0] to [1, tag 0, size 9, leader 2, epoch 9, inner tags 0].
        let leaderTag: [UInt8] = [1, 0, 9, 0, 0, 0, 2, 0, 0, 0, 9, 0]
        // The response's tag section: tag 0, size 13, compact array of one NodeEndpoint.
        let endpointTag: [UInt8] = [1, 0, 13, 2, 0, 0, 0, 2, 2, 0x68, 0, 0, 0x23, 0x84, 0, 0]
        #expect(tagged.count == plain.count + (leaderTag.count - 1) + (endpointTag.count - 1))
        #expect(tagged.firstRange(of: leaderTag) != nil)
        #expect(Array(tagged.suffix(endpointTag.count)) == endpointTag)
        #expect(try ProduceResponse(decoding: tagged, version: 10) == response)
    }

    @Test func nonIgnorableFieldsThrowWhenTheVersionCannotCarryThem() throws {
        // IncludeClusterAuthorizedOperations exists in MetadataRequest v8-10 only and is not ignorable.
        let request = MetadataRequest(topics: nil, includeClusterAuthorizedOperations: true)
        #expect(throws: WireError.self) { try request.encoded(version: 11) }
        #expect(throws: WireError.self) { try request.encoded(version: 7) }
        _ = try request.encoded(version: 10)
        // Null topics (all topics) is not expressible in v0.
        #expect(throws: WireError.self) { try MetadataRequest(topics: nil).encoded(version: 0) }
    }

    @Test func ignorableFieldsAreDroppedSilently() throws {
        // ThrottleTimeMs is ignorable and arrives in MetadataResponse v3.
        let response = MetadataResponse(throttleTimeMs: 100, brokers: [], topics: [])
        let v0 = try response.encoded(version: 0)
        #expect(v0 == [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(try MetadataResponse(decoding: v0, version: 0).throttleTimeMs == 0)
    }

    @Test func unknownTaggedFieldsSurviveARoundTrip() throws {
        // A MetadataResponse v12 body with one unknown tag (42) in its top-level tag section.
        var w = WireWriter()
        w.write(int32: 0)  // throttle
        w.write(arrayLength: 0, compact: true)  // brokers
        try w.write(nullableString: nil, compact: true)  // cluster id
        w.write(int32: 1)  // controller
        w.write(arrayLength: 0, compact: true)  // topics
        w.write(taggedFields: [TaggedField(tag: 42, data: [1, 2, 3])])
        let decoded = try MetadataResponse(decoding: w.bytes, version: 12)
        #expect(decoded.unknownTaggedFields == [TaggedField(tag: 42, data: [1, 2, 3])])
        #expect(try decoded.encoded(version: 12) == w.bytes)
        // Non-flexible versions cannot carry tagged fields.
        #expect(throws: WireError.self) { try decoded.encoded(version: 8) }
    }

    @Test func nullIsAllowedOnlyInNullableVersions() throws {
        // MetadataResponseTopic.Name became nullable in v12 (topics queried by id).
        let response = MetadataResponse(topics: [.init(name: nil, topicId: KafkaUUID(high: 1, low: 2))])
        let v12 = try response.encoded(version: 12)
        #expect(try MetadataResponse(decoding: v12, version: 12) == response)
        #expect(throws: WireError.self) { try response.encoded(version: 11) }
        // A null (-1) broker array in a classic response is malformed.
        #expect(throws: WireError.self) {
            try MetadataResponse(decoding: [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], version: 0)
        }
    }

    @Test func csvQuotedMessagesKeepTheirCommas() {
        #expect(
            KafkaErrorCode.corruptMessage.message
                == "This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt."
        )
        #expect(KafkaErrorCode.none.message == "")
        #expect(KafkaErrorCode.none.name == "NONE")
    }

    @Test func unsupportedVersionsAreRejected() {
        #expect(throws: WireError.self) { try MetadataRequest().encoded(version: 13) }
        #expect(throws: WireError.self) { try MetadataResponse(decoding: [], version: -1) }
    }

    @Test func trailingBytesAfterAResponseAreAnError() throws {
        var body = try KafkaFrame.response(SaslHandshakeResponse(), version: 1, correlationId: 3).dropFirst(4)
        body.append(0)
        #expect(throws: WireError.self) {
            try KafkaFrame.decodeResponse(SaslHandshakeResponse.self, version: 1, body: Array(body))
        }
    }

    @Test func errorCodesCarryKafkasNamesAndRetriability() {
        #expect(KafkaErrorCode.notEnoughReplicas.rawValue == 19)
        #expect(KafkaErrorCode.notEnoughReplicas.name == "NOT_ENOUGH_REPLICAS")
        #expect(KafkaErrorCode.notEnoughReplicas.isRetriable)
        #expect(KafkaErrorCode.notLeaderOrFollower.rawValue == 6)
        #expect(KafkaErrorCode.none.rawValue == 0 && !KafkaErrorCode.none.isRetriable)
        #expect(KafkaErrorCode.unknownServerError.rawValue == -1)
        #expect(!KafkaErrorCode.topicAlreadyExists.isRetriable)
        #expect(KafkaErrorCode.corruptMessage.message.contains("CRC"))
        #expect(KafkaErrorCode(rawValue: 30000).name == "UNKNOWN_CODE_30000")
        #expect(KafkaErrorCode.allKnown.count > 120)
    }

    @Test func apiKeysCoverTheProtocol() {
        #expect(ApiKey.produce.rawValue == 0)
        #expect(ApiKey.metadata.rawValue == 3)
        #expect(ApiKey.apiVersions.rawValue == 18)
        #expect(ApiKey.describeQuorum.name == "DescribeQuorum")
        #expect(ApiKey.metadata.validVersions == 0...12)
        #expect(ApiKey.metadata.isFlexible(version: 9) && !ApiKey.metadata.isFlexible(version: 8))
        #expect(ApiKey.allCases.count > 70)
    }
}

@Suite struct HeaderTests {
    @Test func requestHeaderVersionFollowsFlexibility() {
        #expect(RequestHeader.headerVersion(apiKey: .metadata, apiVersion: 8) == 1)
        #expect(RequestHeader.headerVersion(apiKey: .metadata, apiVersion: 9) == 2)
        #expect(RequestHeader.headerVersion(apiKey: .controlledShutdown, apiVersion: 0) == 0)
        #expect(RequestHeader.headerVersion(apiKey: .apiVersions, apiVersion: 3) == 2)
        // A client may ask ApiVersions for a version newer than ours: the flexible range is open ended.
        #expect(RequestHeader.headerVersion(apiKey: .apiVersions, apiVersion: 99) == 2)
        #expect(RequestHeader.headerVersion(apiKey: 9999, apiVersion: 0) == nil)
    }

    @Test func responseHeaderVersionFollowsFlexibilityExceptForApiVersions() {
        #expect(ResponseHeader.headerVersion(apiKey: .metadata, apiVersion: 8) == 0)
        #expect(ResponseHeader.headerVersion(apiKey: .metadata, apiVersion: 9) == 1)
        #expect(ResponseHeader.headerVersion(apiKey: .apiVersions, apiVersion: 3) == 0)
        #expect(ResponseHeader.headerVersion(apiKey: .apiVersions, apiVersion: 4) == 0)
    }

    @Test func headerBytesPerVersion() throws {
        let h = RequestHeader(apiKey: 3, apiVersion: 12, correlationId: 5, clientId: nil)
        var v0 = WireWriter()
        try h.encode(to: &v0, headerVersion: 0)
        #expect(v0.bytes == [0, 3, 0, 12, 0, 0, 0, 5])
        var v1 = WireWriter()
        try h.encode(to: &v1, headerVersion: 1)
        #expect(v1.bytes == [0, 3, 0, 12, 0, 0, 0, 5, 0xff, 0xff])
        var v2 = WireWriter()
        try h.encode(to: &v2, headerVersion: 2)
        #expect(v2.bytes == [0, 3, 0, 12, 0, 0, 0, 5, 0xff, 0xff, 0])
        var r0 = WireWriter()
        try ResponseHeader(correlationId: 5).encode(to: &r0, headerVersion: 0)
        #expect(r0.bytes == [0, 0, 0, 5])
        var r1 = WireWriter()
        try ResponseHeader(correlationId: 5).encode(to: &r1, headerVersion: 1)
        #expect(r1.bytes == [0, 0, 0, 5, 0])
    }

    @Test func metadataV12FramesUseFlexibleHeadersBothWays() throws {
        let frame = try KafkaFrame.request(MetadataRequest(topics: nil), version: 12, correlationId: 9, clientId: "c")
        // size, key 3, version 12, correlation 9, client id "c", header tags 0, topics null (0), auto-create true,
        // include-topic-ops false, body tags 0.
        #expect(frame == [0, 0, 0, 16, 0, 3, 0, 12, 0, 0, 0, 9, 0, 1, 0x63, 0, 0, 1, 0, 0])
        let response = try KafkaFrame.response(MetadataResponse(), version: 12, correlationId: 9)
        #expect(Array(response.prefix(9)) == [0, 0, 0, 17, 0, 0, 0, 9, 0])
        let decoded = try KafkaFrame.decodeResponse(
            MetadataResponse.self, version: 12, body: Array(response.dropFirst(4)))
        #expect(decoded.correlationId == 9 && decoded.response == MetadataResponse())
    }

    @Test func nextFrameReportsCompleteFramesAndRejectsBadSizes() throws {
        #expect(try KafkaFrame.nextFrame(in: [0, 0], maxSize: 100) == nil)
        #expect(try KafkaFrame.nextFrame(in: [0, 0, 0, 2, 1], maxSize: 100) == nil)
        #expect(try KafkaFrame.nextFrame(in: [0, 0, 0, 2, 1, 2, 9], maxSize: 100) == 6)
        #expect(try KafkaFrame.nextFrame(in: [9, 0, 0, 0, 2, 1, 2], maxSize: 100, offset: 1) == 6)
        #expect(throws: WireError.self) { try KafkaFrame.nextFrame(in: [0xff, 0, 0, 0], maxSize: 100) }
        #expect(throws: WireError.self) { try KafkaFrame.nextFrame(in: [0, 0, 1, 0], maxSize: 100) }
    }

    @Test func decodeRequestChecksTheApiKey() throws {
        let frame = try KafkaFrame.request(
            SaslHandshakeRequest(mechanism: "PLAIN"), version: 1, correlationId: 1, clientId: nil)
        let body = Array(frame.dropFirst(4))
        #expect(try KafkaFrame.decodeRequest(SaslHandshakeRequest.self, body: body).request.mechanism == "PLAIN")
        #expect(throws: WireError.self) { try KafkaFrame.decodeRequest(MetadataRequest.self, body: body) }
        #expect(throws: WireError.self) { try KafkaFrame.decodeRequestHeader([0x7f, 0, 0, 0, 0, 0, 0, 0]) }
    }
}
