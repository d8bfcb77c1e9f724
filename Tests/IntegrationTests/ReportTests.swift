import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import XCTest

/// `nacho report` on statistics written the way docs/STATS.md describes them, from two
/// machines: machine A runs the publishers 1001 (video) and 1002 (audio) and subscriber 1003
/// and ends cleanly; machine B runs subscribers 1004 and 1005 and was killed before its
/// summaries (its track lines must still count). 1005 loses 3 of every 90 video packets.
final class ReportTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Repository.nacho.path) else {
            throw TestEnvironment.missing("no nacho binary at \(Repository.nacho.path): build first")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-report-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try StatsFiles.machineA.write(to: file("a.jsonl"), atomically: true, encoding: .utf8)
        try StatsFiles.machineB.write(to: file("b.jsonl"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    private func report(_ extra: [String]) throws -> NachoRun {
        try Nacho.run(["report", file("a.jsonl").path, file("b.jsonl").path] + extra, timeout: 60)
    }

    func testTablesAndHTMLFromTwoMachines() throws {
        let html = file("report.html")
        let run = try report(["--html", html.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "")
        let lines = run.stdoutLines
        XCTAssertEqual(lines.first, "Load report, room 42")
        XCTAssertTrue(lines.contains("2 runs on 2 hosts (1 without an end line)"), run.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("bots: 5 of 5 joined") }, run.stdout)
        func row(_ prefix: String) -> [String]? {
            lines.first { $0.hasPrefix(prefix + " ") }.map { $0.split(separator: " ").map(String.init) }
        }
        XCTAssertEqual(row("1001")?.prefix(4), ["1001", "video", "video/VP8", "prod-vid"], run.stdout)
        XCTAssertEqual(row("1002")?.prefix(3), ["1002", "audio", "audio/opus"], run.stdout)
        // Subscribers: bot, tracks, packets, bitrate in, loss.
        XCTAssertEqual(row("1003")?.prefix(3), ["1003", "2", "700"], run.stdout)
        XCTAssertEqual(row("1004")?.prefix(3), ["1004", "2", "700"], run.stdout)
        XCTAssertEqual(row("1005")?.prefix(3), ["1005", "2", "685"], run.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("total") && $0.contains("2 tracks") }, run.stdout)

        let page = try String(contentsOf: html, encoding: .utf8)
        let parsed = try XMLShape(page)
        XCTAssertGreaterThanOrEqual(parsed.count("svg"), 10, "a chart per figure")
        XCTAssertEqual(parsed.count("svg"), parsed.count("figure"))
        XCTAssertEqual(parsed.count("script"), 0)
        XCTAssertFalse(page.contains("http"), "no outside references")
        XCTAssertTrue(parsed.text.contains("1005 ← 1001 video"))
    }

    func testLossExpectationNamesTheBotThatMissedIt() throws {
        let missed = try report(["--expect", "loss<1%", "--expect", "joined=all"])
        XCTAssertEqual(missed.status, 3, missed.stderr)
        XCTAssertTrue(missed.stdoutLines.contains("expectation loss<1% missed: bot 1005 receive video from 1001: loss 3.3 %"), missed.stdout)
        XCTAssertTrue(missed.stdoutLines.contains("expectation joined=all met: all runs"), missed.stdout)
        XCTAssertEqual(missed.stderrLines, ["nacho: error: expectations missed: loss<1% (1 miss)"])

        let met = try report(["--expect", "loss<5%", "--expect", "joined=all", "--expect", "video.bitrate>=250k", "--expect", "freezes<=1"])
        XCTAssertEqual(met.status, 0, met.stdout + met.stderr)
        XCTAssertTrue(met.stdoutLines.contains("expectation loss<5% met: 8 tracks"), met.stdout)
        XCTAssertTrue(met.stdoutLines.contains("expectation freezes<=1 met: 3 subscribers"), met.stdout)
    }

    func testJSONSummary() throws {
        let run = try report(["--json", "--expect", "loss<1%"])
        XCTAssertEqual(run.status, 3)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
        XCTAssertEqual(object["passed"] as? Bool, false)
        let expectations = try XCTUnwrap(object["expectations"] as? [[String: Any]])
        XCTAssertEqual(expectations.first?["missed"] as? [String], ["1005"])
        XCTAssertEqual((object["subscribers"] as? [[String: Any]])?.count, 3)
        XCTAssertEqual((object["published"] as? [[String: Any]])?.count, 2)
    }

    func testBadExpressionIsAUsageError() throws {
        let run = try report(["--expect", "loss<1"])
        assertOneLineError(run, code: 64, mentions: #"--expect "loss<1": loss is a percentage, e.g. loss<2%"#)
        let unknown = try report(["--expect", "mos>4"])
        assertOneLineError(unknown, code: 64, mentions: #"unknown figure "mos""#)
    }

    func testMalformedLinesAreWarnedAboutAndSkipped() throws {
        let broken = StatsFiles.machineA + "{\"type\":\"track\",\"run\":\"a\",\"bot\":\n" + "this is a log line\n"
        try broken.write(to: file("a.jsonl"), atomically: true, encoding: .utf8)
        let run = try report([])
        XCTAssertEqual(run.status, 0, run.stderr)
        let count = StatsFiles.machineA.split(separator: "\n").count
        XCTAssertEqual(run.stderrLines, [
            "nacho: warning: \(file("a.jsonl").path):\(count + 1): not valid JSON",
            "nacho: warning: \(file("a.jsonl").path): 1 line without a JSON object skipped (log output?), the first at line \(count + 2)",
        ])
        XCTAssertTrue(run.stdout.contains("bots: 5 of 5 joined"), run.stdout)
    }

    func testMissingFileAndEmptyInput() throws {
        let missing = try Nacho.run(["report", file("nope.jsonl").path])
        assertOneLineError(missing, code: 64, mentions: "cannot read \(file("nope.jsonl").path): no such file")
        try "".write(to: file("empty.jsonl"), atomically: true, encoding: .utf8)
        let empty = try Nacho.run(["report", file("empty.jsonl").path])
        assertOneLineError(empty, code: 64, mentions: "no statistics lines in")
        let none = try Nacho.run(["report"])
        XCTAssertEqual(none.status, 64, none.stderr)
    }
}

/// Statistics files as `nacho bots --stats` writes them (docs/STATS.md), built field by field
/// rather than with LoadReport's own encoder, so the test checks the documented schema.
enum StatsFiles {
    static let start = Date(timeIntervalSince1970: 1_750_000_000)
    static let seconds = 5

    static func time(_ offset: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: start.addingTimeInterval(offset))
    }

    static func line(_ object: [String: Any]) -> String {
        // Only plain JSON values go in: serialization cannot fail.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func runLine(run: String, host: String, index: Int, memberBase: Int, video: Int, audio: Int, subscribers: Int) -> String {
        line(["type": "run", "run": run, "time": time(0), "room": "42", "host": host, "index": index, "member_base": memberBase,
              "plan": ["video_publishers": video, "audio_publishers": audio, "subscribers": subscribers, "num_per_second": 10,
                       "duration": seconds, "video_source": "synthetic", "audio_source": "synthetic", "simulcast": false] as [String: Any],
              "version": "0.1.0"])
    }

    /// One second of one track.
    static func track(run: String, second: Int, bot: String, role: String, direction: String, kind: String, id: String, peer: String?,
                      lostPerSecond: Int = 0, freezes: Int = 0) -> [String: Any] {
        let video = kind == "video"
        let packets = video ? 90 : 50
        let bytes = video ? 100_000 : 4_000
        let receiving = direction == "receive"
        let received = packets - lostPerSecond
        return ["type": "track", "run": run, "time": time(Double(second + 1)), "bot": bot, "role": role, "direction": direction,
                "kind": kind, "codec": video ? "video/VP8" : "audio/opus", "track": id, "peer": peer ?? NSNull(),
                "elapsed_s": Double(second + 1), "interval_s": 1.0, "packets": received, "bytes": bytes * received / packets,
                "bitrate": bytes * 8 * received / packets, "packets_lost": lostPerSecond,
                "loss": Double(lostPerSecond) / Double(packets), "jitter_ms": receiving ? 3.5 : 1.2,
                "rtt_ms": receiving ? NSNull() : 18.0 as Any, "nacks": lostPerSecond > 0 ? 1 : 0, "plis": 0, "firs": 0,
                "retransmissions": lostPerSecond, "frames": video ? 30 : 50, "key_frames": second == 0 && video ? 1 : 0,
                "freezes": freezes, "freeze_ms": Double(freezes) * 350,
                "delay_ms_p50": receiving ? 45.0 : NSNull() as Any, "delay_ms_p95": receiving ? 95.0 : NSNull() as Any]
    }

    /// A summary's track: the seconds added up.
    static func totals(_ seconds: [[String: Any]]) -> [String: Any] {
        var total = seconds.last ?? [:]
        for key in ["packets", "bytes", "packets_lost", "nacks", "plis", "firs", "retransmissions", "frames", "key_frames", "freezes"] {
            total[key] = seconds.reduce(0) { $0 + ($1[key] as? Int ?? 0) }
        }
        total["interval_s"] = Double(seconds.count)
        total["bitrate"] = seconds.reduce(0) { $0 + ($1["bitrate"] as? Int ?? 0) } / max(seconds.count, 1)
        let lost = total["packets_lost"] as? Int ?? 0, packets = total["packets"] as? Int ?? 0
        total["loss"] = packets + lost > 0 ? Double(lost) / Double(packets + lost) : 0
        for key in ["type", "run", "time", "bot", "role"] { total[key] = nil }
        return total
    }

    static let publishers: [(bot: String, role: String, kind: String, id: String)] = [
        ("1001", "video_publisher", "video", "prod-video-0001"),
        ("1002", "audio_publisher", "audio", "prod-audio-0002"),
    ]

    static func subscriberSeconds(run: String, bot: String, second: Int) -> [[String: Any]] {
        publishers.map { publisher in
            track(run: run, second: second, bot: bot, role: "subscriber", direction: "receive", kind: publisher.kind,
                  id: "cons-\(bot)-\(publisher.kind)", peer: publisher.bot,
                  lostPerSecond: bot == "1005" && publisher.kind == "video" ? 3 : 0,
                  freezes: bot == "1004" && publisher.kind == "video" && second == 2 ? 1 : 0)
        }
    }

    /// Publishers and one subscriber, through to the summaries and the end line.
    static var machineA: String {
        var text = runLine(run: "a", host: "bots-a", index: 0, memberBase: 1001, video: 1, audio: 1, subscribers: 1)
        var tracksOf: [String: [String: [[String: Any]]]] = [:]
        for second in 0..<seconds {
            var lines = publishers.map { p in
                track(run: "a", second: second, bot: p.bot, role: p.role, direction: "send", kind: p.kind, id: p.id, peer: nil)
            }
            lines += subscriberSeconds(run: "a", bot: "1003", second: second)
            for object in lines {
                text += line(object)
                tracksOf[object["bot"] as? String ?? "", default: [:]][object["track"] as? String ?? "", default: []].append(object)
            }
        }
        for (bot, role) in [("1001", "video_publisher"), ("1002", "audio_publisher"), ("1003", "subscriber")] {
            let tracks = (tracksOf[bot] ?? [:]).keys.sorted().compactMap { tracksOf[bot]?[$0] }.map(totals)
            text += line(["type": "summary", "run": "a", "time": time(Double(seconds) + 1.5), "bot": bot, "role": role, "joined": true,
                          "join_attempts": 1, "join_ms": 180.0, "reconnections": 0, "error": NSNull(), "tracks": tracks])
        }
        text += line(["type": "end", "run": "a", "time": time(Double(seconds) + 2), "bots": 3, "joined": 3, "expectations": [] as [Any],
                      "passed": true])
        return text
    }

    /// Two subscribers, killed before the summaries: only the run and track lines.
    static var machineB: String {
        var text = runLine(run: "b", host: "bots-b", index: 1, memberBase: 1004, video: 0, audio: 0, subscribers: 2)
        for second in 0..<seconds {
            for bot in ["1004", "1005"] {
                for object in subscriberSeconds(run: "b", bot: bot, second: second) { text += line(object) }
            }
        }
        return text
    }
}

/// An HTML page read with Foundation's XML parser: it must be well-formed XML.
final class XMLShape: NSObject, XMLParserDelegate {
    private var elements: [String: Int] = [:]
    private(set) var text = ""

    init(_ page: String) throws {
        super.init()
        let parser = XMLParser(data: Data(page.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw RoomServerError(message: "not well-formed at line \(parser.lineNumber), column \(parser.columnNumber): "
                                  + String(describing: parser.parserError))
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
}
