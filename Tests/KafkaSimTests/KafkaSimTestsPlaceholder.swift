import Testing

@testable import KafkaSim

@Suite struct KafkaSimTestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
