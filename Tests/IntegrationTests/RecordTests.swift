import Foundation
import XCTest

/// `nacho record` against the test room server; the files are checked by two readers that are
/// not nacho: ffmpeg/ffprobe (full decode) and mkvinfo (mkvtoolnix).
final class RecordTests: XCTestCase {
    /// frames_sent of the server's video consumer for each member (from /state).
    private func framesSentPerMember(_ server: RoomServerProcess) throws -> [String: Int] {
        let state = try server.state()
        let producers = try XCTUnwrap((state["producers"] as? [String: [[String: Any]]])?["42"])
        let owner = Dictionary(uniqueKeysWithValues: producers.map { ($0["id"] as! String, $0["member_no"] as! String) })
        let consumers = try XCTUnwrap((state["media"] as? [String: Any])?["consumers"] as? [String: [String: Any]])
        var out: [String: Int] = [:]
        for consumer in consumers.values where consumer["kind"] as? String == "video" {
            if let member = owner[consumer["producer_id"] as? String ?? ""] { out[member] = consumer["frames_sent"] as? Int }
        }
        return out
    }

    func testRecordsEveryMemberToAPlayableFile() throws {
        let server = try RoomServerProcess(["--virtual-members", "2"])
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                 "--duration", "15", "--json"], timeout: 60)
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        XCTAssertEqual(recorded.count, 2, "one file per member: \(recorded)")
        XCTAssertEqual(run.stdoutLines.count, 2, run.stdout)
        let sent = try framesSentPerMember(server)
        let mkvinfo = try tool("mkvinfo")
        for file in recorded {
            let member = file.contains("-1001-") ? "1001" : "1002"
            XCTAssertTrue(URL(fileURLWithPath: file).lastPathComponent.hasPrefix("42-\(member)-"), file)
            let probe = try probe(file)
            XCTAssertEqual(probe.decodeErrors, "", "ffmpeg decodes \(file) without errors")
            XCTAssertEqual([probe.width, probe.height], [320, 240])
            let framesSent = try XCTUnwrap(sent[member], "server frames for \(member): \(sent)")
            XCTAssertEqual(Double(probe.videoFrames), Double(framesSent), accuracy: 0.05 * Double(framesSent),
                           "\(file): \(probe.videoFrames) frames recorded, \(framesSent) sent")
            XCTAssertEqual(probe.lastVideoTime + 1.0 / 15, Double(framesSent) / 15, accuracy: 0.05 * Double(framesSent) / 15,
                           "duration matches what was sent")
            XCTAssertGreaterThan(probe.audioFrames, 500, "audio present")
            // The pattern's counter in every decoded frame: in order, one step at a time.
            XCTAssertEqual(probe.barcodes.count, probe.videoFrames)
            let steps = zip(probe.barcodes, probe.barcodes.dropFirst()).map { $1 - $0 }
            XCTAssertTrue(steps.allSatisfy { $0 > 0 }, "frames in order: \(probe.barcodes.prefix(20))")
            XCTAssertGreaterThanOrEqual(Double(steps.filter { $0 == 1 }.count), 0.95 * Double(steps.count))
            let (status, info, _) = try self.run(mkvinfo, [file])
            let text = String(decoding: info, as: UTF8.self)
            XCTAssertEqual(status, 0, text)
            XCTAssertTrue(text.contains("V_VP8") && text.contains("A_OPUS"), "mkvinfo reads both tracks")
        }
    }

    func testLossAndReorderingStillDecode() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--loss", "0.1", "--reorder", "0.05"])
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                 "--duration", "15", "--json", "--log-level", "notice"], timeout: 60)
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        XCTAssertEqual(recorded.count, 1)
        let probe = try probe(try XCTUnwrap(recorded.first))
        XCTAssertEqual(probe.decodeErrors, "", "only whole frames from key frames on are written")
        let framesSent = try XCTUnwrap(try framesSentPerMember(server)["1001"])
        // 10 % loss each way hits key frames and retransmissions too; what is written must be whole.
        XCTAssertGreaterThanOrEqual(Double(probe.videoFrames), 0.6 * Double(framesSent), "NACK/RTX repaired most losses")
        XCTAssertTrue(zip(probe.barcodes, probe.barcodes.dropFirst()).allSatisfy { $1 > $0 }, "in order despite reordering")
        // The loss shows in the summary.
        let line = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(run.stdoutLines.first).utf8)) as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap(line["lost"] as? Int), 0, "\(line)")
    }

    func testKilledRecordingStillPlays() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let dir = try outputDirectory()
        _ = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path], timeout: 30) { process in
            Thread.sleep(forTimeInterval: 12)  // ~2 s of setup and sender reports, then 10 s recording
            kill(process.processIdentifier, SIGKILL)
        }
        let file = try XCTUnwrap(try files(in: dir).first)
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        XCTAssertGreaterThanOrEqual(probe.lastVideoTime, 8.0, "decodable up to at least the 8th second")
        XCTAssertGreaterThan(probe.audioFrames, 8 * 50 - 50)
    }

    func testOneNachoProducesAnotherRecordsIt() throws {
        let server = try RoomServerProcess()
        let dir = try outputDirectory()
        let config = dir.deletingLastPathComponent().appendingPathComponent("nacho-\(UUID()).json")
        try Data(#"{"video": {"width": 320, "height": 240, "fps": 15}}"#.utf8).write(to: config)
        addTeardownBlock { try? FileManager.default.removeItem(at: config) }
        let producer = Process()
        producer.executableURL = Repository.nacho
        producer.arguments = ["join", "--config", config.path, "--edge", server.edge, "--origin", server.origin, "--room", "42",
                              "--member", "1", "--audio-source", "synthetic", "--video-source", "synthetic", "--duration", "16"]
        producer.standardOutput = FileHandle.nullDevice
        producer.standardError = FileHandle.nullDevice
        try producer.run()
        defer { if producer.isRunning { producer.terminate() } }
        Thread.sleep(forTimeInterval: 2)
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "2", "--out", dir.path,
                                 "--duration", "10"], timeout: 40)
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        let file = try XCTUnwrap(recorded.first { $0.contains("-1-") }, "\(recorded)")
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        XCTAssertEqual([probe.width, probe.height], [320, 240])
        // The server forwards nacho's packets (CodecRoomTests checks the full frame rate; with
        // --relay decode aiortc re-encodes at its own pace and about half arrive): what counts
        // here is that they are nacho's frames, in order.
        XCTAssertGreaterThan(probe.videoFrames, 50)
        XCTAssertGreaterThan(probe.audioFrames, 150)
        XCTAssertTrue(zip(probe.barcodes, probe.barcodes.dropFirst()).allSatisfy { $1 >= $0 }, "\(probe.barcodes.prefix(10))")
        XCTAssertGreaterThan((probe.barcodes.last ?? 0) - (probe.barcodes.first ?? 0), 100, "the counter advanced by seconds")
    }
}

extension RecordTests {
    /// A member who leaves and comes back gets a second file; both decode.
    func testMemberWhoComesBackGetsANewFile() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path, "--json"],
                                timeout: 40) { process in
            Thread.sleep(forTimeInterval: 6)
            try server.post("members/1001/leave")
            Thread.sleep(forTimeInterval: 2)
            try server.post("members/1001/join")
            Thread.sleep(forTimeInterval: 7)
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        XCTAssertEqual(recorded.count, 2, "\(recorded)")
        XCTAssertEqual(recorded.filter { $0.hasSuffix("-2.webm") }.count, 1)
        for file in recorded {
            let probe = try probe(file)
            XCTAssertEqual(probe.decodeErrors, "", file)
            XCTAssertGreaterThan(probe.videoFrames, 20, file)
        }
    }
}
