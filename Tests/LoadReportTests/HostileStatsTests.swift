import Foundation
import XCTest
@testable import LoadReport

/// `nacho report` reads files from anywhere: no figure in them may trap it. Each test is one
/// hostile line (issue 14) read and rendered as text, JSON and HTML; an absurd figure is a
/// warning naming FILE:LINE and the report still comes out.
final class HostileStatsTests: XCTestCase {
    private struct Rendered {
        var input: StatsInput
        var report: FleetFigures
        var text: String
        var json: [String: Any]
        var html: String
        var warnings: [String] { input.problems.map(\.description) }
    }

    private func render(_ lines: String, file: StaticString = #filePath, line: UInt = #line) throws -> Rendered {
        let input = StatsReader.parse(Data(lines.utf8), source: "hostile.jsonl")
        return try render(input, file: file, line: line)
    }

    private func render(_ input: StatsInput, file: StaticString = #filePath, line: UInt = #line) throws -> Rendered {
        let report = FleetFigures(records: input.records)
        let outcomes = Expectations.evaluate(try Expectations.parse(["joined=all", "loss<2%", "packets>0", "delay_p95<400ms", "freezes=0"]),
                                             against: report)
        let text = ReportText.render(report)
        let json = ReportJSON.render(report, outcomes: outcomes, problems: input.problems)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], json, file: file, line: line)
        XCTAssertNotNil(object["totals"], "the whole report, not the empty fallback: \(json)", file: file, line: line)
        let html = ReportHTML.render(report, outcomes: outcomes, problems: input.problems)
        XCTAssertEqual(html.components(separatedBy: "<svg").count, html.components(separatedBy: "</svg>").count, file: file, line: line)
        XCTAssertTrue(html.hasSuffix("</html>\n"), file: file, line: line)
        return Rendered(input: input, report: report, text: text, json: object, html: html)
    }

    /// `packets + max(lost, 0)` overflowed in the loss ratio.
    func testPacketCountAtIntMaxWithALostPacket() throws {
        let r = try render(#"{"type":"track","run":"r","bot":"1003","direction":"receive","kind":"video","track":"c1","peer":"1001","packets":9223372036854775807,"packets_lost":1}"#)
        XCTAssertEqual(r.warnings, [#"hostile.jsonl:1: field "packets": 9223372036854775807 is out of range, read as 1000000000000000"#])
        XCTAssertEqual(r.report.received.first?.figures.packets, 1_000_000_000_000_000)
        XCTAssertTrue(r.text.contains("1000000000000000"), r.text)
    }

    /// Counters of many lines (each within range) added with `+` past Int.max.
    func testCountersOfManyLinesSumWithoutOverflow() throws {
        let line = #"{"type":"track","run":"r","bot":"1003","direction":"receive","kind":"video","track":"c1","packets":1000000000000000,"bytes":1000000000000000,"packets_lost":1000000000000000,"nacks":1000000000000000,"frames":1000000000000000,"freezes":1000000000000000}"#
        var input = StatsInput()
        for _ in 0..<10_000 { input.append(StatsReader.parse(Data(line.utf8), source: "hostile.jsonl")) }
        XCTAssertEqual(input.problems, [])
        let r = try render(input)
        XCTAssertEqual(r.report.received.first?.figures.packets, Int.max, "saturated, not wrapped")
    }

    /// Records built in the process are not bounded by the reader: the aggregation itself
    /// must not trap on them either (Int.max counters, a time no Int holds, summed planned bots).
    func testRecordsWithAbsurdFiguresBuiltInProcessStillRender() throws {
        let figures = TrackFigures(direction: .receive, kind: "video", track: "c1", peer: "1001", elapsedS: 1e300, packets: .max,
                                   packetsLost: .max, freezes: .max, delayMsP95: .leastNonzeroMagnitude)
        var records: [StatsRecord] = []
        for bot in 0..<13 {
            records.append(.track(TrackLine(run: "r", bot: "\(bot)", role: "subscriber", figures: figures)))
            records.append(.summary(SummaryLine(run: "r", bot: "\(bot)", role: "subscriber", joined: false, reconnections: .max)))
        }
        records.append(.run(RunLine(run: "r", plan: RunPlan(videoPublishers: .max, audioPublishers: .max, subscribers: .max))))
        records.append(.end(EndLine(run: "r2", bots: .max, joined: .min)))
        records.append(.end(EndLine(run: "r3", bots: .max, joined: .max)))
        let r = try render(StatsInput(records: records))
        XCTAssertEqual(r.report.join.planned, .max)
        XCTAssertEqual(r.report.join.reconnections, .max)
    }

    /// `Int(point.t.rounded(.down))` on a time of 1e300 seconds, in the subscribers' charts.
    func testElapsedSecondsOf1e300() throws {
        let r = try render(#"{"type":"track","run":"r","bot":"1003","direction":"receive","kind":"video","track":"c1","peer":"1001","elapsed_s":1e300,"packets":5}"#)
        XCTAssertEqual(r.warnings, [#"hostile.jsonl:1: field "elapsed_s": 1e+300 is out of range, read as 1000000000.0"#])
        XCTAssertTrue(r.html.contains("Bitrate received, per subscriber"))
    }

    /// The same past 12 series, where a chart draws the spread per second.
    func testElapsedSecondsOf1e300InThirteenSeries() throws {
        let lines = (1...13).map { #"{"type":"track","run":"r","bot":"\#($0)","direction":"receive","kind":"video","track":"c\#($0)","peer":"1001","elapsed_s":1e300,"packets":5}"# }
        let r = try render(lines.joined(separator: "\n"))
        XCTAssertEqual(r.warnings.count, 13)
        XCTAssertEqual(r.warnings.last, #"hostile.jsonl:13: field "elapsed_s": 1e+300 is out of range, read as 1000000000.0"#)
        XCTAssertTrue(r.html.contains("spread over 13 lines"), "the spread was drawn")
    }

    /// A chart whose largest value is a denormal: its scale took log10(0).
    func testDelayOfTheSmallestDenormal() throws {
        let r = try render(#"{"type":"track","run":"r","time":"2025-06-15T12:00:01.000Z","bot":"1003","direction":"receive","kind":"video","track":"c1","peer":"1001","packets":5,"delay_ms_p95":5e-324}"#)
        XCTAssertEqual(r.warnings, [], "a tiny delay is not absurd, only hard to draw")
        XCTAssertTrue(r.html.contains("Delay p95, per received track"))
    }

    /// Planned and joined bots summed over runs, and `planned - joined` in the `joined` miss.
    func testBotCountsAtTheLimitsOfInt() throws {
        let r = try render("""
            {"type":"run","run":"r1","plan":{"video_publishers":9223372036854775807,"audio_publishers":9223372036854775807,"subscribers":1}}
            {"type":"end","run":"r2","bots":9223372036854775807,"joined":-9223372036854775808}
            {"type":"summary","run":"r2","bot":"1","joined":false,"join_attempts":-1,"reconnections":9223372036854775807}
            {"type":"summary","run":"r2","bot":"2","joined":false,"reconnections":9223372036854775807}
            """)
        XCTAssertEqual(r.warnings, [
            #"hostile.jsonl:1: field "plan.video_publishers": 9223372036854775807 is out of range, read as 1000000000000000"#,
            #"hostile.jsonl:1: field "plan.audio_publishers": 9223372036854775807 is out of range, read as 1000000000000000"#,
            #"hostile.jsonl:2: field "bots": 9223372036854775807 is out of range, read as 1000000000000000"#,
            #"hostile.jsonl:2: field "joined": -9223372036854775808 is out of range, read as 0"#,
            #"hostile.jsonl:3: field "join_attempts": -1 is out of range, read as 0"#,
            #"hostile.jsonl:3: field "reconnections": 9223372036854775807 is out of range, read as 1000000000000000"#,
            #"hostile.jsonl:4: field "reconnections": 9223372036854775807 is out of range, read as 1000000000000000"#,
        ])
        XCTAssertEqual(r.report.join.planned, 3_000_000_000_000_001)
    }

    /// Measurements out of their range in a summary's tracks are named by their path.
    func testSummaryTrackFiguresAreClampedAndNamed() throws {
        let r = try render(#"{"type":"summary","run":"r","bot":"1","role":"audio_publisher","joined":true,"tracks":[{"direction":"send","kind":"audio","track":"p","packets":-5,"loss":7,"bitrate":1e308}]}"#)
        XCTAssertEqual(r.warnings, [
            #"hostile.jsonl:1: field "tracks[0].packets": -5 is out of range, read as 0"#,
            #"hostile.jsonl:1: field "tracks[0].bitrate": 1e+308 is out of range, read as 1000000000000000.0"#,
            #"hostile.jsonl:1: field "tracks[0].loss": 7.0 is out of range, read as 1.0"#,
        ])
        XCTAssertEqual(r.report.published.first?.figures.loss, 1)
    }

    /// Non-finite sums come out as null, not as a JSON report of `{}`.
    func testNonFiniteTotalsAreNullInJSON() throws {
        let figures = TrackFigures(direction: .send, kind: "video", track: "p", bitrate: .greatestFiniteMagnitude)
        let records: [StatsRecord] = [
            .summary(SummaryLine(run: "r", bot: "1", joined: true, tracks: [figures])),
            .summary(SummaryLine(run: "r", bot: "2", joined: true, tracks: [figures])),
        ]
        let r = try render(StatsInput(records: records))
        let totals = try XCTUnwrap(r.json["totals"] as? [String: [String: Any]])
        XCTAssertTrue(totals["published"]?["bitrate"] is NSNull, "\(totals)")
    }

    /// A file naming a run per bot (20,000 of each, under 2 MB) took a search of every bot per
    /// run, and of every published track per subscriber for tracks=all: minutes, not seconds.
    func testTwentyThousandRunsAreReportedInLinearTime() throws {
        let records: [StatsRecord] = (0..<20_000).map { n in
            n.isMultiple(of: 2)
                ? .summary(SummaryLine(run: "r\(n)", bot: "\(n)", role: "subscriber", joined: true))
                : .track(TrackLine(run: "r\(n)", bot: "\(n)", role: "video_publisher",
                                   figures: TrackFigures(direction: .send, kind: "video", track: "p\(n)", packets: 1)))
        }
        let started = Date()
        let report = FleetFigures(records: records)
        let outcomes = Expectations.evaluate(try Expectations.parse(["tracks=all", "joined=all"]), against: report)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(report.runs.count, 20_000)
        XCTAssertEqual(report.bots.filter { $0.role == "video_publisher" }.count, 10_000)
        XCTAssertEqual(outcomes.first?.checked, 10_000)
        XCTAssertLessThan(seconds, 10, "a generous bound for a debug build on a busy machine; quadratic took minutes")
    }

    /// XML 1.0 has no U+FFFF, and "\r\n" (one Character) must not hide a control character.
    func testHTMLTextKeepsToXMLCharacters() {
        XCTAssertEqual(HTMLText.escape("a\u{FFFF}b\u{1}\u{301}c\r\n<"), "a b \u{301}c\r\n&lt;")
    }
}
