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

    /// Issue 16: a steady 1.35 Mb/s stream read 0 and 2.7 Mb/s in alternate seconds when the
    /// sampler got a bot's figures late (a busy event loop) and divided by its own interval.
    /// Each interval is now the one between the readings of the counters.
    func testRatesAreDividedByTheIntervalTheCountersWereReadOver() {
        var statistics = LoadStatistics()
        var bitrates: [Double] = []
        // 1,350,000 bit/s: 168,750 bytes a second, read every second on the dot; the sampler
        // gets the readings up to 0.9 s late, differently each time.
        let lateness = [0.0, 0.9, 0.05, 0.8, 0.1, 0.6, 0.0, 0.9]
        for (second, late) in lateness.enumerated() {
            var figures = stats("a", packets: 150 * (second + 1), delays: [])
            figures.bytes = 168_750 * (second + 1)
            figures.sampledAt = Double(second + 1)
            let records = statistics.record(bot: "1", role: .subscriber, tracks: [figures], now: Double(second + 1) + late,
                                            joinedAt: 0)
            bitrates += records.compactMap(\.bitrate)
        }
        XCTAssertEqual(bitrates.count, lateness.count)
        for bitrate in bitrates { XCTAssertEqual(bitrate, 1_350_000, accuracy: 135_000) }
    }

    /// The send side's pacer and controller figures: the mean wait of the interval's packets
    /// (not of the run), retransmissions dropped as a count per interval, the target and the
    /// layers paused as they stand; null when there is nothing to say.
    func testSendFiguresOfThePacerAndTheController() throws {
        var statistics = LoadStatistics()
        var sent = TrackStats(direction: .send, kind: .video, codec: "video/VP8", track: "p")
        sent.packets = 100
        sent.pacedPackets = 100
        sent.pacerDelaySeconds = 0.5  // 5 ms each
        sent.retransmissionsDropped = 3
        let first = try XCTUnwrap(statistics.record(bot: "1", role: .videoPublisher, tracks: [sent], now: 1, joinedAt: 0).first)
        XCTAssertEqual(try XCTUnwrap(first.pacerDelayMs), 5, accuracy: 1e-9)
        XCTAssertNil(first.targetBitrate, "no target yet: null, not 0")
        XCTAssertEqual(first.retransmissionsDropped, 3)
        sent.packets = 200
        sent.pacedPackets = 200
        sent.pacerDelaySeconds = 0.5 + 2  // 20 ms each in the second interval
        sent.retransmissionsDropped = 10
        sent.targetBitrate = 450_000
        sent.layersPaused = 1
        let second = try XCTUnwrap(statistics.record(bot: "1", role: .videoPublisher, tracks: [sent], now: 2, joinedAt: 0).first)
        XCTAssertEqual(try XCTUnwrap(second.pacerDelayMs), 20, accuracy: 1e-9)
        XCTAssertEqual(second.retransmissionsDropped, 7)
        XCTAssertEqual(second.targetBitrate, 450_000)
        XCTAssertEqual(second.layersPaused, 1)
        let total = try XCTUnwrap(statistics.summary(bot: "1").first)
        XCTAssertEqual(try XCTUnwrap(total.pacerDelayMs), 12.5, accuracy: 1e-9)
        XCTAssertEqual(total.retransmissionsDropped, 10)
        // Nothing paced in an interval: no delay to speak of.
        let idle = try XCTUnwrap(statistics.record(bot: "1", role: .videoPublisher, tracks: [sent], now: 3, joinedAt: 0).first)
        XCTAssertNil(idle.pacerDelayMs)
    }

    /// Without a reading time (figures kept from before), the sampler's own time is used.
    func testFiguresWithoutAReadingTimeUseTheSamplersTime() {
        var statistics = LoadStatistics()
        var figures = stats("a", packets: 10, delays: [])
        figures.bytes = 1000
        let records = statistics.record(bot: "1", role: .subscriber, tracks: [figures], now: 2, joinedAt: 0)
        XCTAssertEqual(records.first?.bitrate, 4000)
        XCTAssertEqual(records.first?.intervalS, 2)
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

    /// Only the buckets that got samples are held, in order, and percentiles read them as the
    /// dense table did: 1 ms buckets below 2 s (value: the bucket's middle), 10 ms to 20 s.
    func testHoldsOnlyTheBucketsUsedAndReadsThemInOrder() {
        var histogram = LoadStatistics.DelayHistogram()
        XCTAssertEqual(histogram.bucketsHeld, 0)
        for delay in [2500.0, 12.3, 12.9, 3.0, 1999.9, 2504.0, 0.2, -5] { histogram.add(delay) }
        XCTAssertEqual(histogram.count, 8)
        XCTAssertEqual(histogram.bucketsHeld, 5, "buckets 0, 3, 12, 1999 and 2500-2510 ms")
        XCTAssertEqual(histogram.percentile(0.25), 0.5, "-5 and 0.2 ms share the first bucket")
        XCTAssertEqual(histogram.percentile(0.375), 3.5)
        XCTAssertEqual(histogram.percentile(0.625), 12.5)
        XCTAssertEqual(histogram.percentile(0.75), 1999.5)
        XCTAssertEqual(histogram.percentile(1), 2505)
        histogram.add(19_999)
        XCTAssertEqual(histogram.percentile(1), 19_995, "the last coarse bucket")
    }
}
