import Testing

@testable import KafkaAdmin

@Suite struct KafkaAdminTestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
