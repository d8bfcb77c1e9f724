@testable import Congestion
import XCTest

final class LossBasedBandwidthEstimationTests: XCTestCase {
    /// Past the start phase, at 1 Mbit/s with a delay-based limit far above.
    private func estimation(floor: Double = 0) -> LossBasedBandwidthEstimation {
        var estimation = LossBasedBandwidthEstimation(start: 1_000_000, min: 30_000, max: 10_000_000, lossFloor: floor)
        estimation.setDelayBasedLimit(10_000_000, now: 0)
        // First report (the start phase runs 2 s from here), in the 2-10 % band: hold.
        estimation.packetsLost(5, of: 100, now: 0)
        estimation.setSendBitrate(1_000_000, now: 2.5)
        return estimation
    }

    func testTable() {
        let cases: [(lost: Int, of: Int, expected: Double, why: String)] = [
            (30, 100, 1_000_000 * (1 - 0.5 * 0.3), "30 %: cut by half the loss"),
            (11, 100, 1_000_000 * (1 - 0.5 * 0.11), "11 %: cut"),
            (10, 100, 1_000_000, "10 %: hold"),
            (5, 100, 1_000_000, "5 %: hold"),
            (2, 100, 1_000_000 * 1.08 + 1_000, "2 %: grow to 1.08 × the lowest of the last second"),
            (0, 100, 1_000_000 * 1.08 + 1_000, "none: grow"),
            (5, 10, 1_000_000, "fewer than 20 packets: no decision yet"),
        ]
        for entry in cases {
            var estimation = estimation()
            estimation.updateEstimate(now: 2.5) // the rate of 1 s before
            estimation.packetsLost(entry.lost, of: entry.of, now: 3.5)
            XCTAssertEqual(estimation.current, entry.expected, accuracy: 1, entry.why)
        }
    }

    func testCutsAtMostOncePerReportAndDecreaseInterval() {
        var estimation = estimation()
        estimation.roundTrip = 0.1
        estimation.packetsLost(50, of: 100, now: 3)
        XCTAssertEqual(estimation.current, 750_000, accuracy: 1)
        estimation.updateEstimate(now: 3.1)
        XCTAssertEqual(estimation.current, 750_000, accuracy: 1, "the same report does not cut twice")
        estimation.packetsLost(50, of: 100, now: 3.2)
        XCTAssertEqual(estimation.current, 750_000, accuracy: 1, "within 300 ms + a round trip")
        estimation.packetsLost(50, of: 100, now: 3.45)
        XCTAssertEqual(estimation.current, 562_500, accuracy: 1)
    }

    func testLossIsNotActedOnBelowTheFloor() {
        var estimation = estimation(floor: 800_000)
        estimation.roundTrip = 0
        var now = 3.0
        for _ in 0..<20 {
            estimation.packetsLost(50, of: 100, now: now)
            now += 0.5
        }
        XCTAssertEqual(estimation.current, 800_000, accuracy: 1, "cut to the floor and no further")
    }

    func testCapsAndStartPhase() {
        var estimation = LossBasedBandwidthEstimation(start: 300_000, min: 30_000, max: 2_000_000, lossFloor: 0)
        estimation.setDelayBasedLimit(900_000, now: 0)
        estimation.updateEstimate(now: 0.5)
        XCTAssertEqual(estimation.current, 900_000, "start phase: follow the delay-based estimate up")
        estimation.setReceiverLimit(600_000, now: 0.6)
        XCTAssertEqual(estimation.current, 600_000, "REMB caps")
        estimation.setReceiverLimit(nil, now: 0.7)
        estimation.setDelayBasedLimit(20_000, now: 0.8)
        XCTAssertEqual(estimation.current, 30_000, "never below the minimum")
    }

    func testFeedbackTimeoutBacksOff() {
        var estimation = estimation()
        estimation.updateEstimate(now: 14)
        XCTAssertEqual(estimation.current, 1_000_000, accuracy: 1, "feedback due every 5 s: not yet late")
        estimation.updateEstimate(now: 16)
        XCTAssertEqual(estimation.current, 800_000, accuracy: 1)
        estimation.updateEstimate(now: 16.5)
        XCTAssertEqual(estimation.current, 800_000, accuracy: 1, "once a second")
    }
}
