import Testing

@testable import Roller

@Suite struct RollerTestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
