import Foundation
import LoadReport

/// Bytes as a statistics file (docs/STATS.md) through what `nacho report` does with it:
/// `StatsReader.parse`, `FleetFigures`, the expectations, and the text, JSON and HTML reports.
/// The file can come from anywhere (a fleet's merged logs, a hand-edited or hostile file).
///
/// Input: the file's bytes.
/// Invariants: no trap; every record the reader keeps writes back (`jsonLine`) as a line that
/// reads as the same record without a problem; the JSON report is one JSON object with its
/// sections (not the empty fallback of a failed encoding); the HTML page closes every `<svg`
/// and holds only characters XML allows; the text report ends its last line.
///
/// Not a pure parser: every input is read, aggregated and rendered three times over (JSON
/// encoding and decoding, a dozen SVG charts), so it runs about a hundred inputs a second under
/// the sanitizers (Scripts/fuzz 60 stats: 6,400 to 7,000 executions on a busy 2-core machine),
/// far from the 10^6 of the pure parsers.
public enum StatsReportHarness {
    /// One of each level and kind of figure, so every evaluation runs.
    static let expectations: [Expectation] = [
        "joined=all", "joined>=95%", "loss<2%", "video.bitrate>=250k", "packets>0", "jitter<30ms",
        "freezes=0", "delay_p95<400ms", "audio.delay_p50<=1s", "tracks=all", "tracks>=1",
    ].compactMap { try? Expectation(parsing: $0) }

    public static func run(_ data: [UInt8]) {
        let input = StatsReader.parse(Data(data), source: "fuzz.jsonl")
        for record in input.records {
            guard let line = try? record.jsonLine() else {
                require(false, "a \(record.type) record the reader kept cannot be written")
                return
            }
            let again = StatsReader.parse(Data(line.utf8), source: "again")
            require(again.records == [record] && again.problems.isEmpty,
                    "\(line) reads back as \(again.records), problems \(again.problems)")
        }

        let report = FleetFigures(records: input.records)
        let outcomes = Expectations.evaluate(expectations, against: report)
        require(outcomes.count == expectations.count, "\(outcomes.count) outcomes for \(expectations.count) expectations")

        let text = ReportText.render(report)
        require(text.hasSuffix("\n"), "the text report does not end its last line")

        let json = ReportJSON.render(report, outcomes: outcomes, problems: input.problems)
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
        require(object != nil, "the JSON report does not parse: \(json.prefix(200))")
        for key in ["rooms", "runs", "bots", "published", "received", "subscribers", "totals", "expectations", "passed", "problems"] {
            require(object?[key] != nil, "the JSON report has no \(key)")
        }

        let html = ReportHTML.render(report, outcomes: outcomes, problems: input.problems)
        require(occurrences("<svg", in: html) == occurrences("</svg>", in: html), "an <svg is not closed")
        require(html.hasSuffix("</html>\n"), "the HTML page is cut short")
        require(html.unicodeScalars.allSatisfy(isXMLCharacter), "the HTML page holds a character XML does not allow")
    }

    /// XML 1.0's `Char` production.
    private static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    /// By bytes: `components(separatedBy:)` took a fifth of each run.
    private static func occurrences(_ needle: String, in text: String) -> Int {
        let needle = Array(needle.utf8), bytes = Array(text.utf8)
        guard let first = needle.first, bytes.count >= needle.count else { return 0 }
        var count = 0
        for start in 0...(bytes.count - needle.count) where bytes[start] == first && bytes[start..<(start + needle.count)].elementsEqual(needle) {
            count += 1
        }
        return count
    }
}
