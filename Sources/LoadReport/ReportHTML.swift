import Foundation

/// The report as one self-contained HTML page: inline CSS and inline SVG charts, no script,
/// no font or image from anywhere else, so it can be archived as a CI artifact and opened
/// offline. It is also well-formed XML (every element closed, attributes quoted, only XML's
/// own entities), so tools can parse it; it declares no XML namespace, which HTML does not
/// need for inline SVG and which keeps every URL out of the file.
public enum ReportHTML {
    public static func render(_ report: FleetFigures, outcomes: [ExpectationOutcome] = [], problems: [StatsProblem] = []) -> String {
        let rooms = report.rooms
        let title = "nacho load report" + (rooms.isEmpty ? "" : ", room " + rooms.joined(separator: ", "))
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>\(HTMLText.escape(title))</title>
            <style>\(style)</style>
            </head>
            <body>
            <h1>\(HTMLText.escape(title))</h1>

            """
        out += "<p class=\"summary\">\(HTMLText.escape(headline(report)))</p>\n"

        if !outcomes.isEmpty {
            let passed = outcomes.allSatisfy(\.met)
            out += "<h2>Expectations: <span class=\"\(passed ? "met" : "missed")\">\(passed ? "all met" : "missed")</span></h2>\n<ul class=\"expectations\">\n"
            for outcome in outcomes {
                for line in outcome.lines {
                    out += "<li class=\"\(outcome.met ? "met" : "missed")\">\(HTMLText.escape(line))</li>\n"
                }
            }
            out += "</ul>\n"
        }

        out += "<h2>Published tracks</h2>\n" + table(ReportText.publishedTable(report))
        out += "<h2>Subscribers</h2>\n" + table(ReportText.subscriberTable(report))
        if !report.join.notJoined.isEmpty {
            var notJoined = TextTable([("bot", .left), ("role", .left), ("attempts", .right), ("error", .left)])
            for bot in report.join.notJoined {
                notJoined.add([bot.bot, bot.role ?? "-", bot.joinAttempts.map(String.init) ?? "-", bot.error ?? "-"])
            }
            out += "<h2>Not joined</h2>\n" + table(notJoined)
        }

        for (section, charts) in ReportCharts.all(report) {
            out += "<h2>\(HTMLText.escape(section)) over time</h2>\n<div class=\"charts\">\n"
            for chart in charts { out += chart.html() }
            out += "</div>\n"
        }

        var notes = report.warnings
        notes += problems.prefix(50).map(\.description)
        if problems.count > 50 { notes.append("and \(problems.count - 50) more lines skipped") }
        if !notes.isEmpty {
            out += "<h2>Input</h2>\n<ul class=\"problems\">\n"
            for note in notes { out += "<li>\(HTMLText.escape(note))</li>\n" }
            out += "</ul>\n"
        }
        if let start = report.startTime {
            out += "<p class=\"foot\">Second 0 is \(HTMLText.escape(start.formatted(.iso8601))). Delay is meaningful only where senders and receivers share a clock.</p>\n"
        }
        return out + "</body>\n</html>\n"
    }

    static func headline(_ report: FleetFigures) -> String {
        let join = report.join
        var parts = ["\(report.runs.count) run\(report.runs.count == 1 ? "" : "s")",
                     "\(join.joined) of \(join.planned) bots joined",
                     "\(report.published.count) published tracks",
                     "\(report.subscribers.count) subscribers"]
        if let p50 = join.joinMsP50 { parts.append("join p50 \(FigureFormat.milliseconds(p50)), p95 \(FigureFormat.milliseconds(join.joinMsP95))") }
        return parts.joined(separator: ", ")
    }

    static func table(_ table: TextTable) -> String {
        var out = "<table>\n<thead><tr>"
        for (header, alignment) in zip(table.headers, table.alignments) {
            out += "<th\(alignment == .right ? " class=\"num\"" : "")>\(HTMLText.escape(header.lowercased()))</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        for (index, row) in table.rows.enumerated() {
            let total = index == table.rows.count - 1 && row.first == "total"
            out += total ? "<tr class=\"total\">" : "<tr>"
            for (column, cell) in row.enumerated() {
                let right = column < table.alignments.count && table.alignments[column] == .right
                out += "<td\(right ? " class=\"num\"" : "")>\(HTMLText.escape(cell))</td>"
            }
            out += "</tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }

    static let style = """

        body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
        h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
        table { border-collapse: collapse; font-size: 0.9em; }
        th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #ddd; text-align: left; }
        th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
        tr.total td { font-weight: bold; border-top: 2px solid #999; }
        .met { color: #2b7a2b; } .missed { color: #b3261e; font-weight: bold; }
        ul.expectations li.missed { font-weight: normal; }
        .charts { display: flex; flex-wrap: wrap; gap: 1em; }
        figure.chart { margin: 0; }
        figcaption { font-weight: bold; margin-bottom: 0.3em; } .unit, .note { font-weight: normal; color: #666; }
        svg.plot { background: #fafafa; border: 1px solid #e5e5e5; }
        svg.plot .grid line { stroke: #e3e3e3; stroke-width: 1; }
        svg.plot .grid text, svg.plot text.empty { fill: #666; font-size: 11px; }
        svg.plot .line { fill: none; stroke-width: 1.6; }
        ul.legend { list-style: none; padding: 0; margin: 0.3em 0 0; max-width: 760px; display: flex; flex-wrap: wrap; gap: 0.2em 1em; font-size: 0.8em; }
        .swatch { display: inline-block; width: 1.6em; margin-right: 0.4em; vertical-align: middle; }
        .foot, ul.problems { color: #666; font-size: 0.85em; }

        """
}
