import Testing

@testable import Planner

@Suite struct PlannerTestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
