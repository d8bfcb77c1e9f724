import Media
import XCTest

/// NTP time (RFC 5905) as Q32.32 and as seconds since 1900.
final class NTPTimeTests: XCTestCase {
    func testFixedPointAndSecondsRoundTrip() throws {
        // 2026-12-07 12:00:00.5 UTC.
        XCTAssertEqual(NTPTime.fixedPoint(seconds: 4_005_633_600.5), 0xEEC1_1E40_8000_0000)
        XCTAssertEqual(NTPTime.seconds(0xEEC1_1E40_8000_0000), 4_005_633_600.5)
        let now = NTPTime.now()
        // A Double holds today's NTP time to about a microsecond (2^12 of 2^32 per second).
        let back = try XCTUnwrap(NTPTime.fixedPoint(seconds: NTPTime.seconds(now)))
        XCTAssertLessThan(abs(Int64(bitPattern: back &- now)), 1 << 12)
    }

    /// What NTP cannot hold is no time at all, never a made-up one (a capture time of 1900
    /// would be a delay of 126 years).
    func testTimesNTPCannotHoldAreNil() {
        for seconds in [-1, 4_294_967_296, .nan, .infinity] as [Double] {
            XCTAssertNil(NTPTime.fixedPoint(seconds: seconds), "\(seconds)")
        }
    }

    func testOffsetMapsAClockReadingToWallClockTime() {
        let offset = NTPTime.offset(fromClockReading: 1000)
        XCTAssertEqual(offset + 1000, NTPTime.seconds(NTPTime.now()), accuracy: 1)
    }
}
