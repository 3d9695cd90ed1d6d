import Foundation
import Testing

@testable import BallastStore

/// The leadership lease two engines sharing one store compete for. Time is the `now` each call passes.
@Suite struct LeaseTests {
    let t0 = Date(timeIntervalSince1970: 1_000)

    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    @Test func aFreeLeaseIsTakenUntilNowPlusTTLWithEpochOne() async throws {
        try await withTestStore { store in
            let s = try store.open()
            let lease = try await s.acquireLease("leader", holder: "a", ttl: .seconds(15), now: t0)
            #expect(lease == Lease(holder: "a", expiresAt: at(15), epoch: 1))
        }
    }

    @Test func theHolderRenewsItKeepingItsEpoch() async throws {
        try await withTestStore { store in
            let s = try store.open()
            _ = try await s.acquireLease("leader", holder: "a", ttl: .seconds(15), now: t0)
            let renewed = try await s.acquireLease("leader", holder: "a", ttl: .seconds(15), now: at(5))
            #expect(renewed == Lease(holder: "a", expiresAt: at(20), epoch: 1))
            // Renewing late, once expired but before anyone else took it, keeps it too.
            let late = try await s.acquireLease("leader", holder: "a", ttl: .seconds(15), now: at(30))
            #expect(late == Lease(holder: "a", expiresAt: at(45), epoch: 1))
        }
    }

    @Test func anotherHolderIsRefusedWhileTheLeaseRuns() async throws {
        try await withTestStore { store in
            let a = try store.open()
            let b = try store.open()
            _ = try await a.acquireLease("leader", holder: "a", ttl: .seconds(15), now: t0)
            let refused = try await b.acquireLease("leader", holder: "b", ttl: .seconds(15), now: at(14.5))
            #expect(refused == Lease(holder: "a", expiresAt: at(15), epoch: 1))
        }
    }

    @Test func anExpiredLeaseIsTakenOverWithTheNextEpoch() async throws {
        try await withTestStore { store in
            let a = try store.open()
            let b = try store.open()
            _ = try await a.acquireLease("leader", holder: "a", ttl: .seconds(15), now: t0)
            // Expired at exactly expiresAt.
            let taken = try await b.acquireLease("leader", holder: "b", ttl: .seconds(15), now: at(15))
            #expect(taken == Lease(holder: "b", expiresAt: at(30), epoch: 2))
            // The former holder, back late, finds it gone and cannot renew it.
            let lost = try await a.acquireLease("leader", holder: "a", ttl: .seconds(15), now: at(16))
            #expect(lost == Lease(holder: "b", expiresAt: at(30), epoch: 2))
            // And takes it back only after it expires again, with the epoch after that.
            let back = try await a.acquireLease("leader", holder: "a", ttl: .seconds(15), now: at(31))
            #expect(back == Lease(holder: "a", expiresAt: at(46), epoch: 3))
        }
    }

    @Test func aReleasedLeaseIsFreeAtOnceAndItsNextHolderGetsTheNextEpoch() async throws {
        try await withTestStore { store in
            let a = try store.open()
            let b = try store.open()
            _ = try await a.acquireLease("leader", holder: "a", ttl: .seconds(15), now: t0)
            // Only the holder can release it.
            try await b.releaseLease("leader", holder: "b")
            #expect(try await b.acquireLease("leader", holder: "b", ttl: .seconds(15), now: at(1)).holder == "a")
            try await a.releaseLease("leader", holder: "a")
            let taken = try await b.acquireLease("leader", holder: "b", ttl: .seconds(15), now: at(2))
            #expect(taken == Lease(holder: "b", expiresAt: at(17), epoch: 2))
            // Releasing one never held, or a lease that does not exist, changes nothing.
            try await a.releaseLease("leader", holder: "a")
            try await a.releaseLease("other", holder: "a")
            #expect(try await a.acquireLease("leader", holder: "a", ttl: .seconds(15), now: at(3)).holder == "b")
        }
    }

    @Test func leasesOfDifferentNamesAreIndependentAndSurviveAReopen() async throws {
        try await withTestStore { store in
            let s = try store.open()
            _ = try await s.acquireLease("leader", holder: "a", ttl: .seconds(15), now: t0)
            let other = try await s.acquireLease("reaper", holder: "b", ttl: .milliseconds(1_500), now: t0)
            #expect(other == Lease(holder: "b", expiresAt: at(1.5), epoch: 1))
            let reopened = try store.open()
            #expect(
                try await reopened.acquireLease("leader", holder: "c", ttl: .seconds(15), now: at(1))
                    == Lease(holder: "a", expiresAt: at(15), epoch: 1))
        }
    }
}
