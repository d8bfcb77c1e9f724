import Foundation
import XCTest
@testable import LoadReport

final class StatsReaderTests: XCTestCase {
    private func parse(_ text: String, source: String = "stats.jsonl") -> StatsInput {
        StatsReader.parse(Data(text.utf8), source: source)
    }

    func testReadsEveryLineTypeAsDocumented() throws {
        let text = """
            {"type":"run","run":"r1","time":"2025-06-15T12:00:00.000Z","room":"42","host":"h1","index":2,"member_base":1050,"plan":{"video_publishers":1,"audio_publishers":1,"subscribers":23,"num_per_second":5,"duration":60,"video_source":"replay:clip.ivf","audio_source":"synthetic","simulcast":false},"version":"0.2.0"}
            {"type":"track","run":"r1","time":"2025-06-15T12:00:01.000Z","bot":"1050","role":"video_publisher","direction":"send","kind":"video","codec":"video/VP8","track":"p1","peer":null,"elapsed_s":1.0,"interval_s":1.0,"packets":90,"bytes":100000,"bitrate":800000,"packets_lost":1,"loss":0.011,"jitter_ms":2.5,"rtt_ms":21.0,"nacks":1,"plis":0,"firs":0,"retransmissions":1,"frames":30,"key_frames":1,"freezes":0,"freeze_ms":0,"delay_ms_p50":null,"delay_ms_p95":null}
            {"type":"summary","run":"r1","time":"2025-06-15T12:01:00.000Z","bot":"1051","role":"subscriber","joined":false,"join_attempts":3,"join_ms":null,"reconnections":0,"error":"edge join: no answer within 10 s","tracks":[]}
            {"type":"end","run":"r1","time":"2025-06-15T12:01:00.100Z","bots":25,"joined":24,"expectations":[{"expect":"joined=all","met":false,"missed":["1051"]}],"passed":false}
            """
        let input = parse(text)
        XCTAssertEqual(input.problems, [])
        XCTAssertEqual(input.records.map(\.type), ["run", "track", "summary", "end"])
        guard case .run(let run) = input.records[0], case .track(let track) = input.records[1],
              case .summary(let summary) = input.records[2], case .end(let end) = input.records[3] else {
            return XCTFail("wrong record types: \(input.records)")
        }
        XCTAssertEqual(run.index, 2)
        XCTAssertEqual(run.memberBase, 1050)
        XCTAssertEqual(run.plan?.bots, 25)
        XCTAssertEqual(run.plan?.videoSource, "replay:clip.ivf")
        XCTAssertEqual(track.bot, "1050")
        XCTAssertEqual(track.figures.direction, .send)
        XCTAssertEqual(track.figures.bitrate, 800_000)
        XCTAssertEqual(track.figures.packetsLost, 1)
        XCTAssertEqual(track.figures.rttMs, 21)
        XCTAssertNil(track.figures.peer)
        XCTAssertNil(track.figures.delayMsP95)
        XCTAssertFalse(summary.joined)
        XCTAssertEqual(summary.joinAttempts, 3)
        XCTAssertEqual(summary.error, "edge join: no answer within 10 s")
        XCTAssertEqual(end.expectations, [ExpectationRecord(expect: "joined=all", met: false, missed: ["1051"])])
        XCTAssertEqual(end.passed, false)
    }

    func testUnknownFieldsAreIgnoredAndMissingOnesAreNilOrZero() throws {
        let input = parse(#"{"type":"track","run":"r","bot":"7","direction":"receive","kind":"audio","track":"c1","packets":5,"future_field":{"x":[1,2]},"mos":4.2}"#)
        XCTAssertEqual(input.problems, [])
        guard case .track(let line) = try XCTUnwrap(input.records.first) else { return XCTFail() }
        XCTAssertEqual(line.figures.packets, 5)
        XCTAssertEqual(line.figures.nacks, 0, "a counter missing from the line reads as 0")
        XCTAssertNil(line.figures.bitrate, "a measurement missing from the line is not measured")
        XCTAssertNil(line.figures.jitterMs)
        XCTAssertNil(line.time)
        XCTAssertNil(line.role)
    }

    func testMemberNumbersWrittenAsNumbersAreRead() throws {
        let input = parse(#"{"type":"track","run":"r","bot":1003,"direction":"receive","kind":"video","track":"c1","peer":1001}"#)
        guard case .track(let line) = try XCTUnwrap(input.records.first) else { return XCTFail() }
        XCTAssertEqual(line.bot, "1003")
        XCTAssertEqual(line.figures.peer, "1001")
    }

    func testMalformedLinesAreReportedWithFileAndLineAndSkipped() {
        let text = """
            {"type":"run","run":"r"}
            {"type":"track","run":"r","bot":"1","direction":"send","kind":"video","track":"t","packets":"many"}
            {"type":"track","run":"r","direction":"send","kind":"video","track":"t"}
            {"type":"track","run":"r","bot":"1","direction":"sideways","kind":"video","track":"t"}
            {"type":"summary","run":"r","bot":"1","joined":tru
            {"type":"end","run":"r","bots":1}
            """
        let input = parse(text, source: "fleet/pod-2.jsonl")
        XCTAssertEqual(input.records.map(\.type), ["run", "end"])
        XCTAssertEqual(input.problems.map(\.line), [2, 3, 4, 5])
        let lines = input.problems.map(\.description)
        XCTAssertEqual(lines[0], #"fleet/pod-2.jsonl:2: field "packets": expected a number"#)
        XCTAssertEqual(lines[1], #"fleet/pod-2.jsonl:3: missing field "bot""#)
        XCTAssertTrue(lines[2].hasPrefix(#"fleet/pod-2.jsonl:4: field "direction""#), lines[2])
        XCTAssertEqual(lines[3], "fleet/pod-2.jsonl:5: not valid JSON")
    }

    func testPrefixedLogLinesAreReadFromTheirBraceAndOtherLogLinesCountedOnce() {
        let text = """
            2025-06-15T12:00:00.000000001Z {"type":"run","run":"r"}
            [pod/nacho-bots-2-x7k/bots] {"type":"end","run":"r","bots":0}
            2025-06-15T12:00:01+0000 warning nacho : edge join retried

            2025-06-15T12:00:02+0000 info nacho : leaving
            """
        let input = parse(text, source: "pod.log")
        XCTAssertEqual(input.records.map(\.type), ["run", "end"])
        XCTAssertEqual(input.problems.map(\.description), ["pod.log: 2 lines without a JSON object skipped (log output?), the first at line 3"])
    }

    func testUnknownLineTypesAreSkippedAndCounted() {
        let input = parse(#"{"type":"heartbeat","run":"r"}"# + "\n" + #"{"type":"end","run":"r"}"# + "\r\n" + #"{"type":"x"}"#)
        XCTAssertEqual(input.records.map(\.type), ["end"])
        XCTAssertEqual(input.problems.map(\.description), ["stats.jsonl: 2 lines of an unknown type skipped, the first at line 1"])
    }

    /// With `--stats -` and the logs merged (`kubectl logs`), a log line can quote a server's
    /// text that holds a whole statistics record; it is log output, not statistics.
    func testForgedRecordInsideALogLineIsNotRead() {
        let forged = #"{"type":"end","run":"r","bots":1,"joined":1,"passed":true}"#
        let text = """
            {"type":"run","run":"r"}
            2025-06-15T12:00:01+0000 warning nacho: [Participant] consume refused: \(forged)
            2025-06-15T12:00:01+0000 warning nacho: producer=\(forged) [Participant] consume refused
            [pod/nacho-bots-0-x7k/bots] 2025-06-15T12:00:01.000000001Z 2025-06-15T12:00:01+0000 error nacho: [Signaling] \(forged)
            bots-1  | 2025-06-15T12:00:01+0000 error nacho: [Signaling] \(forged)
            x \(forged)
            [pod/a/b/c] \(forged)
            2025-06-15T12:00:01Z{"type":"end","run":"r"}
            """
        let input = parse(text, source: "pod.log")
        XCTAssertEqual(input.records.map(\.type), ["run"])
        XCTAssertEqual(input.problems.map(\.description),
                       ["pod.log: 7 lines with text before the JSON object skipped (log output, not statistics), the first at line 2"])
    }

    func testLogCollectorPrefixesAreRead() {
        let text = """
            {"type":"run","run":"r"}
            [pod/nacho-bots-2-x7k/bots] {"type":"end","run":"r","bots":0}
            2025-06-15T12:00:00.000000001Z {"type":"end","run":"r","bots":1}
            [pod/nacho-bots-2-x7k/bots] 2025-06-15T12:00:00.5+02:00 {"type":"end","run":"r","bots":2}
            bots-1  | {"type":"end","run":"r","bots":3}
            nacho_bots.2 | 2025-06-15T12:00:00Z	{"type":"end","run":"r","bots":4}
            """
        let input = parse(text)
        XCTAssertEqual(input.problems, [])
        XCTAssertEqual(input.records.compactMap { record -> Int? in
            if case .end(let end) = record { return end.bots }
            return nil
        }, [0, 1, 2, 3, 4])
    }

    func testEncodedLinesReadBackEqual() {
        let fixture = StatsFixture()
        let input = parse(fixture.jsonLines)
        XCTAssertEqual(input.problems, [])
        XCTAssertEqual(input.records, fixture.records)
    }

    func testEncodedTrackLinesCarryNullsForUnmeasuredFigures() throws {
        let line = TrackLine(run: "r", time: nil, bot: "1", role: "subscriber",
                             figures: TrackFigures(direction: .receive, kind: "audio", track: "c"))
        let data = try JSONEncoder().encode(StatsRecord.track(line))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["type"] as? String, "track")
        XCTAssertTrue(object["delay_ms_p95"] is NSNull, "\(object)")
        XCTAssertEqual(object["packets"] as? Int, 0)
    }

    func testMissingFileIsAnError() {
        XCTAssertThrowsError(try StatsReader.read(paths: ["/nonexistent/stats.jsonl"])) { error in
            XCTAssertEqual("\(error)", "cannot read /nonexistent/stats.jsonl: no such file")
        }
    }
}

final class StatsWritingTests: XCTestCase {
    func testJSONLineIsOneSortedLineAndReadsBack() throws {
        let record = StatsRecord.track(TrackLine(run: "r", time: "2025-06-15T12:00:01.000Z", bot: "1001", role: "video_publisher",
                                                 figures: TrackFigures(direction: .send, kind: "video", codec: "video/VP8", track: "p",
                                                                       intervalS: 1, packets: 90, bitrate: .nan, loss: .infinity)))
        let line = try record.jsonLine()
        XCTAssertFalse(line.contains("\n"))
        XCTAssertTrue(line.hasPrefix(#"{"bitrate":null,"bot":"1001","#), line)
        XCTAssertTrue(line.contains(#""codec":"video/VP8""#), line)
        XCTAssertTrue(line.contains(#""loss":null"#), "not finite is null: \(line)")
        XCTAssertTrue(line.contains(#""type":"track""#), line)
        let input = StatsReader.parse(Data(line.utf8), source: "-")
        guard case .track(let back) = try XCTUnwrap(input.records.first) else { return XCTFail() }
        XCTAssertEqual(back.figures.packets, 90)
        XCTAssertNil(back.figures.bitrate)
    }

    private func object(_ record: StatsRecord) throws -> [String: Any] {
        let line = try record.jsonLine()
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) as? [String: Any])
    }

    func testFieldsDocumentedAsOrNullAreWrittenAsNull() throws {
        let run = try object(.run(RunLine(run: "r", time: "t", room: "42", host: "h", index: nil, memberBase: 1000,
                                          plan: RunPlan(subscribers: 2, duration: nil), version: "v")))
        XCTAssertTrue(run["index"] is NSNull)
        XCTAssertTrue((run["plan"] as? [String: Any])?["duration"] is NSNull)
        let summary = try object(.summary(SummaryLine(run: "r", time: "t", bot: "1001", role: "subscriber", joined: true,
                                                      joinAttempts: 1, joinMs: nil, reconnections: 0, error: nil)))
        XCTAssertTrue(summary["join_ms"] is NSNull)
        XCTAssertTrue(summary["error"] is NSNull)
        XCTAssertEqual(summary["type"] as? String, "summary")
    }

    func testWrittenLinesReadBackTheSame() throws {
        let figures = TrackFigures(direction: .receive, kind: "video", codec: "video/VP8", track: "c1", peer: "1001",
                                   elapsedS: 1, intervalS: 1, packets: 90, bytes: 90_000, bitrate: 720_000)
        let records: [StatsRecord] = [
            .run(RunLine(run: "r", time: "t", room: "42", host: "h", index: 3, memberBase: 1000,
                         plan: RunPlan(videoPublishers: 1, subscribers: 2, duration: 20), version: "v")),
            .track(TrackLine(run: "r", time: "t", bot: "1002", role: "subscriber", figures: figures)),
            .summary(SummaryLine(run: "r", time: "t", bot: "1002", role: "subscriber", joined: false, joinAttempts: 3,
                                 reconnections: 0, error: "never joined", tracks: [figures])),
            .end(EndLine(run: "r", time: "t", bots: 3, joined: 2,
                         expectations: [ExpectationRecord(expect: "joined=all", met: false, missed: ["1002"])], passed: false)),
        ]
        let text = try records.map { try $0.jsonLine() }.joined(separator: "\n")
        let input = StatsReader.parse(Data(text.utf8), source: "written")
        XCTAssertEqual(input.problems, [])
        XCTAssertEqual(input.records, records)
    }
}
