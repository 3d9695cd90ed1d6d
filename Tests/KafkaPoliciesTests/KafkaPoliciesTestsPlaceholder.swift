import Testing

@testable import KafkaPolicies

@Suite struct KafkaPoliciesTestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
