import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import LoadReport

final class ReportRenderingTests: XCTestCase {
    private var troubledRoom: StatsFixture {
        var fixture = StatsFixture()
        fixture.loss = ["1004": 0.034]
        fixture.freezes = ["1005": 2]
        return fixture
    }

    private var troubled: FleetFigures { troubledRoom.report }

    func testTextTablesAreAlignedWithTotals() {
        let text = ReportText.render(troubled)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], "Load report, room 42")
        XCTAssertEqual(lines[1], "1 run on 1 host")
        XCTAssertEqual(lines[2], "bots: 5 of 5 joined, join time p50 120 ms, p95 120 ms")
        XCTAssertEqual(Array(lines[4...8]), [
            "Published tracks",
            "BOT    KIND   CODEC       TRACK     DURATION  PACKETS   BITRATE  LOSS  NACKS  PLIS",
            "1001   video  video/VP8   7bb5605f     5.0 s      450  800 kbps   0 %      5     1",
            "1002   audio  audio/opus  a0d10000     5.0 s      250   32 kbps   0 %      0     0",
            "total                     2 tracks                700  832 kbps   0 %      5     1",
        ])
        XCTAssertEqual(Array(lines[10...15]), [
            "Subscribers",
            "BOT    TRACKS  PACKETS  BITRATE IN   LOSS  FREEZES  DELAY P50  DELAY P95",
            "1003        2      700    832 kbps    0 %        0      40 ms      80 ms",
            "1004        2      675    804 kbps  3.6 %        0      40 ms      80 ms",
            "1005        2      700    832 kbps    0 %        2      40 ms      80 ms",
            "total       6     2075   2.47 Mbps  1.2 %        2      40 ms      80 ms",
        ])
        XCTAssertFalse(lines.contains { $0.hasSuffix(" ") }, "no trailing spaces")
    }

    func testBotsThatDidNotJoinAreListed() {
        var records = StatsFixture().records
        records.insert(.summary(SummaryLine(run: "run-a", bot: "1006", role: "subscriber", joined: false, joinAttempts: 4,
                                            error: "edge join: server refused: room is full")), at: records.count - 1)
        let text = ReportText.render(FleetFigures(records: records))
        XCTAssertTrue(text.contains("bots: 5 of 6 joined"), text)
        XCTAssertTrue(text.hasSuffix("""
            Not joined
            BOT   ROLE        ATTEMPTS  ERROR
            1006  subscriber         4  edge join: server refused: room is full

            """), text)
    }

    func testJSONSummaryHasEveryTableAndTheExpectations() throws {
        let report = troubled
        let outcomes = Expectations.evaluate(try Expectations.parse(["loss<2%", "joined=all"]), against: report)
        let problems = [StatsProblem(source: "a.jsonl", line: 3, message: "not valid JSON")]
        let text = ReportJSON.render(report, outcomes: outcomes, problems: problems)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(object["rooms"] as? [String], ["42"])
        XCTAssertEqual(object["passed"] as? Bool, false)
        XCTAssertEqual(object["problems"] as? [String], ["a.jsonl:3: not valid JSON"])
        let bots = try XCTUnwrap(object["bots"] as? [String: Any])
        XCTAssertEqual(bots["planned"] as? Int, 5)
        XCTAssertEqual(bots["joined"] as? Int, 5)
        let published = try XCTUnwrap(object["published"] as? [[String: Any]])
        XCTAssertEqual(published.map { $0["bot"] as? String }, ["1001", "1002"])
        XCTAssertEqual(published.first?["codec"] as? String, "video/VP8")
        XCTAssertEqual(published.first?["from"] as? String, "summary")
        XCTAssertTrue(published.first?["delay_ms_p95"] is NSNull, "not measured is null, not missing")
        let received = try XCTUnwrap(object["received"] as? [[String: Any]])
        XCTAssertEqual(received.count, 6)
        let subscribers = try XCTUnwrap(object["subscribers"] as? [[String: Any]])
        XCTAssertEqual(subscribers.map { $0["bot"] as? String }, ["1003", "1004", "1005"])
        XCTAssertEqual(subscribers[2]["freezes"] as? Int, 2)
        let totals = try XCTUnwrap(object["totals"] as? [String: [String: Any]])
        XCTAssertEqual(totals["published"]?["tracks"] as? Int, 2)
        XCTAssertEqual(totals["subscribers"]?["subscribers"] as? Int, 3)
        let expectations = try XCTUnwrap(object["expectations"] as? [[String: Any]])
        XCTAssertEqual(expectations.map { $0["expect"] as? String }, ["loss<2%", "joined=all"])
        XCTAssertEqual(expectations.map { $0["met"] as? Bool }, [false, true])
        XCTAssertEqual(expectations[0]["missed"] as? [String], ["1004"])
        XCTAssertEqual((expectations[0]["misses"] as? [String])?.count, 2)
    }

    func testHTMLIsWellFormedSelfContainedAndHasAChartPerFigure() throws {
        var records = troubledRoom.records
        // Text from the statistics must not break the markup.
        records.append(.summary(SummaryLine(run: "run-a", bot: "1006", role: "subscriber", joined: false,
                                            error: "edge join: <refused> & \"closed\" 'now'")))
        let report = FleetFigures(records: records)
        let outcomes = Expectations.evaluate(try Expectations.parse(["loss<2%", "freezes=0"]), against: report)
        let html = ReportHTML.render(report, outcomes: outcomes, problems: [StatsProblem(source: "x<y>.jsonl", line: 1, message: "not valid JSON")])

        let document = try XHTMLDocument(html)
        let charts = ReportCharts.all(report).flatMap(\.charts)
        XCTAssertEqual(charts.count, 12)
        XCTAssertEqual(document.count("svg"), charts.count, "one <svg> per chart")
        XCTAssertEqual(document.count("figure"), charts.count)
        XCTAssertEqual(document.count("table"), 3, "published, subscribers, not joined")
        XCTAssertEqual(document.count("script"), 0)
        XCTAssertEqual(document.count("link"), 0)
        XCTAssertEqual(document.count("img"), 0)
        for reference in ["http:", "https:", "src=", "url(", "@import", "<script"] {
            XCTAssertFalse(html.contains(reference), "the page refers to something outside it: \(reference)")
        }
        XCTAssertTrue(document.text.contains("edge join: <refused> & \"closed\" 'now'"), "escaped and read back")
        XCTAssertTrue(document.text.contains("expectation loss<2% missed: bot 1004 receive video from 1001: loss 3.3 %"))
        XCTAssertTrue(document.text.contains("1004 ← 1001 video"), "legends name the tracks")
        XCTAssertGreaterThan(document.count("polyline"), 10)
    }

    func testManyLinesBecomeTheirSpread() throws {
        var fixture = StatsFixture()
        fixture.subscribers = (1003...1030).map(String.init)
        let report = fixture.report
        let html = ReportHTML.render(report)
        let document = try XHTMLDocument(html)
        XCTAssertTrue(document.text.contains("spread over 28 lines, per second"), "per-subscriber charts")
        XCTAssertTrue(document.text.contains("spread over 56 lines, per second"), "per-track loss")
        XCTAssertTrue(document.text.contains("spread over 28 lines, per second"), "per-track video bitrate")
        XCTAssertFalse(document.text.contains("1030 ← 1001 video"), "no legend entry per line past the limit")
        XCTAssertLessThan(html.utf8.count, 200_000)
    }

    func testEmptyChartsSayNoData() throws {
        let html = ReportHTML.render(FleetFigures(records: [.run(RunLine(run: "r", room: "9"))]))
        let document = try XHTMLDocument(html)
        XCTAssertEqual(document.count("svg"), 12)
        XCTAssertTrue(document.text.contains("no data"))
    }

    func testScalesHaveRoundTicks() {
        let loss = ChartScale(upTo: 0.55)
        XCTAssertEqual(loss.ticks.map(loss.label), ["0.0", "0.2", "0.4", "0.6"])
        let bitrate = ChartScale(upTo: 832)
        XCTAssertEqual(bitrate.ticks.map(bitrate.label), ["0", "200", "400", "600", "800", "1000"])
        let freezes = ChartScale(upTo: 1, whole: true)
        XCTAssertEqual(freezes.ticks.map(freezes.label), ["0", "1"])
        XCTAssertEqual(ChartScale(upTo: 0).ticks.last, 1)
    }

    func testFiguresReadWithTheirUnits() {
        XCTAssertEqual(FigureFormat.percent(0.034), "3.4 %")
        XCTAssertEqual(FigureFormat.percent(0.0025), "0.25 %")
        XCTAssertEqual(FigureFormat.percent(0), "0 %")
        XCTAssertEqual(FigureFormat.percent(nil), "-")
        XCTAssertEqual(FigureFormat.bitrate(950), "950 bps")
        XCTAssertEqual(FigureFormat.bitrate(812_345), "812 kbps")
        XCTAssertEqual(FigureFormat.bitrate(1_250_000), "1.25 Mbps")
        XCTAssertEqual(FigureFormat.milliseconds(4.54), "4.5 ms")
        XCTAssertEqual(FigureFormat.milliseconds(512.4), "512 ms")
        XCTAssertEqual(FigureFormat.seconds(5), "5.0 s")
    }
}

/// The page read back with Foundation's XML parser: it must be well-formed XML.
private final class XHTMLDocument: NSObject, XMLParserDelegate {
    private var elements: [String: Int] = [:]
    private(set) var text = ""
    private var error: (any Error)?

    init(_ html: String) throws {
        super.init()
        let parser = XMLParser(data: Data(html.utf8))
        parser.delegate = self
        guard parser.parse() else {
            let where_ = "line \(parser.lineNumber), column \(parser.columnNumber)"
            let lines = html.split(separator: "\n", omittingEmptySubsequences: false)
            let context = parser.lineNumber > 0 && parser.lineNumber <= lines.count ? String(lines[parser.lineNumber - 1].prefix(300)) : ""
            throw NSError(domain: "XHTML", code: 1, userInfo: [
                NSLocalizedDescriptionKey: "not well-formed at \(where_): \(String(describing: parser.parserError ?? error)): \(context)",
            ])
        }
    }

    func count(_ element: String) -> Int { elements[element] ?? 0 }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements[elementName, default: 0] += 1
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        text += string
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        error = parseError
    }
}
