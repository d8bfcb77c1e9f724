import XCTest
@testable import LoadReport

final class ExpectationEvaluationTests: XCTestCase {
    /// A room where 1004 loses 3.4 % of both tracks, 1005 freezes twice, 1003's delay is high.
    private var troubled: FleetFigures {
        var fixture = StatsFixture()
        fixture.loss = ["1004": 0.034]
        fixture.freezes = ["1005": 2]
        fixture.delayP95 = ["1003": 512]
        return fixture.report
    }

    private func misses(_ expression: String, _ report: FleetFigures) throws -> [String] {
        try Expectation(parsing: expression).evaluate(report).misses.map(\.line)
    }

    /// Each expectation at its level, against the troubled room: the exact miss lines.
    func testMissLinesNameTheBotTheTrackAndTheFigure() throws {
        let table: [(String, [String])] = [
            ("joined=all", []),
            ("joined>=5", []),
            ("joined>=100%", []),
            ("joined>6", ["expectation joined>6 missed: 5 of 5 bots joined"]),
            ("loss<5%", []),
            ("loss<2%", [
                "expectation loss<2% missed: bot 1004 receive video from 1001: loss 3.3 %",
                "expectation loss<2% missed: bot 1004 receive audio from 1002: loss 4.0 %",
            ]),
            ("video.loss<2%", ["expectation video.loss<2% missed: bot 1004 receive video from 1001: loss 3.3 %"]),
            ("bitrate>=250k", [
                "expectation bitrate>=250k missed: bot 1002 send audio (track a0d10000): bitrate 32 kbps",
                "expectation bitrate>=250k missed: bot 1003 receive audio from 1002: bitrate 32 kbps",
                "expectation bitrate>=250k missed: bot 1004 receive audio from 1002: bitrate 31 kbps",
                "expectation bitrate>=250k missed: bot 1005 receive audio from 1002: bitrate 32 kbps",
            ]),
            ("video.bitrate>=250k", []),
            ("video.bitrate>=790k", ["expectation video.bitrate>=790k missed: bot 1004 receive video from 1001: bitrate 773 kbps"]),
            ("audio.bitrate>=24k", []),
            ("packets>0", []),
            ("jitter<30ms", []),
            ("jitter<3ms", [
                "expectation jitter<3ms missed: bot 1003 receive video from 1001: jitter 4.0 ms",
                "expectation jitter<3ms missed: bot 1003 receive audio from 1002: jitter 4.0 ms",
                "expectation jitter<3ms missed: bot 1004 receive video from 1001: jitter 4.0 ms",
                "expectation jitter<3ms missed: bot 1004 receive audio from 1002: jitter 4.0 ms",
                "expectation jitter<3ms missed: bot 1005 receive video from 1001: jitter 4.0 ms",
                "expectation jitter<3ms missed: bot 1005 receive audio from 1002: jitter 4.0 ms",
            ]),
            ("freezes=0", ["expectation freezes=0 missed: bot 1005: freezes 2 (0.8 s frozen)"]),
            ("freezes<=2", []),
            ("audio.freezes=0", []),
            ("delay_p95<400ms", ["expectation delay_p95<400ms missed: bot 1003: delay_p95 512 ms"]),
            ("delay_p95<1s", []),
            ("delay_p50<30ms", [
                "expectation delay_p50<30ms missed: bot 1003: delay_p50 40 ms",
                "expectation delay_p50<30ms missed: bot 1004: delay_p50 40 ms",
                "expectation delay_p50<30ms missed: bot 1005: delay_p50 40 ms",
            ]),
            ("tracks=all", []),
            ("tracks>=3", [
                "expectation tracks>=3 missed: bot 1003: tracks 2",
                "expectation tracks>=3 missed: bot 1004: tracks 2",
                "expectation tracks>=3 missed: bot 1005: tracks 2",
            ]),
            ("video.tracks=all", []),
        ]
        let report = troubled
        for (expression, expected) in table {
            XCTAssertEqual(try misses(expression, report), expected, expression)
        }
    }

    func testOutcomesCountWhatTheyCheckedAndNameTheBots() throws {
        let report = troubled
        let met = try Expectation(parsing: "loss<5%").evaluate(report)
        XCTAssertTrue(met.met)
        XCTAssertEqual(met.checked, 8)
        XCTAssertEqual(met.lines, ["expectation loss<5% met: 8 tracks"])
        let missed = try Expectation(parsing: "loss<2%").evaluate(report)
        XCTAssertFalse(missed.met)
        XCTAssertEqual(missed.missedBots, ["1004"])
        XCTAssertEqual(missed.record, ExpectationRecord(expect: "loss<2%", met: false, missed: ["1004"], misses: missed.misses.map(\.line)))
        XCTAssertEqual(try Expectation(parsing: "freezes=0").evaluate(report).lines.count, 1)
        XCTAssertEqual(try Expectation(parsing: "freezes<9").evaluate(report).lines, ["expectation freezes<9 met: 3 subscribers"])
        XCTAssertEqual(try Expectation(parsing: "joined=all").evaluate(report).lines, ["expectation joined=all met: all runs"])
    }

    func testJoinedMissListsTheBotsThatDidNotJoin() throws {
        var records = StatsFixture().records
        records.insert(.summary(SummaryLine(run: "run-a", bot: "1006", role: "subscriber", joined: false, joinAttempts: 4,
                                            error: "edge join: server refused: room is full")), at: records.count - 1)
        records[records.count - 1] = .end(EndLine(run: "run-a", bots: 8, joined: 5))
        let report = FleetFigures(records: records)
        let expectations = ["joined=all", "joined>=6", "joined>=70%", "joined>=62.5%", "joined>=60%"]
        let results = try expectations.map { try Expectation(parsing: $0).evaluate(report) }
        XCTAssertEqual(results.map(\.met), [false, false, false, true, true])
        XCTAssertEqual(results[0].misses.map(\.line), [
            "expectation joined=all missed: 5 of 8 bots joined; not joined: bot 1006 (edge join: server refused: room is full); "
                + "2 without any statistics line (never started, or killed)",
        ])
        XCTAssertEqual(results[0].missedBots, ["1006"])
    }

    func testUnmeasuredFiguresAndEmptyReportsAreMisses() throws {
        var fixture = StatsFixture()
        fixture.subscribers = ["1003"]
        var records = fixture.records
        // 1003's delay was not measured (no shared clock): nulls in every line and its summary.
        records = records.map { record in
            switch record {
            case .track(var line) where line.bot == "1003":
                line.figures.delayMsP50 = nil
                line.figures.delayMsP95 = nil
                return .track(line)
            case .summary(var line) where line.bot == "1003":
                line.tracks = line.tracks.map { var t = $0; t.delayMsP50 = nil; t.delayMsP95 = nil; return t }
                return .summary(line)
            default: return record
            }
        }
        let report = FleetFigures(records: records)
        XCTAssertEqual(try misses("delay_p95<400ms", report), ["expectation delay_p95<400ms missed: bot 1003: delay_p95 not measured"])

        let empty = FleetFigures(records: [])
        XCTAssertEqual(try misses("joined=all", empty), ["expectation joined=all missed: no bots in the statistics"])
        XCTAssertEqual(try misses("loss<2%", empty), ["expectation loss<2% missed: no tracks in the statistics"])
        XCTAssertEqual(try misses("video.loss<2%", empty), ["expectation video.loss<2% missed: no video tracks in the statistics"])
        XCTAssertEqual(try misses("freezes=0", empty), ["expectation freezes=0 missed: no subscribers in the statistics"])
    }

    /// A subscriber that lost its transport and consumed 1001's video again (a second track
    /// id from the same publisher) but never got 1002's audio back: "tracks 2 of 2" before the
    /// fix, which counted track ids; a subscriber with every track twice still holds.
    func testTracksAllCountsEachPublishedTrackOnce() throws {
        var fixture = StatsFixture()
        fixture.subscribers = ["1003", "1004"]
        let records = fixture.records.compactMap { record -> StatsRecord? in
            if case .track(let line) = record, line.bot == "1003", line.figures.kind == "audio" { return nil }
            guard case .summary(var line) = record else { return record }
            let again = line.tracks.map { var t = $0; t.track += "-again"; return t }
            if line.bot == "1003" {
                line.tracks = line.tracks.filter { $0.kind == "video" } + again.filter { $0.kind == "video" }
            } else if line.bot == "1004" {
                line.tracks += again
            }
            return .summary(line)
        }
        let report = FleetFigures(records: records)
        XCTAssertEqual(try misses("tracks=all", report), ["expectation tracks=all missed: bot 1003: tracks 1 of 2"])
        XCTAssertEqual(try misses("video.tracks=all", report), [])
    }

    /// Subscribers of producers no bot of the run published (a load source's virtual members):
    /// `tracks=all` had nothing to count and passed; it is a miss that says why, and a count holds.
    func testTracksAllWithoutPublishersInTheRunIsAMiss() throws {
        let publishers: Set<String> = ["1001", "1002"]
        let records = StatsFixture().records.filter { record in
            switch record {
            case .track(let line): return !publishers.contains(line.bot)
            case .summary(let line): return !publishers.contains(line.bot)
            default: return true
            }
        }
        let report = FleetFigures(records: records)
        let why = "track of its room was published by a bot of this run (tracks=all counts the run's own publishers; "
            + "tracks>=N counts tracks from elsewhere)"
        XCTAssertEqual(try misses("tracks=all", report), ["1003", "1004", "1005"].map { "expectation tracks=all missed: bot \($0): no \(why)" })
        XCTAssertEqual(try misses("tracks>=2", report), [])
        XCTAssertEqual(try misses("tracks>=3", report).count, 3)
    }

    func testATrackWithoutPacketsHasNoLossButFailsPackets() throws {
        var fixture = StatsFixture()
        fixture.subscribers = ["1003"]
        let records = fixture.records.map { record -> StatsRecord in
            guard case .summary(var line) = record, line.bot == "1003" else { return record }
            line.tracks = line.tracks.map { var t = $0; if t.kind == "audio" { t.packets = 0; t.packetsLost = 0; t.loss = nil }; return t }
            return .summary(line)
        }
        let report = FleetFigures(records: records)
        XCTAssertEqual(try misses("packets>0", report), ["expectation packets>0 missed: bot 1003 receive audio from 1002: packets 0"])
        XCTAssertEqual(try misses("loss<2%", report), ["expectation loss<2% missed: bot 1003 receive audio from 1002: loss not measured"])
    }
}
