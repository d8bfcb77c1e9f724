import Foundation
import XCTest

/// Every codec a mediasoup room carries, against the test room server's router variants
/// (real mediasoup 3.14 capabilities): H264 members encoded by aiortc, VP9 members replayed from
/// ffmpeg's RTP packetizer, nacho's own VP8/VP9 forwarded at the packet level. Recordings are
/// read by ffmpeg/ffprobe and mkvinfo, not by nacho.
final class CodecRoomTests: XCTestCase {
    private func config(_ json: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(json.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    /// The server's video consumers: frames_sent per member whose producer they consume.
    private func videoFramesSent(_ server: RoomServerProcess) throws -> [String: Int] {
        let state = try server.state()
        let producers = try XCTUnwrap((state["producers"] as? [String: [[String: Any]]])?["42"])
        let owner = Dictionary(uniqueKeysWithValues: producers.map { ($0["id"] as! String, $0["member_no"] as! String) })
        let consumers = try XCTUnwrap((state["media"] as? [String: Any])?["consumers"] as? [String: [String: Any]])
        var out: [String: Int] = [:]
        for consumer in consumers.values where consumer["kind"] as? String == "video" {
            if let member = owner[consumer["producer_id"] as? String ?? ""] {
                out[member, default: 0] += consumer["frames_sent"] as? Int ?? 0
            }
        }
        return out
    }

    /// The server's account of the producers it received (decoded there).
    private func mediaProducers(_ server: RoomServerProcess) throws -> [String: [String: Any]] {
        let media = try XCTUnwrap(try server.state()["media"] as? [String: Any])
        return try XCTUnwrap(media["producers"] as? [String: [String: Any]])
    }

    private func file(of member: String, in dir: URL) throws -> String {
        let recorded = try files(in: dir)
        return try XCTUnwrap(recorded.first { URL(fileURLWithPath: $0).lastPathComponent.hasPrefix("42-\(member)-") },
                             "a file for member \(member): \(recorded)")
    }

    /// The checks every recorded video member gets: ffmpeg decodes it all, 320x240, the frame
    /// count within 5 % of what the server sent, the pattern's counter in order.
    private func assertWholeRecording(_ file: String, framesSent: Int, line: UInt = #line) throws {
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "", "ffmpeg decodes \(file) without errors", line: line)
        XCTAssertEqual([probe.width, probe.height], [320, 240], line: line)
        XCTAssertEqual(Double(probe.videoFrames), Double(framesSent), accuracy: 0.05 * Double(framesSent),
                       "\(file): \(probe.videoFrames) frames recorded, \(framesSent) sent", line: line)
        XCTAssertGreaterThan(probe.audioFrames, 300, "audio present", line: line)
        XCTAssertEqual(probe.barcodes.count, probe.videoFrames, line: line)
        let steps = zip(probe.barcodes, probe.barcodes.dropFirst()).map { $1 - $0 }
        XCTAssertTrue(steps.allSatisfy { $0 > 0 }, "frames in order: \(probe.barcodes.prefix(20))", line: line)
        XCTAssertGreaterThanOrEqual(Double(steps.filter { $0 == 1 }.count), 0.95 * Double(steps.count), line: line)
    }

    // MARK: - Members by codec

    /// An H264 member (aiortc's encoder, the router's H264 parameters, packetization-mode 1):
    /// one Matroska file with an avcC CodecPrivate and Opus.
    func testH264MemberIsRecorded() throws {
        let server = try RoomServerProcess(["--router-codecs", "h264-vp9", "--virtual-members", "1",
                                            "--virtual-member-codec", "1001=h264"])
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                 "--duration", "12", "--json"], timeout: 45)
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        XCTAssertEqual(recorded.count, 1, "\(recorded)")
        let file = try self.file(of: "1001", in: dir)
        XCTAssertTrue(file.hasSuffix(".mkv"), file)
        XCTAssertEqual(try trackCodecs(file), ["V_MPEG4/ISO/AVC", "A_OPUS"])
        let (status, info) = try mkvinfo(file)
        XCTAssertEqual(status, 0, info)
        XCTAssertTrue(info.contains("H.264 profile"), "mkvinfo reads the avcC CodecPrivate: \(info.prefix(3000))")
        let sent = try XCTUnwrap(try videoFramesSent(server)["1001"])
        try assertWholeRecording(file, framesSent: sent)
    }

    /// A VP9 member (pre-encoded, packetized by ffmpeg's RTP muxer, replayed): WebM with V_VP9.
    func testVP9MemberIsRecorded() throws {
        let server = try RoomServerProcess(["--router-codecs", "h264-vp9", "--virtual-members", "1",
                                            "--virtual-member-codec", "1001=vp9"])
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                 "--duration", "12", "--json"], timeout: 45)
        XCTAssertEqual(run.status, 0, run.stderr)
        let file = try self.file(of: "1001", in: dir)
        XCTAssertTrue(file.hasSuffix(".webm"), file)
        XCTAssertEqual(try trackCodecs(file), ["V_VP9", "A_OPUS"])
        let sent = try XCTUnwrap(try videoFramesSent(server)["1001"])
        XCTAssertGreaterThan(sent, 120, "about 10 s of 15 fps after the first key frame")
        try assertWholeRecording(file, framesSent: sent)
    }

    /// kill -9 in the middle of recording an H264 and a VP9 member: both files play up to at
    /// least the 8th of 10 seconds.
    func testKilledRecordingStillPlaysForEachCodec() throws {
        let server = try RoomServerProcess(["--router-codecs", "h264-vp9", "--virtual-members", "2",
                                            "--virtual-member-codec", "1001=h264", "--virtual-member-codec", "1002=vp9"])
        let dir = try outputDirectory()
        nonisolated(unsafe) var sent: [String: (video: Int, audio: Int)] = [:]
        _ = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path], timeout: 120) { process in
            // 10 s of each member's video sent to nacho, then kill -9.
            for member in ["1001", "1002"] { try server.waitUntilSent(150, of: "video", by: member) }
            for member in ["1001", "1002"] {
                let video = try XCTUnwrap(try server.liveConsumers(of: member, kind: "video").first).framesSent
                sent[member] = (video, try XCTUnwrap(try server.liveConsumers(of: member, kind: "audio").first).framesSent)
            }
            kill(process.processIdentifier, SIGKILL)
        }
        for (member, suffix) in [("1001", ".mkv"), ("1002", ".webm")] {
            let file = try self.file(of: member, in: dir)
            XCTAssertTrue(file.hasSuffix(suffix), file)
            let probe = try probe(file)
            XCTAssertEqual(probe.decodeErrors, "", file)
            // kill -9 may cost what was not yet on disk: at most the last 2 s (and the VP9 replay
            // starts at its next key frame, at most 2 s in).
            let (video, audio) = try XCTUnwrap(sent[member])
            XCTAssertGreaterThanOrEqual(probe.videoFrames, video - 4 * 15, "\(file): \(probe.videoFrames) frames on disk, \(video) sent")
            XCTAssertGreaterThanOrEqual(probe.lastVideoTime, Double(video) / 15 - 4, "\(file) decodable up to 2 s before the kill")
            XCTAssertGreaterThanOrEqual(probe.audioFrames, audio - 2 * 50, "\(file): \(probe.audioFrames) audio frames on disk, \(audio) sent")
        }
    }

    // MARK: - Router variants

    /// A router that lists H264 before VP8 (and VP9): nacho still sends VP8 (its device prefers
    /// VP8 when the router has it) and records the H264 member.
    func testH264FirstRouterJoinSendsVP8AndRecordsH264() throws {
        let server = try RoomServerProcess(["--router-codecs", "h264-vp9", "--virtual-members", "1",
                                            "--virtual-member-codec", "1001=h264"])
        let dir = try outputDirectory()
        let cfg = try config(#"{"video": {"width": 320, "height": 240, "fps": 15}}"#)
        let run = try Nacho.run(["join", "--config", cfg, "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--member", "7", "--audio-source", "synthetic", "--video-source", "synthetic",
                                 "--record", dir.path, "--duration", "12", "--json"], timeout: 45)
        XCTAssertEqual(run.status, 0, run.stderr)
        let video = try sentVideo(run)
        let atServer = try XCTUnwrap(try mediaProducers(server)[try XCTUnwrap(video["producer_id"] as? String)])
        XCTAssertEqual(atServer["codec"] as? String, "video/VP8")
        let framesSent = try XCTUnwrap(video["frames"] as? Int)
        XCTAssertGreaterThanOrEqual(Double(try XCTUnwrap(atServer["frames_decoded"] as? Int)), 0.9 * Double(framesSent))
        XCTAssertEqual([atServer["width"] as? Int, atServer["height"] as? Int], [320, 240])
        let file = try self.file(of: "1001", in: dir)
        XCTAssertEqual(try trackCodecs(file), ["V_MPEG4/ISO/AVC", "A_OPUS"])
        try assertWholeRecording(file, framesSent: try XCTUnwrap(try videoFramesSent(server)["1001"]))
    }

    /// A router with VP9 and no VP8: nacho sends VP9 (the server depacketizes and decodes it) and
    /// records the member, whose video is VP9 too.
    func testVP9OnlyRouterJoinSendsVP9AndRecords() throws {
        let server = try RoomServerProcess(["--router-codecs", "vp9-only", "--virtual-members", "1"])
        let dir = try outputDirectory()
        let cfg = try config(#"{"video": {"width": 320, "height": 240, "fps": 15}}"#)
        let run = try Nacho.run(["join", "--config", cfg, "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--member", "7", "--audio-source", "synthetic", "--video-source", "synthetic",
                                 "--record", dir.path, "--duration", "12", "--json"], timeout: 45)
        XCTAssertEqual(run.status, 0, run.stderr)
        let video = try sentVideo(run)
        let atServer = try XCTUnwrap(try mediaProducers(server)[try XCTUnwrap(video["producer_id"] as? String)])
        XCTAssertEqual(atServer["codec"] as? String, "video/VP9")
        let framesSent = try XCTUnwrap(video["frames"] as? Int)
        let decoded = try XCTUnwrap(atServer["frames_decoded"] as? Int)
        XCTAssertGreaterThanOrEqual(Double(decoded), 0.9 * Double(framesSent), "decoded \(decoded) of \(framesSent): \(atServer)")
        XCTAssertEqual([atServer["width"] as? Int, atServer["height"] as? Int], [320, 240])
        let file = try self.file(of: "1001", in: dir)
        XCTAssertEqual(try trackCodecs(file), ["V_VP9", "A_OPUS"])
        try assertWholeRecording(file, framesSent: try XCTUnwrap(try videoFramesSent(server)["1001"]))
    }

    /// `--video-codec vp9` on the default router (Opus and VP8, as mediasoup's default media
    /// codecs here): nacho says what the router lacks and sends nothing, rather than falling
    /// back to VP8 behind the user's back. (This test used to skip itself on this router.)
    func testVideoCodecVP9WhereTheRouterHasNoneIsAClearError() throws {
        let server = try RoomServerProcess()
        let cfg = try config(#"{"video": {"width": 320, "height": 240, "fps": 15}}"#)
        let run = try Nacho.run(["join", "--config", cfg, "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--member", "7", "--no-audio", "--video-source", "synthetic", "--video-codec", "vp9",
                                 "--duration", "5", "--json"], timeout: 40)
        XCTAssertNotEqual(run.status, 0, "joined without VP9 on the router: \(run.stderr)")
        XCTAssertTrue(run.stderr.contains("the router offers no video/VP9"), run.stderr)
        let producers = try XCTUnwrap(try server.state()["producers"] as? [String: [[String: Any]]])
        XCTAssertFalse((producers["42"] ?? []).contains { "\($0["member_no"] ?? "")" == "7" }, "a producer was created anyway: \(producers)")
    }

    /// `--video-codec vp9` where the router lists VP9 after H264 and before VP8: nacho sends VP9
    /// (not the VP8 it would prefer) and the server decodes it.
    func testVideoCodecVP9OnTheH264VP9Router() throws {
        let server = try RoomServerProcess(["--router-codecs", "h264-vp9"])
        let cfg = try config(#"{"video": {"width": 320, "height": 240, "fps": 15}}"#)
        let run = try Nacho.run(["join", "--config", cfg, "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--member", "7", "--no-audio", "--video-source", "synthetic", "--video-codec", "vp9",
                                 "--duration", "8", "--json"], timeout: 40)
        XCTAssertEqual(run.status, 0, run.stderr)
        let video = try sentVideo(run)
        let atServer = try XCTUnwrap(try mediaProducers(server)[try XCTUnwrap(video["producer_id"] as? String)])
        XCTAssertEqual(atServer["codec"] as? String, "video/VP9")
        let framesSent = try XCTUnwrap(video["frames"] as? Int)
        XCTAssertGreaterThanOrEqual(Double(try XCTUnwrap(atServer["frames_decoded"] as? Int)), 0.9 * Double(framesSent), "\(atServer)")
        XCTAssertEqual([atServer["width"] as? Int, atServer["height"] as? Int], [320, 240])
    }

    // MARK: - Packet-level forwarding

    /// One nacho sends 320x240 at 15 fps, another records it through the server's packet-level
    /// forwarding: every frame arrives (the old decode/re-encode relay lost about half), in order.
    func testForwardedProducerArrivesAtFullFrameRate() throws {
        let server = try RoomServerProcess()
        let dir = try outputDirectory()
        let cfg = try config(#"{"video": {"width": 320, "height": 240, "fps": 15}}"#)
        let producer = Process()
        producer.executableURL = Repository.nacho
        producer.arguments = ["join", "--config", cfg, "--edge", server.edge, "--origin", server.origin, "--room", "42",
                              "--member", "1", "--audio-source", "synthetic", "--video-source", "synthetic", "--duration", "60"]
        producer.standardOutput = FileHandle.nullDevice
        producer.standardError = FileHandle.nullDevice
        try producer.run()
        defer { if producer.isRunning { producer.terminate() } }
        try waitForVideo(of: "1", on: server)
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "2", "--out", dir.path,
                                 "--duration", "10"], timeout: 40)
        XCTAssertEqual(run.status, 0, run.stderr)
        let file = try self.file(of: "1", in: dir)
        let state = try server.state()
        let consumers = try XCTUnwrap((state["media"] as? [String: Any])?["consumers"] as? [String: [String: Any]])
        let video = try XCTUnwrap(consumers.values.first { $0["kind"] as? String == "video" }, "\(consumers)")
        XCTAssertEqual(video["mode"] as? String, "forward")
        let forwarded = try XCTUnwrap(video["frames_sent"] as? Int)
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        XCTAssertEqual([probe.width, probe.height], [320, 240])
        // 10 s at 15 fps, less at most one key-frame wait at the start.
        XCTAssertGreaterThanOrEqual(Double(probe.videoFrames), 0.9 * 150, "\(probe.videoFrames) frames of 10 s at 15 fps")
        XCTAssertEqual(Double(probe.videoFrames), Double(forwarded), accuracy: 0.1 * Double(forwarded),
                       "\(probe.videoFrames) frames recorded, \(forwarded) forwarded")
        let steps = zip(probe.barcodes, probe.barcodes.dropFirst()).map { $1 - $0 }
        XCTAssertTrue(steps.allSatisfy { $0 > 0 }, "nacho's frames in order: \(probe.barcodes.prefix(20))")
        XCTAssertGreaterThanOrEqual(Double(steps.filter { $0 == 1 }.count), 0.95 * Double(steps.count),
                                    "consecutive frames: \(probe.barcodes.prefix(40))")
        XCTAssertGreaterThan(probe.audioFrames, 450)
    }

    // MARK: - Simulcast

    /// A simulcast publisher as browsers make one without rids (3 VP8 encodings, SSRC + RTX each,
    /// 1/4, 1/2 and full size; the test server's Python client, since nacho does not send
    /// simulcast yet): every layer reaches the server and decodes at its size; a consumer gets one
    /// layer (the highest, or --simulcast-layer), rewritten to its single SSRC.
    private func simulcastPublisher(_ server: RoomServerProcess, seconds: Int) throws -> Process {
        let process = Process()
        process.executableURL = Repository.python
        process.arguments = ["-m", "roomserver.simulcast_client", "--origin", server.origin, "--room", "42", "--member", "1",
                             "--duration", String(seconds)]
        process.currentDirectoryURL = Repository.root.appendingPathComponent("Tests/RoomServer")
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        addTeardownBlock { if process.isRunning { process.terminate() } }
        return process
    }

    private func assertSimulcastLayer(arguments: [String], recordSeconds: Int, expected: [Int], layer: Int) throws {
        let server = try RoomServerProcess(arguments)
        let publisher = try simulcastPublisher(server, seconds: recordSeconds + 30)
        try waitForVideo(of: "1", on: server)
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                 "--duration", String(recordSeconds), "--json"], timeout: 40)
        XCTAssertEqual(run.status, 0, run.stderr)
        let producers = try mediaProducers(server)
        let video = try XCTUnwrap(producers.values.first { $0["kind"] as? String == "video" }, "\(producers)")
        let layers = try XCTUnwrap(video["layers"] as? [[String: Any]], "\(video)")
        XCTAssertEqual(layers.count, 3)
        for (index, size) in [[80, 60], [160, 120], [320, 240]].enumerated() {
            XCTAssertGreaterThan(layers[index]["packets"] as? Int ?? 0, 50, "layer \(index) arrives: \(layers[index])")
            XCTAssertGreaterThan(layers[index]["frames_decoded"] as? Int ?? 0, 50, "layer \(index) decodes: \(layers[index])")
            XCTAssertEqual([layers[index]["width"] as? Int ?? 0, layers[index]["height"] as? Int ?? 0], size, "layer \(index)")
        }
        let consumers = try XCTUnwrap((try server.state()["media"] as? [String: Any])?["consumers"] as? [String: [String: Any]])
        let consumer = try XCTUnwrap(consumers.values.first { $0["kind"] as? String == "video" }, "\(consumers)")
        XCTAssertEqual(consumer["layer"] as? Int, layer, "\(consumer)")
        let file = try self.file(of: "1", in: dir)
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        XCTAssertEqual([probe.width, probe.height], expected)
        let forwarded = try XCTUnwrap(consumer["frames_sent"] as? Int)
        XCTAssertEqual(Double(probe.videoFrames), Double(forwarded), accuracy: 0.05 * Double(forwarded))
        XCTAssertGreaterThanOrEqual(Double(probe.videoFrames), 15 * Double(recordSeconds - 2) * 0.95, "key frame every 2 s at most")
        publisher.terminate()
        publisher.waitUntilExit()
    }

    /// nacho's own simulcast producer (`join --simulcast`): three VP8 encodings, each with its
    /// SSRC and RTX, decoding at 1/4, 1/2 and full size at the server; another nacho records the
    /// full-size layer.
    func testNachoSimulcastProducerSendsThreeLayers() throws {
        let server = try RoomServerProcess()
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(#"{"video": {"width": 320, "height": 240, "fps": 15, "bitrate": 600000}}"#.utf8).write(to: config)
        addTeardownBlock { try? FileManager.default.removeItem(at: config) }
        let producer = try RunningNacho(["join", "--config", config.path, "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                         "--member", "1", "--no-audio", "--video-source", "synthetic", "--simulcast", "--json"])
        try waitForVideo(of: "1", on: server)
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                 "--duration", "8", "--json"], timeout: 40)
        XCTAssertEqual(run.status, 0, run.stderr)
        producer.signal(SIGINT)
        let produced = producer.finish()
        XCTAssertEqual(produced.status, 0, produced.stderr)
        // nacho counts the full-size layer's frames; the server decodes every layer of them.
        let framesSent = try XCTUnwrap(try sentVideo(produced)["frames"] as? Int)
        XCTAssertGreaterThan(framesSent, 100, "the 8 s recording and more at 15 fps")
        let producers = try mediaProducers(server)
        let video = try XCTUnwrap(producers.values.first { $0["kind"] as? String == "video" }, "\(producers)")
        let layers = try XCTUnwrap(video["layers"] as? [[String: Any]], "\(video)")
        XCTAssertEqual(layers.count, 3)
        for (index, size) in [[80, 60], [160, 120], [320, 240]].enumerated() {
            let decoded = layers[index]["frames_decoded"] as? Int ?? 0
            XCTAssertGreaterThanOrEqual(Double(decoded), 0.9 * Double(framesSent), "layer \(index) decodes \(decoded) of \(framesSent): \(layers[index])")
            XCTAssertEqual([layers[index]["width"] as? Int ?? 0, layers[index]["height"] as? Int ?? 0], size, "layer \(index)")
            XCTAssertEqual(layers[index]["decode_errors"] as? Int ?? 0, 0, "layer \(index)")
        }
        XCTAssertLessThanOrEqual(layers[2]["frames_decoded"] as? Int ?? 0, framesSent)
        let consumers = try XCTUnwrap((try server.state()["media"] as? [String: Any])?["consumers"] as? [String: [String: Any]])
        let forwarded = try XCTUnwrap(consumers.values.first { $0["kind"] as? String == "video" }?["frames_sent"] as? Int, "\(consumers)")
        XCTAssertGreaterThan(forwarded, 90, "8 s of 15 fps, less the first key frame's wait")
        let file = try self.file(of: "1", in: dir)
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        XCTAssertEqual([probe.width, probe.height], [320, 240])
        XCTAssertLessThanOrEqual(probe.videoFrames, forwarded)
        XCTAssertGreaterThanOrEqual(Double(probe.videoFrames), 0.93 * Double(forwarded), "\(probe.videoFrames) frames recorded, \(forwarded) forwarded")
        let steps = zip(probe.barcodes, probe.barcodes.dropFirst()).map { $1 - $0 }
        XCTAssertTrue(steps.allSatisfy { $0 > 0 }, "frames in order: \(probe.barcodes.prefix(20))")
        XCTAssertGreaterThanOrEqual(Double(steps.filter { $0 == 1 }.count), 0.95 * Double(steps.count), "consecutive frames")
    }

    func testSimulcastProducerIsForwardedOneLayer() throws {
        try assertSimulcastLayer(arguments: [], recordSeconds: 10, expected: [320, 240], layer: 2)
    }

    func testSimulcastLayerCanBeChosen() throws {
        try assertSimulcastLayer(arguments: ["--simulcast-layer", "1"], recordSeconds: 6, expected: [160, 120], layer: 1)
    }

    /// The server moves a consumer from the highest layer to the lowest at a key frame of the
    /// lowest (as mediasoup does on setPreferredLayers): the one file holds both sizes, decodes,
    /// and no frame goes missing around the switch.
    func testSimulcastLayerSwitchesAtAKeyFrame() throws {
        let server = try RoomServerProcess()
        let publisher = try simulcastPublisher(server, seconds: 60)
        try waitForVideo(of: "1", on: server)
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                 "--json"], timeout: 120) { process in
            // 4 s of the highest layer, then the lowest until 4 s of it went out too.
            let top = try server.waitUntilSent(60, of: "video", by: "1")
            try server.post("simulcast-layer?layer=0")
            try server.waitUntilSent(top.framesSent + 60, of: "video", by: "1")
            try Wait.until("the switch") { try server.liveConsumers(of: "1", kind: "video").first?.counters["layer"] as? Int == 0 }
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        let consumers = try XCTUnwrap((try server.state()["media"] as? [String: Any])?["consumers"] as? [String: [String: Any]])
        let consumer = try XCTUnwrap(consumers.values.first { $0["kind"] as? String == "video" }, "\(consumers)")
        XCTAssertEqual(consumer["layer"] as? Int, 0)
        XCTAssertEqual(consumer["layer_switches"] as? Int, 2, "started on the highest, switched once")
        let file = try self.file(of: "1", in: dir)
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        let forwarded = try XCTUnwrap(consumer["frames_sent"] as? Int)
        XCTAssertEqual(Double(probe.videoFrames), Double(forwarded), accuracy: 0.05 * Double(forwarded))
        let (_, sizes, _) = try self.run(try tool("ffprobe"), ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                                                "frame=width,height", "-of", "csv=p=0", file])
        var runs: [(String, Int)] = []
        for size in String(decoding: sizes, as: UTF8.self).split(separator: "\n").map(String.init) {
            if runs.last?.0 == size { runs[runs.count - 1].1 += 1 } else { runs.append((size, 1)) }
        }
        XCTAssertEqual(runs.map(\.0), ["320,240", "80,60"], "\(runs)")
        publisher.terminate()
        publisher.waitUntilExit()
    }

    /// Waits until the server decodes a member's video producer (every layer of a simulcast one).
    private func waitForVideo(of member: String, on server: RoomServerProcess) throws {
        try Wait.until("member \(member)'s video to reach the server") {
            let owners = try server.producerOwners()
            return try mediaProducers(server).contains { id, producer in
                let layers = producer["layers"] as? [[String: Any]] ?? [producer]
                return owners[id] == member && producer["kind"] as? String == "video"
                    && layers.allSatisfy { ($0["frames_decoded"] as? Int ?? 0) > 0 }
            }
        }
    }

    private func sentVideo(_ run: NachoRun) throws -> [String: Any] {
        for line in run.stdoutLines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if object["direction"] as? String == "send", object["kind"] as? String == "video" { return object }
        }
        throw RoomServerError(message: "no send line for video in: \(run.stdout)")
    }
}
