import Testing

@testable import Agent

@Suite struct AgentTestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
