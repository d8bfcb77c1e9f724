import Foundation
import TestSupport
import XCTest

/// `nacho bots` against the test room server: a room of publishers and subscribers in one
/// process, statistics that follow docs/STATS.md, expectations, replay sources, leaving together.
final class BotsTests: XCTestCase {
    private func statsFile() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-bots-\(UUID()).jsonl")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
        }
    }

    /// docs/STATS.md as strict types: decoding fails on a missing field or a wrong type.
    private struct Line: Decodable {
        var type: String
        var run: String
        var time: String
    }

    private struct RunLine: Decodable {
        var room: String
        var host: String
        var index: Int?
        var member_base: Int
        var version: String
        var plan: Plan
        struct Plan: Decodable {
            var video_publishers: Int, audio_publishers: Int, subscribers: Int
            var num_per_second: Double, duration: Double?, video_source: String, audio_source: String, simulcast: Bool
        }
    }

    /// A track line: who (bot, role) and the track's figures, in one flat object.
    private struct TrackLine: Decodable {
        var bot: String, role: String
        var figures: TrackFigures

        private enum Keys: String, CodingKey { case bot, role }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            bot = try c.decode(String.self, forKey: .bot)
            role = try c.decode(String.self, forKey: .role)
            figures = try TrackFigures(from: decoder)
        }
    }

    private struct SummaryLine: Decodable {
        var bot: String, role: String, joined: Bool, join_attempts: Int, join_ms: Double?, reconnections: Int, error: String?
        var tracks: [TrackFigures]
    }

    /// A track's figures (docs/STATS.md), as track lines and a summary's tracks carry them.
    private struct TrackFigures: Decodable {
        var direction: String, kind: String, codec: String, track: String
        var peer: String?
        var elapsed_s: Double, interval_s: Double
        var packets: Int, bytes: Int, bitrate: Int, packets_lost: Int, loss: Double
        var jitter_ms: Double?, rtt_ms: Double?
        var nacks: Int, plis: Int, firs: Int, retransmissions: Int, frames: Int, key_frames: Int, freezes: Int
        var freeze_ms: Double
        var delay_ms_p50: Double?, delay_ms_p95: Double?
        var target_bitrate: Double?, pacer_delay_ms: Double?, retransmissions_dropped: Int, layers_paused: Int
    }

    private struct EndLine: Decodable {
        var bots: Int, joined: Int, passed: Bool
        var expectations: [Expectation]
        struct Expectation: Decodable { var expect: String, met: Bool, missed: [String] }
    }

    private func validate(_ text: String, file: StaticString = #filePath, line number: UInt = #line) {
        let data = Data(text.utf8)
        let decoder = JSONDecoder()
        do {
            let line = try decoder.decode(Line.self, from: data)
            switch line.type {
            case "run": _ = try decoder.decode(RunLine.self, from: data)
            case "track":
                let track = try decoder.decode(TrackLine.self, from: data)
                XCTAssertTrue(["send", "receive"].contains(track.figures.direction), text, file: file, line: number)
                XCTAssertTrue(["video_publisher", "audio_publisher", "subscriber"].contains(track.role), text, file: file, line: number)
                XCTAssertTrue((0...1).contains(track.figures.loss), text, file: file, line: number)
            case "summary": _ = try decoder.decode(SummaryLine.self, from: data)
            case "end": _ = try decoder.decode(EndLine.self, from: data)
            default: XCTFail("unknown line type: \(text)", file: file, line: number)
            }
        } catch {
            XCTFail("not a docs/STATS.md line (\(error)): \(text)", file: file, line: number)
        }
    }

    /// 2 video publishers (synthetic, one shared encode), 2 audio publishers and 8 subscribers
    /// for 20 s: every subscriber receives every publisher's track, the statistics follow the
    /// schema, and the expectations hold.
    func testARoomOfBotsReceivesEveryPublisherAndMeetsItsExpectations() throws {
        let server = try RoomServerProcess()
        let stats = statsFile()
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(#"{"video": {"width": 320, "height": 240, "fps": 15, "bitrate": 400000}}"#.utf8).write(to: config)
        addTeardownBlock { try? FileManager.default.removeItem(at: config) }
        let run = try Nacho.run(["bots", "--config", config.path, "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--video-publishers", "2", "--audio-publishers", "2", "--subscribers", "8", "--num-per-second", "8",
                                 "--duration", "20", "--stats", stats.path, "--expect", "joined=all", "--expect", "loss<2%",
                                 "--expect", "tracks=all", "--expect", "video.bitrate>=50k"], timeout: 90)
        XCTAssertEqual(run.status, 0, "\(run.stderr)\n\(run.stdout)")
        for line in try String(contentsOf: stats, encoding: .utf8).split(separator: "\n") { validate(String(line)) }
        let all = try lines(stats)
        XCTAssertEqual(all.first?["type"] as? String, "run")
        XCTAssertEqual(all.last?["type"] as? String, "end")
        XCTAssertEqual(all.last?["passed"] as? Bool, true)
        let summaries = all.filter { $0["type"] as? String == "summary" }
        XCTAssertEqual(summaries.count, 12)
        XCTAssertTrue(summaries.allSatisfy { $0["joined"] as? Bool == true }, "\(summaries)")
        let publishers = Set(summaries.filter { ($0["role"] as? String)?.hasSuffix("publisher") == true }.compactMap { $0["bot"] as? String })
        XCTAssertEqual(publishers, ["1000", "1001", "1002", "1003"])
        for subscriber in summaries where subscriber["role"] as? String == "subscriber" {
            let tracks = try XCTUnwrap(subscriber["tracks"] as? [[String: Any]])
            XCTAssertEqual(Set(tracks.compactMap { $0["peer"] as? String }), publishers, "subscriber \(subscriber["bot"] ?? "?")")
            for track in tracks {
                XCTAssertGreaterThan(track["packets"] as? Int ?? 0, track["kind"] as? String == "video" ? 100 : 400, "\(track)")
            }
        }
        // The totals cover the whole run, its last second included: each subscriber's audio
        // packets against what the server's consumer sent it (audio is never retransmitted).
        // They used to stop at the last sample before the bots left, up to a second short.
        let consumers = try XCTUnwrap((try server.state()["media"] as? [String: Any])?["consumers"] as? [String: [String: Any]])
        var ratios: [String] = []
        for subscriber in summaries where subscriber["role"] as? String == "subscriber" {
            for track in try XCTUnwrap(subscriber["tracks"] as? [[String: Any]]) where track["kind"] as? String == "audio" {
                let id = try XCTUnwrap(track["track"] as? String)
                let atServer = try XCTUnwrap(consumers[id + ":closed"] ?? consumers[id], "consumer \(id) at the server")
                let sent = try XCTUnwrap(atServer["packets_sent"] as? Int)
                let counted = try XCTUnwrap(track["packets"] as? Int)
                ratios.append("\(subscriber["bot"] ?? "?"): \(counted)/\(sent)")
                XCTAssertGreaterThanOrEqual(Double(counted), 0.98 * Double(sent), "bot \(subscriber["bot"] ?? "?") counted \(counted) of \(sent)")
            }
        }
        print("audio packets counted / sent by the server: \(ratios.joined(separator: ", "))")
        // Video: the whole frames each subscriber put together against the frames the server's
        // consumer forwarded (one simulcast layer); repairs may lose the odd frame, not more.
        var frameRatios: [String] = []
        for subscriber in summaries where subscriber["role"] as? String == "subscriber" {
            for track in try XCTUnwrap(subscriber["tracks"] as? [[String: Any]]) where track["kind"] as? String == "video" {
                let id = try XCTUnwrap(track["track"] as? String)
                let atServer = try XCTUnwrap(consumers[id + ":closed"] ?? consumers[id], "consumer \(id) at the server")
                let sent = try XCTUnwrap(atServer["frames_sent"] as? Int)
                let frames = try XCTUnwrap(track["frames"] as? Int)
                frameRatios.append("\(subscriber["bot"] ?? "?"): \(frames)/\(sent)")
                XCTAssertGreaterThan(sent, 100, "the server forwarded video to \(id)")
                XCTAssertGreaterThanOrEqual(Double(frames), 0.95 * Double(sent), "bot \(subscriber["bot"] ?? "?") put together \(frames) of \(sent) frames")
                XCTAssertLessThanOrEqual(frames, sent, "no frame counted twice")
            }
        }
        print("video frames put together / forwarded by the server: \(frameRatios.joined(separator: ", "))")
        // End-to-end delay from the publishers' abs-capture-time, which the server forwards
        // while writing sender reports of its own (as mediasoup does): one machine, so
        // milliseconds, not the seconds a sender report's mapping made of it.
        var delays: [String] = []
        // Under ThreadSanitizer (Scripts/sanitize) everything runs several times slower.
        let delayBound = ProcessInfo.processInfo.environment["TSAN_OPTIONS"] == nil ? 100.0 : 1000.0
        for subscriber in summaries where subscriber["role"] as? String == "subscriber" {
            for track in try XCTUnwrap(subscriber["tracks"] as? [[String: Any]]) {
                let p50 = try XCTUnwrap(track["delay_ms_p50"] as? Double, "delay of \(track["track"] ?? "?") at bot \(subscriber["bot"] ?? "?")")
                delays.append("\(subscriber["bot"] ?? "?") \(track["kind"] ?? "?"): \(p50)")
                XCTAssertTrue((0...delayBound).contains(p50), "delay p50 \(p50) ms")
            }
        }
        print("delay p50 (ms): \(delays.joined(separator: ", "))")
        // Per second, per bot, per track.
        let seconds = all.filter { $0["type"] as? String == "track" && $0["bot"] as? String == "1011" }
        XCTAssertGreaterThan(seconds.count, 4 * 15, "one line per track per second")
        // Honest intervals: Opus sends 50 packets a second, so every received audio line
        // (but a track's first and last, which cover its start and end) reads 50 a second
        // within 10 %. Counts divided by an interval they were not counted over used to
        // swing between 0 and twice the rate. A busy machine may stall a loop now and then:
        // nine lines in ten must hold.
        var steady = 0, lines = 0
        var rates: [Int] = []
        let audio = all.filter { $0["type"] as? String == "track" && $0["direction"] as? String == "receive" && $0["kind"] as? String == "audio" }
        for track in Set(audio.compactMap { $0["track"] as? String }) {
            let perSecond = audio.filter { $0["track"] as? String == track }
            for line in perSecond.dropFirst().dropLast() {
                guard let packets = line["packets"] as? Int, let interval = line["interval_s"] as? Double, interval > 0 else { continue }
                let rate = Double(packets) / interval
                rates.append(Int(rate.rounded()))
                lines += 1
                if abs(rate - 50) <= 5 { steady += 1 }
            }
        }
        print("audio packets per second, per line: \(rates.sorted())")
        XCTAssertGreaterThan(lines, 8 * 2 * 10, "interior audio lines of the 8 subscribers, 2 audio tracks each")
        XCTAssertGreaterThanOrEqual(Double(steady), 0.9 * Double(lines), "lines within 50 ± 5 packets/s: \(steady) of \(lines)")
        XCTAssertTrue(run.stdout.contains("Subscribers"), run.stdout)
    }

    /// `--metrics`: the fleet's live figures in the Prometheus text format, scraped over HTTP by
    /// Python's urllib (not by nacho's code) while the bots run, and checked against the run's
    /// own statistics afterwards.
    func testLiveMetricsAreServedWhileTheBotsRun() throws {
        let python = try ExternalTool.path("python3")
        let (portStatus, portOut, portErr) = try run(python, ["-c", """
            import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
            """])
        XCTAssertEqual(portStatus, 0, portErr)
        let port = try XCTUnwrap(Int(String(decoding: portOut, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        let scrape = """
            import sys, time, urllib.request, urllib.error
            url = "http://127.0.0.1:%s/metrics" % sys.argv[1]
            deadline = time.time() + 40
            while time.time() < deadline:
                try:
                    response = urllib.request.urlopen(url, timeout=2)
                    text = response.read().decode()
                    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4"), response.headers
                    if 'nacho_bots_joined{role="subscriber"} 2' in text and "nacho_delay_seconds_bucket" in text:
                        print(text)
                        sys.exit(0)
                except (urllib.error.URLError, ConnectionError):
                    pass
                time.sleep(0.5)
            sys.exit("no complete scrape in 40 s")
            """
        let server = try RoomServerProcess()
        let stats = statsFile()
        nonisolated(unsafe) var scraped: (status: Int32, text: String, errors: String) = (-1, "", "")
        let bots = try Nacho.run(["bots", "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                  "--video-publishers", "1", "--audio-publishers", "1", "--subscribers", "2", "--no-simulcast",
                                  "--num-per-second", "8", "--duration", "12", "--stats", stats.path,
                                  "--metrics", "127.0.0.1:\(port)"], timeout: 60) { _ in
            let (status, out, errors) = try ExternalTool.run(python, ["-c", scrape, String(port)])
            scraped = (status, String(decoding: out, as: UTF8.self), errors)
        }
        XCTAssertEqual(bots.status, 0, bots.stderr)
        XCTAssertEqual(scraped.status, 0, "\(scraped.errors)\n\(bots.stderr)")
        let text = scraped.text
        for series in ["nacho_bots_planned{role=\"video_publisher\"} 1", "nacho_bots_planned{role=\"subscriber\"} 2",
                       "# TYPE nacho_packets_total counter", "# TYPE nacho_delay_seconds histogram"] {
            XCTAssertTrue(text.contains(series), "\(series) in\n\(text)")
        }
        // Packets the subscribers received, by kind: positive while the run goes on.
        func value(_ prefix: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        for kind in ["video", "audio"] {
            let received = value("nacho_packets_total{role=\"subscriber\",kind=\"\(kind)\",direction=\"receive\"}")
                ?? value("nacho_packets_total{kind=\"\(kind)\",role=\"subscriber\",direction=\"receive\"}")
            XCTAssertGreaterThan(try XCTUnwrap(received, "received \(kind) packets in\n\(text)"), 0)
        }
        // After the run nothing listens there any more (SO_REUSEADDR: the closed connections'
        // TIME_WAIT does not count, a listener would).
        let (rebind, _, rebindErr) = try run(python, ["-c", """
            import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", \(port))); s.listen()
            """])
        XCTAssertEqual(rebind, 0, rebindErr)
    }

    /// A taken address fails the run at once, before any bot joins (exit 64, one line).
    func testMetricsOnATakenAddressIsAUsageError() throws {
        let server = try RoomServerProcess()
        let first = try Nacho.run(["bots", "--edge", server.edge, "--origin", server.origin, "--room", "42", "--subscribers", "1",
                                   "--metrics", "127.0.0.1:notaport"], timeout: 30)
        XCTAssertEqual(first.status, 64, first.stderr)
        XCTAssertTrue(first.stderr.contains("--metrics must be HOST:PORT"), first.stderr)
        let python = try ExternalTool.path("python3")
        nonisolated(unsafe) var taken: NachoRun?
        let holder = """
            import socket, sys, time
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(20)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", holder]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        defer { process.terminate() }
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        let port = try XCTUnwrap(Int(line.trimmingCharacters(in: .whitespacesAndNewlines)), line)
        taken = try Nacho.run(["bots", "--edge", server.edge, "--origin", server.origin, "--room", "42", "--subscribers", "1",
                               "--metrics", "127.0.0.1:\(port)"], timeout: 30)
        XCTAssertEqual(taken?.status, 64, taken?.stderr ?? "")
        XCTAssertTrue(taken?.stderr.contains("cannot serve metrics on 127.0.0.1:\(port)") == true, taken?.stderr ?? "")
        XCTAssertEqual((try server.state()["stats"] as? [String: Any])?["joins"] as? Int, 0, "no bot joined")
    }

    /// A router that does not offer abs-capture-time: no delay figure at all (null), never one
    /// made up from the server's sender reports.
    func testWithoutCaptureTimeThereIsNoDelay() throws {
        let server = try RoomServerProcess(["--no-abs-capture-time"])
        let stats = statsFile()
        let run = try Nacho.run(["bots", "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--video-publishers", "1", "--audio-publishers", "1", "--subscribers", "1", "--no-simulcast",
                                 "--num-per-second", "8", "--duration", "6", "--stats", stats.path], timeout: 60)
        XCTAssertEqual(run.status, 0, run.stderr)
        let all = try lines(stats)
        let received = all.filter { $0["type"] as? String == "track" && $0["direction"] as? String == "receive" }
        XCTAssertGreaterThan(received.reduce(0) { $0 + ($1["packets"] as? Int ?? 0) }, 100, "media flowed")
        for line in received {
            XCTAssertTrue(line["delay_ms_p50"] is NSNull && line["delay_ms_p95"] is NSNull, "\(line)")
        }
    }

    /// A threshold the run cannot meet: exit 3, one line per miss naming the bot and the figure.
    func testAMissedThresholdFailsNamingTheBot() throws {
        let server = try RoomServerProcess()
        let run = try Nacho.run(["bots", "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--video-publishers", "1", "--subscribers", "1", "--no-simulcast", "--duration", "5",
                                 "--expect", "video.bitrate>=50M"], timeout: 60)
        XCTAssertEqual(run.status, 3, run.stderr)
        let misses = run.stderrLines.filter { $0.hasPrefix("nacho: error: expectation video.bitrate>=50M missed: bot ") }
        XCTAssertEqual(misses.count, 2, run.stderr)
        XCTAssertTrue(misses.contains { $0.contains("bot 1000") } && misses.contains { $0.contains("bot 1001") }, run.stderr)
    }

    /// 16 bots on pre-encoded clips (no encoder at all), 8 joins a second: all in the room
    /// within 5 s of the last join; SIGTERM and all leave in order, together, within 2 s.
    func testSixteenReplayBotsJoinQuicklyAndLeaveTogether() throws {
        let ffmpeg = try tool("ffmpeg")
        let dir = try outputDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let video = dir.appendingPathComponent("clip.ivf").path, audio = dir.appendingPathComponent("clip.ogg").path
        let (videoStatus, _, videoErrors) = try self.run(ffmpeg, ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15",
                                                                   "-t", "4", "-c:v", "libvpx", "-g", "15", "-b:v", "300k", "-f", "ivf", video])
        XCTAssertEqual(videoStatus, 0, videoErrors)
        let (audioStatus, _, audioErrors) = try self.run(ffmpeg, ["-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                                                                   "-t", "4", "-c:a", "libopus", "-b:a", "32k", audio])
        XCTAssertEqual(audioStatus, 0, audioErrors)
        let server = try RoomServerProcess()
        let stats = statsFile()
        nonisolated(unsafe) var signalled = Date()
        let run = try Nacho.run(["bots", "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--video-publishers", "4", "--audio-publishers", "4", "--subscribers", "8", "--num-per-second", "8",
                                 "--video-source", "replay:\(video)", "--audio-source", "replay:\(audio)", "--stats", stats.path],
                                timeout: 60) { process in
            Thread.sleep(forTimeInterval: 2 + 5)  // the last join starts at 1.9 s
            signalled = Date()
            kill(process.processIdentifier, SIGTERM)
        }
        let took = Date().timeIntervalSince(signalled)
        XCTAssertEqual(run.status, 0, run.stderr)
        // The README promises about two seconds; the bound is generous for a busy machine (the
        // order of leaving is checked below from what the server saw).
        print("16 bots left \(String(format: "%.2f", took)) s after SIGTERM")
        XCTAssertLessThan(took, 8, "all 16 left within seconds of SIGTERM")
        let summaries = try lines(stats).filter { $0["type"] as? String == "summary" }
        XCTAssertEqual(summaries.count, 16)
        for summary in summaries {
            XCTAssertEqual(summary["joined"] as? Bool, true, "\(summary)")
            XCTAssertLessThan(summary["join_ms"] as? Double ?? .infinity, 5000, "\(summary)")
        }
        let requests = try XCTUnwrap((try server.state()["stats"] as? [String: Any])?["requests"] as? [String: Int])
        XCTAssertEqual(requests["exitRoom"], 16, "every bot left the room in order: \(requests)")
        XCTAssertEqual(requests["producerClosed"], 8, "every publisher closed its producer first: \(requests)")
    }
}
