import Foundation
import ServiceContract
import Testing

@Suite("Service JSON: RFC 3339 times")
struct ServiceJSONTests {
    @Test("the hand-written RFC 3339 parser gives the instant ISO8601DateFormatter gives, to the millisecond")
    func agreesWithTheFormatter() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let inputs = [
            "2026-12-01T08:00:00Z", "2026-12-01T08:00:00.123Z", "2026-12-01T08:00:00.5+02:00",
            "2024-02-29T23:59:59.999-11:30", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
            "2100-03-01T12:34:56+14:00", "2000-02-29T00:00:00.000Z",
        ]
        for s in inputs {
            let mine = try #require(ServiceJSON.parseRFC3339(s), "\(s)")
            let theirs = try #require(formatter.date(from: s) ?? plain.date(from: s), "\(s)")
            #expect(abs(mine.timeIntervalSince(theirs)) < 0.001, "\(s): \(mine) vs \(theirs)")
        }
        // Before 1582 the formatter switches to the Julian calendar; RFC 3339 (and Go, Alertmanager's zero time) stay
        // proleptic Gregorian.
        #expect(ServiceJSON.parseRFC3339("0001-01-01T00:00:00Z")?.timeIntervalSince1970 == -62_135_596_800)
        // Alertmanager's nanoseconds, lower-case separators, a leap second.
        let nanos = try #require(ServiceJSON.parseRFC3339("2026-12-01T08:00:00.123456789Z"))
        #expect(abs(nanos.timeIntervalSince1970 - 1_796_112_000.123456789) < 1e-6)
        #expect(ServiceJSON.parseRFC3339("2026-12-01t08:00:00z") == ServiceJSON.parseRFC3339("2026-12-01T08:00:00Z"))
        #expect(ServiceJSON.parseRFC3339("2016-12-31T23:59:60Z") != nil)
    }

    @Test("what is not an RFC 3339 date-time is refused")
    func refusesTheRest() {
        for s in [
            "", "AAA", "2026-12-01", "2026-12-01T08:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
            "2026-12-01T24:00:00Z", "2026-12-01T08:60:00Z", "2026-12-01T08:00:00.Z", "2026-12-01T08:00:00+0200",
            "2026-12-01T08:00:00Z ", "2026-12-01 08:00:00Z", "２026-12-01T08:00:00Z",
        ] {
            #expect(ServiceJSON.parseRFC3339(s) == nil, "\(s)")
        }
    }
}
