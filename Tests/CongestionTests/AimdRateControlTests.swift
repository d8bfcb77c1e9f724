@testable import Congestion
import XCTest

final class AimdRateControlTests: XCTestCase {
    private func control(start: Double = 500_000) -> AimdRateControl {
        AimdRateControl(start: start, min: 30_000, max: 10_000_000)
    }

    func testMultiplicativeIncreaseIsEightPercentASecond() {
        var aimd = control()
        aimd.update(usage: .normal, acknowledged: 500_000, now: 0) // hold → increase, by the 1 kbit/s floor
        XCTAssertEqual(aimd.current, 501_000, accuracy: 1)
        aimd.update(usage: .normal, acknowledged: 500_000, now: 1)
        XCTAssertEqual(aimd.current, 501_000 * 1.08, accuracy: 1)
        for step in 1...10 { aimd.update(usage: .normal, acknowledged: 1_000_000, now: 1 + Double(step) * 0.1) }
        XCTAssertEqual(aimd.current, 501_000 * 1.08 * 1.08, accuracy: 1, "10 steps of 100 ms make 8 % too")
    }

    func testDecreaseToEightyFivePercentOfTheAcknowledgedRateThenHold() {
        var aimd = control(start: 1_000_000)
        aimd.update(usage: .overusing, acknowledged: 600_000, now: 0)
        XCTAssertEqual(aimd.current, 510_000, accuracy: 1)
        XCTAssertEqual(aimd.state, .hold)
        aimd.update(usage: .underusing, acknowledged: 600_000, now: 0.1)
        XCTAssertEqual(aimd.current, 510_000, accuracy: 1, "hold while the queue drains")
    }

    func testIncreaseStopsAtOnePointFiveTimesTheAcknowledgedRate() {
        var aimd = control(start: 100_000)
        aimd.update(usage: .normal, acknowledged: 50_000, now: 0)
        for step in 1...200 { aimd.update(usage: .normal, acknowledged: 50_000, now: Double(step) * 0.1) }
        XCTAssertEqual(aimd.current, 100_000, "already above 1.5 × 50 k + 10 k: no increase")
        var limited = control(start: 80_000)
        limited.update(usage: .normal, acknowledged: 80_000, now: 0)
        for step in 1...300 { limited.update(usage: .normal, acknowledged: 80_000, now: Double(step) * 0.1) }
        XCTAssertEqual(limited.current, 130_000, accuracy: 1)
    }

    func testAdditiveIncreaseNearTheLinkCapacity() {
        var aimd = control(start: 1_000_000)
        aimd.roundTrip = 0.1
        aimd.update(usage: .overusing, acknowledged: 1_000_000, now: 0) // capacity known: 1 Mbit/s
        XCTAssertEqual(aimd.current, 850_000, accuracy: 1)
        aimd.update(usage: .normal, acknowledged: 900_000, now: 0.5)
        aimd.update(usage: .normal, acknowledged: 900_000, now: 1.5)
        // 850 k at 30 fps: 3542-byte frames in 3 packets of 1181 bytes; response 200 ms: 47 kbit/s a second.
        XCTAssertEqual(aimd.current, 850_000 + 1180.6 * 8 / 0.2, accuracy: 100)
    }

    func testDecreaseWithoutAnAcknowledgedRateHalves() {
        var aimd = control(start: 800_000)
        aimd.update(usage: .overusing, acknowledged: nil, now: 0)
        XCTAssertEqual(aimd.current, 400_000)
    }

    func testEstimateStaysWithinItsBounds() {
        var aimd = AimdRateControl(start: 50_000, min: 40_000, max: 60_000)
        aimd.update(usage: .overusing, acknowledged: 1_000, now: 0)
        XCTAssertEqual(aimd.current, 40_000)
        aimd.setEstimate(1e12, now: 1)
        XCTAssertEqual(aimd.current, 60_000)
        aimd.setEstimate(.nan, now: 2)
        XCTAssertEqual(aimd.current, 60_000)
    }

    func testTimeToReduceFurther() {
        var aimd = control(start: 1_000_000)
        aimd.roundTrip = 0.1
        aimd.update(usage: .overusing, acknowledged: 1_000_000, now: 0)
        XCTAssertFalse(aimd.timeToReduceFurther(now: 0.05, acknowledged: 800_000))
        XCTAssertTrue(aimd.timeToReduceFurther(now: 0.05, acknowledged: 400_000), "acknowledged below half the estimate")
        XCTAssertTrue(aimd.timeToReduceFurther(now: 0.1, acknowledged: 800_000), "a round trip later")
    }

    func testLinkCapacityBand() {
        var capacity = LinkCapacityEstimator()
        XCTAssertEqual(capacity.upperBound, .infinity)
        capacity.onOveruseDetected(acknowledgedBitrate: 1_000_000)
        XCTAssertEqual(capacity.estimateBitsPerSecond ?? 0, 1_000_000, accuracy: 1)
        // Deviation 0.4 at first: 3 × √(0.4 × 1000) kbit/s = 60 kbit/s either side.
        XCTAssertEqual(capacity.upperBound, 1_060_000, accuracy: 100)
        XCTAssertEqual(capacity.lowerBound, 940_000, accuracy: 100)
        capacity.onOveruseDetected(acknowledgedBitrate: 2_000_000)
        XCTAssertEqual(capacity.estimateBitsPerSecond ?? 0, 1_050_000, accuracy: 1, "α 0.05")
        capacity.reset()
        XCTAssertNil(capacity.estimate)
    }
}
