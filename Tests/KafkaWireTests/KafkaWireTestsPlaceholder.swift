import Testing

@testable import KafkaWire

@Suite struct KafkaWireTestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
