import XCTest
@testable import Media

/// Freezes as W3C webrtc-stats and libwebrtc define them: an interval of at least
/// max(3 × mean, mean + 150 ms), the mean over the last 30 intervals that were not freezes.
final class FreezeDetectorTests: XCTestCase {
    private func run(_ intervals: [Double]) -> FreezeDetector {
        var detector = FreezeDetector()
        var time = 100.0
        detector.frame(at: time)
        for interval in intervals {
            time += interval
            detector.frame(at: time)
        }
        return detector
    }

    func testSteady30FpsHasNoFreeze() {
        let detector = run(Array(repeating: 1.0 / 30, count: 300))
        XCTAssertEqual(detector.freezes, 0)
        XCTAssertEqual(detector.frozenSeconds, 0)
    }

    func testAGapOfMeanPlus150msIsAFreezeAndItsWholeIntervalIsFrozen() {
        // At 30 fps the bound is max(100 ms, 183 ms) = 183 ms.
        let frozen = run(Array(repeating: 1.0 / 30, count: 30) + [0.190] + Array(repeating: 1.0 / 30, count: 30))
        XCTAssertEqual(frozen.freezes, 1)
        XCTAssertEqual(frozen.frozenSeconds, 0.190, accuracy: 1e-9)
        let notFrozen = run(Array(repeating: 1.0 / 30, count: 30) + [0.175] + Array(repeating: 1.0 / 30, count: 30))
        XCTAssertEqual(notFrozen.freezes, 0)
    }

    func testAtLowFrameRatesThreeTimesTheMeanIsTheBound() {
        // At 5 fps the bound is max(600 ms, 350 ms) = 600 ms.
        XCTAssertEqual(run(Array(repeating: 0.2, count: 30) + [0.55]).freezes, 0)
        XCTAssertEqual(run(Array(repeating: 0.2, count: 30) + [0.61]).freezes, 1)
    }

    /// A freeze does not raise the mean it is judged against: back-to-back freezes all count.
    /// (The rule this replaced folded every gap into a running mean: of 30 one-second stalls
    /// at 30 fps it counted 15.)
    func testFreezesDoNotRaiseTheMean() {
        var intervals = Array(repeating: 1.0 / 30, count: 30)
        for _ in 0..<30 { intervals += [1.0, 1.0 / 30] }
        let detector = run(intervals)
        XCTAssertEqual(detector.freezes, 30)
        XCTAssertEqual(detector.frozenSeconds, 30.0, accuracy: 1e-9)
    }

    func testNothingCountsBeforeFiveIntervals() {
        XCTAssertEqual(run([0.033, 0.033, 0.033, 0.033, 1.0]).freezes, 0)
        XCTAssertEqual(run([0.033, 0.033, 0.033, 0.033, 0.033, 1.0]).freezes, 1)
    }

    func testTheMeanFollowsTheLast30Intervals() {
        // 60 intervals at 10 fps, then 30 at 30 fps: the mean is 33 ms again, so 190 ms is a
        // freeze (against the 10 fps mean it would not be: the bound would be 300 ms; the
        // running mean this replaced still said 300 ms and counted none).
        let detector = run(Array(repeating: 0.1, count: 60) + Array(repeating: 1.0 / 30, count: 30) + [0.19])
        XCTAssertEqual(detector.freezes, 1)
    }

    func testTimesThatDoNotMoveForwardAreIgnored() {
        var detector = FreezeDetector()
        for index in 0..<20 { detector.frame(at: Double(index) / 30) }
        detector.frame(at: 0.1)
        detector.frame(at: .nan)
        detector.frame(at: 19.0 / 30)
        detector.frame(at: 20.0 / 30)
        XCTAssertEqual(detector.freezes, 0)
    }
}
