import Foundation
import TestSupport
import XCTest

/// nacho's send path (sources → Opus/VP8 → RTP → SRTP → produce) decoded by aiortc in the test
/// room server: what arrives must decode, at the configured size, with the expected level.
final class SendMediaTests: XCTestCase {
    private func config(_ json: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(json.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func sendLines(_ run: NachoRun) throws -> [String: [String: Any]] {
        var byKind: [String: [String: Any]] = [:]
        for line in run.stdoutLines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
            if object["direction"] as? String == "send", let kind = object["kind"] as? String { byKind[kind] = object }
        }
        return byKind
    }

    private func serverProducers(_ server: RoomServerProcess) throws -> [String: [String: Any]] {
        let media = try XCTUnwrap(try server.state()["media"] as? [String: Any])
        return try XCTUnwrap(media["producers"] as? [String: [String: Any]])
    }

    func testSyntheticAudioAndVideoDecodeAtTheServer() throws {
        let server = try RoomServerProcess()
        let cfg = try config(#"{"video": {"width": 320, "height": 240, "fps": 15, "bitrate": 500000}}"#)
        let run = try Nacho.run(["join", "--config", cfg.path, "--edge", server.edge, "--origin", server.origin,
                                 "--room", "42", "--member", "7", "--audio-source", "synthetic", "--video-source", "synthetic",
                                 "--duration", "20", "--json"], timeout: 60) { _ in
            // Halfway, aiortc asks for a key frame (PLI), as a new consumer would.
            Thread.sleep(forTimeInterval: 10)
            try server.post("keyframe")
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        let sent = try sendLines(run)
        let producers = try serverProducers(server)
        let video = try XCTUnwrap(sent["video"], run.stdout)
        let audio = try XCTUnwrap(sent["audio"], run.stdout)
        let videoAtServer = try XCTUnwrap(producers[try XCTUnwrap(video["producer_id"] as? String)])
        let audioAtServer = try XCTUnwrap(producers[try XCTUnwrap(audio["producer_id"] as? String)])

        let framesSent = try XCTUnwrap(video["frames"] as? Int)
        XCTAssertGreaterThan(framesSent, 15 * 18, "20 s at 15 fps")
        let decoded = try XCTUnwrap(videoAtServer["frames_decoded"] as? Int)
        XCTAssertGreaterThanOrEqual(Double(decoded), 0.95 * Double(framesSent), "aiortc decoded \(decoded) of \(framesSent) frames")
        XCTAssertEqual(videoAtServer["width"] as? Int, 320)
        XCTAssertEqual(videoAtServer["height"] as? Int, 240)
        XCTAssertGreaterThan(try XCTUnwrap(videoAtServer["sr_received"] as? Int), 5, "sender reports reached aiortc")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(video["key_frame_requests"] as? Int), 1, "the PLI arrived")
        // Key frames: the first, the one the PLI asked for, and the 4 s interval ones (15 fps * 4).
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(video["key_frames"] as? Int), 6)
        // Leaving in order: each producer closed, then exitRoom, on both servers.
        let requests = try XCTUnwrap((try server.state()["stats"] as? [String: Any])?["requests"] as? [String: Int])
        XCTAssertEqual(requests["producerClosed"], 2)
        XCTAssertEqual(requests["exitRoom"], 2)
        XCTAssertEqual(requests["produce"], 2)

        // A 440 Hz sine at -10 dBFS peak-to-RMS is about -13 dBFS RMS.
        let level = try XCTUnwrap(audioAtServer["audio_rms_dbfs"] as? Double)
        XCTAssertEqual(level, -13, accuracy: 3)
        XCTAssertGreaterThan(try XCTUnwrap(audioAtServer["frames_decoded"] as? Int), 900, "20 s of 20 ms frames")
    }

    func testVideoKeepsDecodingWithTenPercentLoss() throws {
        let server = try RoomServerProcess(["--loss", "0.1"])
        let cfg = try config(#"{"video": {"width": 320, "height": 240, "fps": 15, "bitrate": 400000}}"#)
        let run = try Nacho.run(["join", "--config", cfg.path, "--edge", server.edge, "--origin", server.origin,
                                 "--room", "42", "--member", "7", "--no-audio", "--video-source", "synthetic",
                                 "--duration", "15", "--json"], timeout: 60)
        XCTAssertEqual(run.status, 0, run.stderr)
        let video = try XCTUnwrap(try sendLines(run)["video"], run.stdout)
        let atServer = try XCTUnwrap(try serverProducers(server)[try XCTUnwrap(video["producer_id"] as? String)])
        let framesSent = try XCTUnwrap(video["frames"] as? Int)
        let decoded = try XCTUnwrap(atServer["frames_decoded"] as? Int)
        let recovered = (video["retransmissions"] as? Int ?? 0) + (video["key_frame_requests"] as? Int ?? 0)
        XCTAssertGreaterThan(recovered, 0, "losses were repaired by RTX or a key frame: \(video)")
        XCTAssertGreaterThanOrEqual(Double(decoded), 0.7 * Double(framesSent),
                                    "with 10 % loss video keeps decoding: \(decoded) of \(framesSent) (\(video))")
        let media = try XCTUnwrap(try server.state()["media"] as? [String: Any])
        let transports = try XCTUnwrap(media["transports"] as? [String: [String: Any]])
        XCTAssertGreaterThan(transports.values.compactMap { $0["relay_dropped"] as? Int }.reduce(0, +), 50, "the relay did drop")
    }

    func testMissingDevicesGiveOneLineEach() throws {
        let run = try Nacho.run(["join", "--edge", "ws://127.0.0.1:9", "--room", "42", "--member", "7",
                                 "--audio-source", "alsa:nacho-no-such-device", "--video-source", "v4l2:/dev/nacho-no-such-camera"])
        XCTAssertEqual(run.status, 74, run.stderr)
        XCTAssertEqual(run.stderrLines, [
            "nacho: error: audio source alsa:nacho-no-such-device: cannot open the capture device: no such file or directory",
            "nacho: error: video source v4l2:/dev/nacho-no-such-camera: cannot open the camera: no such file or directory",
        ])
    }
}

/// The real device code paths without devices: ALSA through its `file` plugin,
/// V4L2 through a preloaded stand-in for libv4l2 (Sources/FakeV4L2) that serves YUYV.
final class CaptureDeviceTests: XCTestCase {
    func testALSACaptureThroughTheFilePlugin() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-alsa-\(UUID())")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: home) }
        // 12 s of a 1 kHz sine at half scale (RMS -9 dBFS), 48 kHz mono S16_LE.
        var pcm = Data(capacity: 48000 * 12 * 2)
        for i in 0..<(48000 * 12) {
            let sample = Int16(0.5 * 32767 * sin(2 * Double.pi * 1000 * Double(i) / 48000))
            withUnsafeBytes(of: sample.littleEndian) { pcm.append(contentsOf: $0) }
        }
        let raw = home.appendingPathComponent("in.raw")
        try pcm.write(to: raw)
        try Data("""
        pcm.nachotest {
          type file
          slave.pcm "null"
          file "/dev/null"
          infile "\(raw.path)"
          format "raw"
        }
        """.utf8).write(to: home.appendingPathComponent(".asoundrc"))
        let server = try RoomServerProcess()
        let run = try Nacho.run(["join", "--edge", server.edge, "--origin", server.origin, "--room", "42", "--member", "7",
                                 "--no-video", "--audio-source", "alsa:nachotest", "--duration", "6", "--json"],
                                environment: ["HOME": home.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let sent = try XCTUnwrap(run.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["direction"] as? String == "send" })
        XCTAssertEqual(sent["source"] as? String, "ALSA nachotest, 48 kHz, 1 channel")
        let frames = try XCTUnwrap(sent["frames"] as? Int)
        // 20 ms frames for what is left of 6 s after joining (setup takes longer on a busy
        // machine, so only a floor of one second); never more than real time allows, although
        // the file plugin has no clock and would give its 12 s at once.
        XCTAssertGreaterThan(frames, 50, "audio was sent")
        XCTAssertLessThanOrEqual(frames, 330, "paced to real time (6 s is 300 frames; unpaced the file gives 600)")
        let media = try XCTUnwrap(try server.state()["media"] as? [String: Any])
        let producer = try XCTUnwrap((media["producers"] as? [String: [String: Any]])?[try XCTUnwrap(sent["producer_id"] as? String)])
        // aiortc's audio receiver drops what reaches it before its jitter buffer is primed (281
        // of 304 in one run): most, not all.
        XCTAssertGreaterThanOrEqual(Double(try XCTUnwrap(producer["frames_decoded"] as? Int)), 0.85 * Double(frames),
                                    "the server decoded what nacho says it sent")
        XCTAssertEqual(try XCTUnwrap(producer["audio_rms_dbfs"] as? Double), -9, accuracy: 2, "the captured tone's level")
    }

    func testV4L2CaptureThroughAStandInCamera() throws {
        let fake = Repository.nacho.deletingLastPathComponent().appendingPathComponent("libFakeV4L2.so")
        guard FileManager.default.fileExists(atPath: fake.path) else {
            throw TestEnvironment.missing("libFakeV4L2.so not built at \(fake.path) (swift build builds it)")
        }
        let server = try RoomServerProcess()
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(#"{"video": {"width": 320, "height": 240, "fps": 15}}"#.utf8).write(to: config)
        addTeardownBlock { try? FileManager.default.removeItem(at: config) }
        let run = try Nacho.run(["join", "--config", config.path, "--edge", server.edge, "--origin", server.origin,
                                 "--room", "42", "--member", "7", "--no-audio", "--video-source", "v4l2:/dev/video-fake",
                                 "--duration", "8", "--json"], environment: ["LD_PRELOAD": fake.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let sent = try XCTUnwrap(run.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { $0["direction"] as? String == "send" })
        // The camera only does YUYV: negotiation fell back to it and nacho converted to I420.
        XCTAssertEqual(sent["source"] as? String, "V4L2 /dev/video-fake YUYV 320x240 at 15 fps (asked 320x240 at 15)")
        let frames = try XCTUnwrap(sent["frames"] as? Int)
        // The stand-in camera serves 15 fps: about 120 frames in 8 s, less what joining took.
        XCTAssertGreaterThanOrEqual(frames, 30, "camera frames were sent")
        XCTAssertLessThanOrEqual(frames, 8 * 15 + 8, "no frame sent twice (the camera starts before the clock)")
        let media = try XCTUnwrap(try server.state()["media"] as? [String: Any])
        let producer = try XCTUnwrap((media["producers"] as? [String: [String: Any]])?[try XCTUnwrap(sent["producer_id"] as? String)])
        XCTAssertEqual(producer["width"] as? Int, 320)
        XCTAssertEqual(producer["height"] as? Int, 240)
        // Frames sent before the server's receiver was listening are lost to it (111 of 121
        // decoded in one run on a busy machine): most, not all.
        XCTAssertGreaterThanOrEqual(Double(try XCTUnwrap(producer["frames_decoded"] as? Int)), 0.85 * Double(frames))

        let missing = try Nacho.run(["join", "--edge", server.edge, "--room", "42", "--member", "8", "--no-audio",
                                     "--video-source", "v4l2:/dev/video-missing"], environment: ["LD_PRELOAD": fake.path])
        XCTAssertEqual(missing.status, 74)
        XCTAssertEqual(missing.stderrLines, ["nacho: error: video source v4l2:/dev/video-missing: cannot open the camera: no such file or directory"])
    }
}
