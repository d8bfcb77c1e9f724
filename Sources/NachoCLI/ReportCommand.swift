import ArgumentParser
import Foundation
import LoadReport

/// `nacho report`: reads `nacho bots` statistics (docs/STATS.md) from any number of files,
/// runs and machines, prints the tables (or JSON), writes an HTML page, and checks `--expect`
/// thresholds (exit 3 when one is missed).
public struct ReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarize nacho bots statistics: tables, JSON, HTML charts, expectations.",
        discussion: """
            Reads JSON-lines statistics (docs/STATS.md) from FILEs (- for standard input), from \
            any number of runs and machines. Lines that are not statistics are reported as \
            FILE:LINE and skipped. Expectations (repeatable): joined=all, joined>=95%, loss<2%, \
            video.bitrate>=250k, packets>0, jitter<30ms, freezes=0, delay_p95<400ms, tracks=all; \
            a video. or audio. prefix narrows a figure to one kind of track. Exit codes: 0 all \
            met, 3 an expectation missed, 64 bad arguments or no statistics.
            """)

    @Argument(help: ArgumentHelp("Statistics files written by nacho bots --stats (- for standard input).", valueName: "file"))
    public var files: [String]

    @Option(help: ArgumentHelp("Also write the report as one self-contained HTML page with charts.", valueName: "file"))
    public var html: String?

    @Flag(help: "Print the report as one JSON object instead of tables.")
    public var json = false

    @Option(help: ArgumentHelp("A threshold every bot must meet, e.g. loss<2% (repeatable).", valueName: "expr"))
    public var expect: [String] = []

    public init() {}

    public mutating func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one statistics file (or - for standard input)") }
        do {
            _ = try Expectations.parse(expect)
        } catch {
            throw ValidationError(error.description)
        }
    }

    public func run() throws {
        let expectations: [Expectation]
        let input: StatsInput
        do {
            expectations = try Expectations.parse(expect)
            input = try StatsReader.read(paths: files)
        } catch let error as ExpectationError {
            throw NachoFailure(.usage, error.description)
        } catch let error as StatsReadError {
            throw NachoFailure(.usage, error.description)
        }
        // Skipped lines are worth knowing but not fatal: a fleet's logs may hold other output.
        let shown = input.problems.prefix(20).map { "nacho: warning: \($0)\n" }.joined()
        let more = input.problems.count > 20 ? "nacho: warning: and \(input.problems.count - 20) more skipped lines\n" : ""
        FileHandle.standardError.write(Data((shown + more).utf8))

        let report = FleetFigures(records: input.records)
        guard !report.isEmpty else {
            throw NachoFailure(.usage, "no statistics lines in \(files.joined(separator: ", "))")
        }
        for warning in report.warnings {
            FileHandle.standardError.write(Data("nacho: warning: \(warning)\n".utf8))
        }
        let outcomes = Expectations.evaluate(expectations, against: report)

        if let html {
            let page = ReportHTML.render(report, outcomes: outcomes, problems: input.problems)
            do {
                try Data(page.utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
            } catch {
                throw NachoFailure(.failure, "cannot write \(html): \((error as NSError).localizedDescription)")
            }
        }
        var text = json
            ? ReportJSON.render(report, outcomes: outcomes, problems: input.problems)
            : ReportText.render(report)
        if !json, !outcomes.isEmpty {
            text += "\nExpectations\n" + outcomes.flatMap(\.lines).map { $0 + "\n" }.joined()
        }
        FileHandle.standardOutput.write(Data(text.utf8))

        let missed = outcomes.filter { !$0.met }
        if !missed.isEmpty {
            let names = missed.map { "\($0.expectation.text) (\($0.misses.count) miss\($0.misses.count == 1 ? "" : "es"))" }
            throw NachoFailure(.expectationsMissed, "expectations missed: " + names.joined(separator: ", "))
        }
    }
}
