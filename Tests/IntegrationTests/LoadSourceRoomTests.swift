import Foundation
import TestSupport
import XCTest

/// `nacho-load-source` (the built binary, next to nacho) as a child process: it prints
/// `{"listening": URL}` first, then one statistics line per `--stats-interval`, and a `final`
/// line when it stops.
final class LoadSourceProcess {
    let process = Process()
    let url: String
    private let lines = LineCollector()
    private let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-load-source-\(UUID()).log")

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["NACHO_LOAD_SOURCE_BIN"] { return URL(fileURLWithPath: path) }
        return Repository.nacho.deletingLastPathComponent().appendingPathComponent("nacho-load-source")
    }

    init(_ arguments: [String]) throws {
        let binary = Self.binary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestEnvironment.missing("no nacho-load-source at \(binary.path) (swift build --product nacho-load-source)")
        }
        process.executableURL = binary
        process.arguments = ["--port", "0"] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: logURL)
        try process.run()
        lines.read(stdout.fileHandleForReading)
        guard let first = lines.wait(for: 1, seconds: 30).first,
              let listening = (try? JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: String])?["listening"] else {
            process.terminate()
            let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            throw RoomServerError(message: "nacho-load-source did not start: \(log.suffix(4000))")
        }
        url = listening
    }

    /// The statistics lines so far (type `stats` or `final`).
    var statistics: [[String: Any]] {
        lines.all.dropFirst().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// SIGTERM, then the exit status.
    func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        lines.waitForEnd(seconds: 10)
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)).map { String($0.suffix(4000)) } ?? "" }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: logURL)
    }
}

/// A child's stdout, line by line, read on a thread of its own.
final class LineCollector: @unchecked Sendable {
    // Sound: `collected` and `ended` are only touched under `condition`'s lock.
    private let condition = NSCondition()
    private var collected: [String] = []
    private var ended = false

    func read(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    condition.lock()
                    collected.append(line)
                    condition.broadcast()
                    condition.unlock()
                }
            }
            condition.lock()
            ended = true
            condition.broadcast()
            condition.unlock()
        }
    }

    var all: [String] {
        condition.lock()
        defer { condition.unlock() }
        return collected
    }

    /// Waits until `count` lines came (or the stream ended, or the time is up).
    func wait(for count: Int, seconds: Double) -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while collected.count < count, !ended, condition.wait(until: deadline) {}
        return collected
    }

    func waitForEnd(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while !ended, condition.wait(until: deadline) {}
    }
}

/// `nacho bots` subscribers against the Swift load source: every virtual member's tracks
/// arrive, the expectations hold, and the source's own figures show what it served.
final class LoadSourceRoomTests: XCTestCase {
    func testBotsReceiveEveryVirtualMemberFromTheLoadSource() throws {
        let ffmpeg = try tool("ffmpeg")
        let dir = try outputDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let video = dir.appendingPathComponent("clip.ivf").path, audio = dir.appendingPathComponent("clip.ogg").path
        let (videoStatus, _, videoErrors) = try run(ffmpeg, ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15",
                                                             "-t", "4", "-c:v", "libvpx", "-g", "15", "-b:v", "300k", "-f", "ivf", video])
        XCTAssertEqual(videoStatus, 0, videoErrors)
        let (audioStatus, _, audioErrors) = try run(ffmpeg, ["-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                                                             "-t", "4", "-ac", "1", "-c:a", "libopus", "-b:a", "32k", audio])
        XCTAssertEqual(audioStatus, 0, audioErrors)
        let source = try LoadSourceProcess(["--video-clip", video, "--audio-clip", audio, "--video-producers", "2",
                                            "--audio-producers", "2", "--threads", "1", "--stats-interval", "0.5"])
        XCTAssertTrue(source.url.hasPrefix("ws://127.0.0.1:"), source.url)
        let stats = dir.appendingPathComponent("bots.jsonl")
        // Members from 2000, apart from the virtual members' numbers.
        let run = try Nacho.run(["bots", "--server", source.url, "--room", "42", "--member-base", "2000",
                                 "--video-publishers", "0", "--audio-publishers", "0", "--subscribers", "3",
                                 "--duration", "6", "--stats", stats.path,
                                 "--expect", "joined=all", "--expect", "tracks>=4", "--expect", "loss<1%"], timeout: 60)
        XCTAssertEqual(run.status, 0, "\(run.stderr)\n\(run.stdout)")
        XCTAssertEqual(source.stop(), 0, "nacho-load-source stops cleanly on SIGTERM: \(source.log)")

        // Each subscriber received the four virtual producers' tracks, told apart by member
        // and kind (tracks>=4 counts tracks; tracks=all is for the bots' own publishers, none here).
        let lines = try String(contentsOf: stats, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let summaries = lines.filter { $0["type"] as? String == "summary" }
        XCTAssertEqual(summaries.count, 3)
        for summary in summaries {
            XCTAssertEqual(summary["joined"] as? Bool, true, "\(summary)")
            let tracks = try XCTUnwrap(summary["tracks"] as? [[String: Any]])
            let received = Set(tracks.compactMap { track in (track["peer"] as? String).map { "\($0) \(track["kind"] ?? "?")" } })
            XCTAssertEqual(received.count, 4, "bot \(summary["bot"] ?? "?"): \(tracks)")
            XCTAssertEqual(Set(tracks.compactMap { $0["kind"] as? String }), ["video", "audio"])
            for track in tracks {
                XCTAssertGreaterThan(track["packets"] as? Int ?? 0, track["kind"] as? String == "video" ? 50 : 100, "\(track)")
            }
        }

        // The load source's figures: at some point 3 members with 3 connected transports and 12
        // resumed consumers, packets sent; at the end everything closed.
        let figures = source.statistics
        XCTAssertEqual(figures.last?["type"] as? String, "final", source.log)
        func media(_ line: [String: Any], _ key: String) -> Int { (line["media"] as? [String: Any])?[key] as? Int ?? -1 }
        func signaling(_ line: [String: Any], _ key: String) -> Int { (line["signaling"] as? [String: Any])?[key] as? Int ?? -1 }
        XCTAssertTrue(figures.contains { signaling($0, "members") == 3 && signaling($0, "consumers_resumed") == 12
                                         && media($0, "consumers") == 12 && media($0, "connected_transports") == 3 },
                      "\(figures)")
        let last = try XCTUnwrap(figures.last)
        XCTAssertGreaterThan(media(last, "rtp_packets_sent"), 3 * (2 * 50 + 2 * 100), "\(last)")
        XCTAssertEqual(signaling(last, "joins"), 3)
        XCTAssertEqual(signaling(last, "members"), 0, "every bot left: \(last)")
        XCTAssertEqual(media(last, "consumers"), 0, "their transports closed with their consumers: \(last)")
        XCTAssertEqual(signaling(last, "refusals"), 0, "\(last)")
    }
}
