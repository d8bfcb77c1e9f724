import Foundation
import XCTest
@testable import LoadReport

final class FleetFiguresTests: XCTestCase {
    func testPublishedAndReceivedTracksFromSummaries() throws {
        var fixture = StatsFixture()
        fixture.loss = ["1004": 0.1]
        let report = fixture.report
        XCTAssertEqual(report.published.map(\.bot), ["1001", "1002"])
        XCTAssertEqual(report.published.map(\.figures.kind), ["video", "audio"])
        XCTAssertTrue(report.published.allSatisfy(\.fromSummary))
        let video = report.published[0].figures
        XCTAssertEqual(video.packets, 450)
        XCTAssertEqual(try XCTUnwrap(video.bitrate), 800_000, accuracy: 1)
        XCTAssertEqual(video.plis, 1)
        XCTAssertEqual(video.nacks, 5)
        XCTAssertEqual(report.received.count, 6)
        XCTAssertEqual(report.received.map(\.bot), ["1003", "1003", "1004", "1004", "1005", "1005"])
        XCTAssertEqual(report.received.map { $0.figures.peer ?? "" }, ["1001", "1002", "1001", "1002", "1001", "1002"])
        let lossy = try XCTUnwrap(report.received.first { $0.bot == "1004" && $0.figures.kind == "video" })
        XCTAssertEqual(lossy.figures.packetsLost, 45)
        XCTAssertEqual(try XCTUnwrap(lossy.figures.loss), 0.1, accuracy: 1e-9)
        XCTAssertEqual(lossy.label, "bot 1004 receive video from 1001")
        XCTAssertEqual(report.published[0].label, "bot 1001 send video (track 7bb5605f)")
    }

    func testTrackLinesAloneGiveTheSameTotals() throws {
        var fixture = StatsFixture()
        fixture.loss = ["1004": 0.1]
        fixture.freezes = ["1005": 2]
        let withSummaries = fixture.report
        fixture.withSummaries = false
        let withoutSummaries = fixture.report
        XCTAssertFalse(withoutSummaries.published.contains(where: \.fromSummary))
        XCTAssertEqual(withSummaries.published.map(\.figures), withoutSummaries.published.map(\.figures))
        XCTAssertEqual(withSummaries.received.map(\.figures), withoutSummaries.received.map(\.figures))
        XCTAssertEqual(withoutSummaries.join.joined, 5, "bots with track lines were in the room")
        XCTAssertEqual(withoutSummaries.join.planned, 5)
    }

    func testSubscribersAddUpTheirTracks() throws {
        var fixture = StatsFixture()
        fixture.freezes = ["1005": 2]
        fixture.delayP95 = ["1004": 500]
        let report = fixture.report
        XCTAssertEqual(report.subscribers.map(\.bot), ["1003", "1004", "1005"])
        let s1003 = report.subscribers[0]
        XCTAssertEqual(s1003.tracks.count, 2)
        XCTAssertEqual(s1003.bitrate, 832_000, accuracy: 1)
        XCTAssertEqual(s1003.packets, 700)
        XCTAssertEqual(s1003.loss, 0)
        XCTAssertEqual(s1003.delayMsP50, 40)
        XCTAssertEqual(s1003.delayMsP95, 80)
        XCTAssertEqual(report.subscribers[1].delayMsP95, 500)
        XCTAssertEqual(report.subscribers[2].freezes, 2)
        XCTAssertEqual(report.subscribers[2].freezeMs, 800)
        XCTAssertEqual(report.subscribers[2].only(kind: "audio").freezes, 0)
    }

    func testJoinsCountBotsThatNeverJoinedAndBotsNeverSeen() {
        var records = StatsFixture().records
        records.insert(.summary(SummaryLine(run: "run-a", bot: "1006", role: "subscriber", joined: false, joinAttempts: 4,
                                            error: "edge join: server refused: room is full")), at: records.count - 1)
        // The end line plans 7 bots: one of them left no line at all.
        records[records.count - 1] = .end(EndLine(run: "run-a", bots: 7, joined: 5))
        let report = FleetFigures(records: records)
        XCTAssertEqual(report.join.planned, 7)
        XCTAssertEqual(report.join.joined, 5)
        XCTAssertEqual(report.join.notJoined.map(\.bot), ["1006"])
        XCTAssertEqual(report.join.joinMsP50, 120)
        XCTAssertFalse(report.subscribers.contains { $0.bot == "1006" }, "a bot that never joined has no subscriber figures")
    }

    func testRunsFromSeveralMachinesAreLaidOnOneTimeline() throws {
        var a = StatsFixture()
        var b = StatsFixture()
        a.run = "run-a"
        b.run = "run-b"
        b.subscribers = ["2003"]
        b.start = a.start.addingTimeInterval(10)
        let report = FleetFigures(records: a.records + b.records)
        XCTAssertEqual(report.runs.map(\.run), ["run-a", "run-b"])
        XCTAssertEqual(report.subscribers.map(\.bot), ["1003", "1004", "1005", "2003"])
        XCTAssertEqual(report.join.planned, 8)
        let late = try XCTUnwrap(report.series.first { $0.bot == "2003" })
        XCTAssertEqual(late.points.first?.t ?? -1, 10, accuracy: 0.01, "second 0 is the earliest interval of any run")
        XCTAssertEqual(report.warnings.count, 2, "1001 and 1002 are in both runs: \(report.warnings)")
        XCTAssertTrue(report.warnings[0].hasPrefix("bot 1001 appears in 2 runs (run-a, run-b)"), report.warnings[0])
    }

    func testSeriesFollowTheTracksSecondBySecond() throws {
        var fixture = StatsFixture()
        fixture.loss = ["1003": 0.2]
        let report = fixture.report
        XCTAssertEqual(report.series.count, 8)
        let lossy = try XCTUnwrap(report.series.first { $0.bot == "1003" && $0.kind == "video" })
        XCTAssertEqual(lossy.points.map(\.t), [0, 1, 2, 3, 4])
        XCTAssertEqual(lossy.points[0].loss ?? 0, 0.2, accuracy: 1e-9)
        XCTAssertEqual(lossy.label, "1003 ← 1001 video")
    }

    func testLossIsLostOverExpectedAndNilWithoutPackets() {
        XCTAssertEqual(TrackAggregation.lossRatio(direction: .receive, lost: 1, packets: 99), 0.01)
        XCTAssertEqual(TrackAggregation.lossRatio(direction: .send, lost: 1, packets: 100), 0.01)
        XCTAssertNil(TrackAggregation.lossRatio(direction: .receive, lost: 0, packets: 0))
        XCTAssertEqual(TrackAggregation.lossRatio(direction: .receive, lost: 5, packets: 0), 1)
    }

    func testWeightedPercentiles() {
        XCTAssertNil(Percentile.weighted([], 0.5))
        XCTAssertEqual(Percentile.of([10, 20, 30, 40], 0.5), 20)
        XCTAssertEqual(Percentile.of([10, 20, 30, 40], 0.95), 40)
        XCTAssertEqual(Percentile.weighted([(10, 1), (100, 9)], 0.5), 100)
        XCTAssertEqual(Percentile.weighted([(10, 19), (100, 1)], 0.95), 10)
    }

    func testBitrateIsTheTimeWeightedMean() throws {
        let samples = [
            TrackFigures(direction: .send, kind: "video", track: "t", intervalS: 1, bitrate: 1_000_000),
            TrackFigures(direction: .send, kind: "video", track: "t", intervalS: 3, bitrate: 200_000),
            TrackFigures(direction: .send, kind: "video", track: "t", intervalS: 1, bytes: 12_500),
        ]
        let total = try XCTUnwrap(TrackAggregation.totals(of: samples))
        XCTAssertEqual(try XCTUnwrap(total.bitrate), (1_000_000 + 600_000 + 100_000) / 5, accuracy: 1e-6)
        XCTAssertEqual(total.intervalS, 5)
    }
}
