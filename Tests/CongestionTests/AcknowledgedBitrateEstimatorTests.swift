@testable import Congestion
import XCTest

final class AcknowledgedBitrateEstimatorTests: XCTestCase {
    /// 1000-byte packets every `interval` seconds from `start` for `duration`.
    private func feed(_ estimator: inout AcknowledgedBitrateEstimator, interval: Double, from start: Double, for duration: Double) {
        var time = start
        while time < start + duration {
            estimator.update(arrivalTime: time, size: 1000)
            time += interval
        }
    }

    func testSteadyRate() {
        var estimator = AcknowledgedBitrateEstimator()
        XCTAssertNil(estimator.bitrate)
        feed(&estimator, interval: 0.016, from: 0, for: 0.45)
        XCTAssertNil(estimator.bitrate, "the first window is 500 ms")
        feed(&estimator, interval: 0.016, from: 0.464, for: 3)
        XCTAssertEqual(estimator.bitrate ?? 0, 500_000, accuracy: 25_000)
    }

    func testFollowsALastingChangeButNotOneOddWindow() {
        var estimator = AcknowledgedBitrateEstimator()
        feed(&estimator, interval: 0.016, from: 0, for: 5) // 500 kbit/s
        feed(&estimator, interval: 0.004, from: 5, for: 0.15) // one window at 2 Mbit/s
        let afterOdd = estimator.bitrate ?? 0
        XCTAssertLessThan(afterOdd, 700_000)
        feed(&estimator, interval: 0.004, from: 5.15, for: 10)
        XCTAssertEqual(estimator.bitrate ?? 0, 2_000_000, accuracy: 100_000)
    }

    func testClockGoingBackStartsAWindowAfresh() {
        var estimator = AcknowledgedBitrateEstimator()
        feed(&estimator, interval: 0.016, from: 100, for: 2)
        let before = estimator.bitrate
        feed(&estimator, interval: 0.016, from: 0, for: 0.1)
        XCTAssertEqual(estimator.bitrate, before)
        estimator.update(arrivalTime: .nan, size: 1000)
        XCTAssertEqual(estimator.bitrate, before)
    }

    func testIncomingRateWindow() {
        var window = IncomingRateWindow()
        XCTAssertNil(window.bitrate)
        for index in 0..<10 { window.add(arrivalTime: Double(index) * 0.008, size: 1000) } // 1 Mbit/s over 72 ms
        XCTAssertNil(window.bitrate, "under 100 ms is no rate")
        for index in 10..<200 { window.add(arrivalTime: Double(index) * 0.008, size: 1000) }
        XCTAssertEqual(window.bitrate ?? 0, 1_000_000, accuracy: 1, "packet boundaries do not bias it")
        for index in 0..<100 { window.add(arrivalTime: 1.6 + Double(index) * 0.002, size: 1000) } // 4 Mbit/s for 200 ms
        XCTAssertGreaterThan(window.bitrate ?? 0, 3_000_000, "250 ms reflect the jump")
        window.add(arrivalTime: 0, size: 1000)
        XCTAssertNil(window.bitrate, "the clock went back: start over")
    }
}
