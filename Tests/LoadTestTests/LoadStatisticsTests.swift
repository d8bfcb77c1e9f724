import ORTC
import XCTest

@testable import LoadTest
import Participant

final class LoadStatisticsTests: XCTestCase {
    private func stats(_ track: String, packets: Int, delays: [Double], ended: Bool = false) -> TrackStats {
        var stats = TrackStats(direction: .receive, kind: .video, codec: "video/VP8", track: track, peer: "1001")
        stats.packets = packets
        stats.bytes = packets * 1000
        stats.packetsExpected = packets
        stats.delays = delays
        stats.ended = ended
        return stats
    }

    /// Issue 14: a bot whose consumers churn used to keep a delay histogram (about 30 kB) and
    /// the last snapshot of every consumer it ever had. An ended track keeps only its total.
    func testEndedTracksKeepOnlyTheirTotals() {
        var statistics = LoadStatistics()
        for index in 0..<200 {
            let track = "consumer-\(index)"
            let start = Double(index)
            _ = statistics.record(bot: "2000", role: .subscriber, tracks: [stats(track, packets: 10, delays: [0.040, 0.050])],
                                  now: start + 0.5, joinedAt: 0)
            _ = statistics.record(bot: "2000", role: .subscriber,
                                  tracks: [stats(track, packets: 20, delays: [0.060], ended: true)], now: start + 1, joinedAt: 0)
        }
        XCTAssertEqual(statistics.liveTracks, 0, "ended tracks' snapshots are let go")
        XCTAssertEqual(statistics.histograms, 0, "ended tracks' histograms are let go")
        let summary = statistics.summary(bot: "2000")
        XCTAssertEqual(summary.count, 200)
        XCTAssertEqual(summary.first?.packets, 20)
        // The percentiles of the whole track (40, 50, 60 ms) were kept when it ended.
        XCTAssertEqual(summary.first?.delayMsP50, 50.5)
        XCTAssertEqual(summary.first?.delayMsP95, 60.5)
    }

    func testLiveTracksKeepTheirHistogramUntilTheSummary() {
        var statistics = LoadStatistics()
        _ = statistics.record(bot: "1", role: .subscriber, tracks: [stats("a", packets: 5, delays: [0.010])], now: 1, joinedAt: 0)
        _ = statistics.record(bot: "1", role: .subscriber, tracks: [stats("a", packets: 9, delays: [0.030])], now: 2, joinedAt: 0)
        XCTAssertEqual(statistics.liveTracks, 1)
        XCTAssertEqual(statistics.histograms, 1)
        XCTAssertEqual(statistics.summary(bot: "1").first?.delayMsP95, 30.5)
    }
}

final class DelayHistogramTests: XCTestCase {
    /// A delay past the histogram's 20 s is out of range: a percentile that falls there is
    /// unknown (nil), not the bound printed as a measurement; a 1e300 ms delay (a hostile
    /// sender report) is counted, not converted to Int.
    func testDelaysPastTheRangeAreUnknownNotTheBound() {
        var histogram = LoadStatistics.DelayHistogram()
        for _ in 0..<3 { histogram.add(40) }
        for delay in [25_000.0, 1e300] { histogram.add(delay) }
        XCTAssertEqual(histogram.count, 5)
        XCTAssertEqual(histogram.outOfRange, 2)
        XCTAssertEqual(histogram.percentile(0.5), 40.5)
        XCTAssertNil(histogram.percentile(0.95), "the 95th percentile lies past 20 s")
        histogram.add(.infinity)
        XCTAssertEqual(histogram.count, 5, "not finite: not a sample")
    }
}
