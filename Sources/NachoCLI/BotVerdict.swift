import Foundation
import LoadReport
import Participant

/// The end of a bots run: the figures aggregated as `nacho report` does (from the summary
/// lines the run wrote), the `--expect` thresholds checked, the tables or JSON to print.
struct BotVerdict {
    var report: FleetFigures
    var outcomes: [ExpectationOutcome]

    var passed: Bool { outcomes.allSatisfy(\.met) }

    /// - Parameter lines: the run's `run` and `summary` lines (JSON), as written.
    init(expectations: [Expectation], lines: [String]) {
        let input = StatsReader.parse(Data(lines.joined(separator: "\n").utf8), source: "this run")
        report = FleetFigures(records: input.records)
        outcomes = Expectations.evaluate(expectations, against: report)
    }

    var records: [ExpectationRecord] { outcomes.map(\.record) }

    /// The miss lines, for the one error line per miss.
    var misses: [String] { outcomes.filter { !$0.met }.flatMap(\.lines) }

    func render(json: Bool) -> String {
        if json { return ReportJSON.render(report, outcomes: outcomes) + "\n" }
        var text = ReportText.render(report)
        for outcome in outcomes where outcome.met { text += outcome.lines.joined(separator: "\n") + "\n" }
        return text
    }
}
