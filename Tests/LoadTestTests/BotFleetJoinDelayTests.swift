@testable import LoadTest
import Participant
import XCTest

final class BotFleetJoinDelayTests: XCTestCase {
    /// Bot n joins n / rate seconds in; a rate so small that the delay would not fit a
    /// Duration (1e-300: 1e300 s, which `Int(delay * 1000)` trapped on) waits at most a year.
    func testJoinDelayIsBounded() {
        XCTAssertEqual(BotFleet.joinDelay(index: 0, joinsPerSecond: 5), .zero)
        XCTAssertEqual(BotFleet.joinDelay(index: 3, joinsPerSecond: 5), .milliseconds(600))
        let year = Duration.seconds(365 * 86400)
        for rate in [1e-300, .leastNonzeroMagnitude, 1e-9] {
            XCTAssertEqual(BotFleet.joinDelay(index: 10_000, joinsPerSecond: rate), year, "rate \(rate)")
        }
        for rate in [0, -1, Double.nan, -Double.infinity] {
            XCTAssertEqual(BotFleet.joinDelay(index: 7, joinsPerSecond: rate), .zero, "rate \(rate)")
        }
        XCTAssertEqual(BotFleet.joinDelay(index: 7, joinsPerSecond: .infinity), .zero)
        XCTAssertTrue(BotFleet.joinRates.contains(0.001) && BotFleet.joinRates.contains(1000))
        XCTAssertFalse(BotFleet.joinRates.contains(1e-300) || BotFleet.joinRates.contains(.nan))
    }
}
