@testable import Congestion
import XCTest

final class OveruseDetectorTests: XCTestCase {
    /// Feeds groups 10 ms apart whose delay grows by `growth` ms each; the detector's states.
    private func states(growth: Double, groups: Int = 60) -> [BandwidthUsage] {
        var trendline = TrendlineEstimator()
        var detector = OveruseDetector()
        var states: [BandwidthUsage] = []
        for index in 0..<groups {
            let arrival = Double(index) * (10 + growth)
            trendline.update(arrivalDelta: 10 + growth, sendDelta: 10, arrivalTime: arrival)
            states.append(detector.detect(trend: trendline.trend, numberOfDeltas: trendline.numberOfDeltas,
                                          sendDelta: 10, now: arrival))
        }
        return states
    }

    func testTable() {
        let cases: [(growth: Double, final: BandwidthUsage, why: String)] = [
            (0, .normal, "constant delay"),
            (2, .overusing, "a queue growing by 2 ms every 10 ms"),
            (-2, .underusing, "a queue draining"),
            (0.01, .normal, "a drift of 1 ms a second stays under the threshold"),
        ]
        for entry in cases {
            XCTAssertEqual(states(growth: entry.growth).last, entry.final, entry.why)
        }
    }

    func testOveruseNeedsTheFullWindowAndTenMilliseconds() {
        let states = states(growth: 2)
        // The slope is fitted only once the window holds 20 points.
        XCTAssertTrue(states.prefix(TrendlineEstimator.windowSize - 1).allSatisfy { $0 == .normal })
        XCTAssertTrue(states.contains(.overusing))
    }

    func testTrendlineSlopeOfALinearDelay() {
        var trendline = TrendlineEstimator()
        for index in 0..<200 {
            trendline.update(arrivalDelta: 11, sendDelta: 10, arrivalTime: Double(index) * 11)
        }
        // Delay grows 1 ms per 11 ms of arrival: the smoothed slope converges to 1/11.
        XCTAssertEqual(trendline.trend, 1.0 / 11, accuracy: 0.01)
    }

    /// The threshold: slowly up while the trend exceeds it, faster down while inside, within 6...600.
    func testAdaptiveThreshold() {
        var detector = OveruseDetector()
        XCTAssertEqual(detector.threshold, 12.5)
        // Scaled trend 4 × 60 × 0.1 = 24: above the threshold, within 15 of it: k_up.
        _ = detector.detect(trend: 0.1, numberOfDeltas: 60, sendDelta: 10, now: 0)
        _ = detector.detect(trend: 0.1, numberOfDeltas: 60, sendDelta: 10, now: 10)
        XCTAssertEqual(detector.threshold, 12.5 + 0.0087 * (24 - 12.5) * 10, accuracy: 1e-9)
        var inside = OveruseDetector()
        _ = inside.detect(trend: 0, numberOfDeltas: 60, sendDelta: 10, now: 0)
        _ = inside.detect(trend: 0, numberOfDeltas: 60, sendDelta: 10, now: 10)
        XCTAssertEqual(inside.threshold, 12.5 - 0.039 * 12.5 * 10, accuracy: 1e-9)
        for step in 2..<100 { _ = inside.detect(trend: 0, numberOfDeltas: 60, sendDelta: 10, now: Double(step) * 10) }
        XCTAssertEqual(inside.threshold, 6, "never below 6 ms")
        var spike = OveruseDetector()
        _ = spike.detect(trend: 1, numberOfDeltas: 60, sendDelta: 10, now: 0)
        _ = spike.detect(trend: 1, numberOfDeltas: 60, sendDelta: 10, now: 10)
        XCTAssertEqual(spike.threshold, 12.5, "a spike far past the threshold does not move it")
    }

    func testFewerThanTwoDeltasIsNormal() {
        var detector = OveruseDetector()
        XCTAssertEqual(detector.detect(trend: 100, numberOfDeltas: 1, sendDelta: 10, now: 0), .normal)
    }
}
