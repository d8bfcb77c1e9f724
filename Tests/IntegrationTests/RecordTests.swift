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
        nonisolated(unsafe) var video: ServerConsumer?
        nonisolated(unsafe) var audio: ServerConsumer?
        _ = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path], timeout: 120) { process in
            // 10 s of video sent to nacho, then kill -9 (what the server had sent then is the yardstick).
            try server.waitUntilSent(150, of: "video", by: "1001")
            video = try XCTUnwrap(try server.liveConsumers(of: "1001", kind: "video").first)
            audio = try XCTUnwrap(try server.liveConsumers(of: "1001", kind: "audio").first)
            kill(process.processIdentifier, SIGKILL)
        }
        let file = try XCTUnwrap(try files(in: dir).first)
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        // kill -9 may cost what was not yet on disk: at most the last 2 s.
        let videoSent = try XCTUnwrap(video).framesSent, audioSent = try XCTUnwrap(audio).packetsSent
        XCTAssertGreaterThanOrEqual(probe.lastVideoTime, Double(videoSent) / 15 - 2, "decodable up to 2 s before the kill (\(videoSent) frames sent)")
        XCTAssertGreaterThanOrEqual(probe.videoFrames, videoSent - 2 * 15, "\(probe.videoFrames) frames on disk, \(videoSent) sent")
        XCTAssertGreaterThanOrEqual(probe.audioFrames, audioSent - 2 * 50, "\(probe.audioFrames) audio frames on disk, \(audioSent) sent")
        XCTAssertLessThanOrEqual(probe.audioFrames, audioSent + 25, "no audio frame twice")
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
                              "--member", "1", "--audio-source", "synthetic", "--video-source", "synthetic", "--duration", "60"]
        producer.standardOutput = FileHandle.nullDevice
        producer.standardError = FileHandle.nullDevice
        try producer.run()
        defer { if producer.isRunning { producer.terminate() } }
        try waitForProducers(of: "1", on: server)
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "2", "--out", dir.path,
                                 "--duration", "10"], timeout: 40)
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        let file = try XCTUnwrap(recorded.first { $0.contains("-1-") }, "\(recorded)")
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        XCTAssertEqual([probe.width, probe.height], [320, 240])
        // The server forwards nacho's packets as they come: every frame it forwarded is in the
        // file, each of nacho's frames once and in order (its counter steps by one).
        let owners = try server.producerOwners()
        let consumers = try server.consumers().filter { owners[$0.producerId] == "1" }
        let video = try XCTUnwrap(consumers.first { $0.kind == "video" }, "\(consumers)")
        let audio = try XCTUnwrap(consumers.first { $0.kind == "audio" }, "\(consumers)")
        XCTAssertEqual(video.counters["mode"] as? String, "forward")
        XCTAssertGreaterThan(video.framesSent, 120, "10 s of 15 fps forwarded")
        XCTAssertLessThanOrEqual(probe.videoFrames, video.framesSent, "no frame twice")
        XCTAssertGreaterThanOrEqual(Double(probe.videoFrames), 0.93 * Double(video.framesSent),
                                    "\(probe.videoFrames) frames recorded, \(video.framesSent) forwarded")
        XCTAssertEqual(Double(probe.audioFrames), Double(audio.framesSent), accuracy: 0.07 * Double(audio.framesSent),
                       "\(probe.audioFrames) audio frames recorded, \(audio.framesSent) forwarded")
        XCTAssertEqual(probe.barcodes.count, probe.videoFrames)
        let steps = zip(probe.barcodes, probe.barcodes.dropFirst()).map { $1 - $0 }
        XCTAssertTrue(steps.allSatisfy { $0 > 0 }, "nacho's frames in order, none twice: \(probe.barcodes.prefix(20))")
        XCTAssertGreaterThanOrEqual(Double(steps.filter { $0 == 1 }.count), 0.95 * Double(steps.count),
                                    "consecutive frames: \(probe.barcodes.prefix(40))")
    }

    /// Waits until the server decodes a member's video producer (it is up and sending).
    private func waitForProducers(of member: String, on server: RoomServerProcess) throws {
        try Wait.until("member \(member)'s video to reach the server") {
            let owners = try server.producerOwners()
            let media = try XCTUnwrap(try server.state()["media"] as? [String: Any])
            let producers = media["producers"] as? [String: [String: Any]] ?? [:]
            return producers.contains { owners[$0.key] == member && $0.value["kind"] as? String == "video"
                && ($0.value["frames_decoded"] as? Int ?? 0) > 0 }
        }
    }
}

extension RecordTests {
    /// A member who leaves and comes back gets a second file; both decode.
    func testMemberWhoComesBackGetsANewFile() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let dir = try outputDirectory()
        nonisolated(unsafe) var first: ServerConsumer?
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path, "--json"],
                                timeout: 120) { process in
            first = try server.waitUntilSent(75, of: "video", by: "1001")
            try server.post("members/1001/leave")
            try Wait.until("the member's consumers to close") { try server.liveConsumers(of: "1001", kind: "video").isEmpty }
            try server.post("members/1001/join")
            try server.waitUntilSent(75, of: "video", by: "1001")
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        XCTAssertEqual(recorded.count, 2, "\(recorded)")
        XCTAssertEqual(recorded.filter { $0.hasSuffix("-2.webm") }.count, 1)
        // Each file holds what the server sent to its consumer (closed ones keep their final count).
        let video = try server.consumers().filter { $0.kind == "video" }
        XCTAssertEqual(video.count, 2, "\(video.map(\.id))")
        let firstId = try XCTUnwrap(first).id
        for file in recorded {
            let consumer = try XCTUnwrap(video.first { ($0.id == firstId) != file.hasSuffix("-2.webm") }, "\(video.map(\.id))")
            let probe = try probe(file)
            XCTAssertEqual(probe.decodeErrors, "", file)
            XCTAssertLessThanOrEqual(probe.videoFrames, consumer.framesSent, file)
            XCTAssertGreaterThanOrEqual(Double(probe.videoFrames), 0.9 * Double(consumer.framesSent),
                                        "\(file): \(probe.videoFrames) frames recorded, \(consumer.framesSent) sent")
            let steps = zip(probe.barcodes, probe.barcodes.dropFirst()).map { $1 - $0 }
            XCTAssertGreaterThanOrEqual(Double(steps.filter { $0 == 1 }.count), 0.95 * Double(steps.count), file)
        }
    }
}
