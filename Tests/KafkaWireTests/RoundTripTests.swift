import Testing

@testable import KafkaWire

@Suite struct RoundTripTests {
    /// Encode, decode, compare, re-encode: the bytes must be identical.
    private func roundTrip<M: KafkaMessage>(_ type: M.Type) throws -> Int {
        var checked = 0
        for version in M.validVersions {
            let sample = Samples.sample(M.self, version: version)
            let bytes = try sample.encoded(version: version)
            let decoded = try M(decoding: bytes, version: version)
            #expect(decoded == sample, "\(M.self) v\(version) decodes to a different value")
            let again = try decoded.encoded(version: version)
            #expect(again == bytes, "\(M.self) v\(version) re-encodes to different bytes")

            checked += 1
        }
        return checked
    }

    @Test func everyMessageRoundTripsInEveryVersionWithNonDefaultFields() throws {
        var total = 0
        for type in Samples.all {
            total += try roundTrip(type)
        }
        // 30 APIs, request and response, every version their JSON declares.
        #expect(total > 300)
        #expect(Samples.all.count == 60)
    }
}
