import Foundation
import XCTest

/// Issue 16, item 3: an independent aiortc viewer (`roomserver.aiortc_viewer`: aiortc's own
/// jitter buffer, VP8 depacketizer and libvpx decoder, NACK, PLI and REMB, as pymediasoup
/// receives) of two `nacho bots` simulcast publishers that share one encoder. The server switches
/// each consumer as mediasoup 3.14's SimulcastConsumer does for a receiver whose estimate grows:
/// from layer 0 up a layer every 1.5 s, a key frame of the target asked for each time, the new
/// layer's timestamps mapped through the publishers' sender reports, sequence numbers and VP8
/// picture ids continuous (`simulcast_switch.py`).
final class SimulcastViewerTests: XCTestCase {

    func testAnAiortcViewerDecodesBothSimulcastBotPublishersAcrossLayerSwitches() throws {
        try assertViewerDecodesBoth(server: ["--simulcast-ramp", "1.5"], viewer: [], topLayer: true)
    }

    /// The layers chosen by the server's estimate of the viewer's transport, which is in REMB
    /// mode for this viewer (bandwidth.py: the last REMB is the transport's budget, handed out
    /// layer by layer as mediasoup does). The viewer sends one estimate for its whole transport
    /// (`--shared-remb`, as libwebrtc does): with aiortc's own one estimate per receiver, each
    /// REMB covers one stream, and with layers larger than these bots' one consumer can be left
    /// with a low layer or none for seconds (issue 16 item 3; Tests/RoomServer/README.md).
    func testAViewerWithATransportWideEstimateDecodesBothWhenREMBChoosesTheLayers() throws {
        try assertViewerDecodesBoth(server: [], viewer: ["--shared-remb"], topLayer: false)
    }

    private func assertViewerDecodesBoth(server arguments: [String], viewer viewerArguments: [String], topLayer: Bool) throws {
        let server = try RoomServerProcess(arguments)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(#"{"video": {"width": 320, "height": 240, "fps": 15, "bitrate": 600000}}"#.utf8).write(to: config)
        addTeardownBlock { try? FileManager.default.removeItem(at: config) }
        var viewer: [String: Any] = [:]
        var before: [String: Int] = [:]
        var after: [String: Int] = [:]
        let run = try Nacho.run(["bots", "--config", config.path, "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--video-publishers", "2", "--audio-publishers", "0", "--subscribers", "0", "--simulcast",
                                 "--duration", "90", "--json"], timeout: 120) { process in
            try Wait.until("both publishers' three layers decoding at the server") {
                try self.layerZeroFrames(server).count == 2 && self.layerZeroFrames(server).values.allSatisfy { $0 > 0 }
            }
            before = try self.layerZeroFrames(server)
            viewer = try self.view(server, seconds: 14, arguments: viewerArguments)
            after = try self.layerZeroFrames(server)
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, "\(run.stderr)\n\(run.stdout)")
        let viewed = try XCTUnwrap(viewer["viewed"] as? [String: [String: Any]], "\(viewer)")
        XCTAssertEqual(Set(viewed.keys), Set(before.keys), "the viewer consumed both publishers' video")
        let consumers = try XCTUnwrap((try server.state()["media"] as? [String: Any])?["consumers"] as? [String: [String: Any]])
        var figures: [String] = []
        for (producer, view) in viewed.sorted(by: { $0.key < $1.key }) {
            let id = try XCTUnwrap(view["consumer_id"] as? String)
            let atServer = try XCTUnwrap(consumers[id + ":closed"] ?? consumers[id], "consumer \(id) at the server")
            let sent = try XCTUnwrap(atServer["frames_sent"] as? Int)
            let decoded = try XCTUnwrap(view["frames_decoded"] as? Int)
            let published = (after[producer] ?? 0) - (before[producer] ?? 0)
            figures.append("member \(view["member_no"] ?? "?"): decoded \(decoded) of \(sent) forwarded (\(published) published meanwhile), "
                           + "layer \(atServer["layer"] ?? "?") after \(atServer["layer_switches"] ?? "?") switches, "
                           + "\(atServer["ts_extra_offsets"] ?? 0) timestamp extra offsets, \(view["decode_errors"] ?? "?") decode errors, "
                           + "longest gap \(view["longest_gap_s"] ?? "?") s")
            if topLayer {
                // Every layer was gone through: the start on layer 0, then 1 and 2.
                XCTAssertEqual(atServer["layer"] as? Int, 2, "\(atServer)")
                XCTAssertGreaterThanOrEqual(atServer["layer_switches"] as? Int ?? 0, 3, "\(atServer)")
            }
            // The server forwarded most of what the publisher sent while the viewer watched (less
            // its joining, connecting and first key frame): a consumer left without a layer
            // gets a quarter of it or less.
            XCTAssertGreaterThanOrEqual(Double(sent), 0.75 * Double(published), "member \(view["member_no"] ?? "?")")
            XCTAssertGreaterThanOrEqual(Double(decoded), 0.9 * Double(sent), "member \(view["member_no"] ?? "?"): \(view)")
            XCTAssertLessThanOrEqual(decoded, sent)
        }
        print("aiortc viewer \(viewerArguments) of two simulcast bot publishers, server \(arguments): \(figures.joined(separator: "; "))")
    }

    /// The switching rules themselves, on made-up packets (`tests/test_simulcast_switch.py`):
    /// sender-report timestamp mapping, extra offsets, a key frame dropped then given up on,
    /// the sequence number skipped after a cut frame, no hole for dropped packets, PictureID
    /// continuity.
    func testTheServerSwitchesLayersByMediasoupsRules() throws {
        let process = Process()
        process.executableURL = Repository.python
        process.arguments = ["-m", "unittest", "discover", "-s", "tests", "-p", "test_simulcast_switch.py"]
        process.currentDirectoryURL = Repository.root.appendingPathComponent("Tests/RoomServer")
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("OK"), output)
    }

    /// Frames the server decoded of each video producer's lowest layer, by producer id.
    private func layerZeroFrames(_ server: RoomServerProcess) throws -> [String: Int] {
        let producers = (try server.state()["media"] as? [String: Any])?["producers"] as? [String: [String: Any]] ?? [:]
        var frames: [String: Int] = [:]
        for (id, producer) in producers where producer["kind"] as? String == "video" {
            guard let layers = producer["layers"] as? [[String: Any]], layers.count == 3 else { continue }
            frames[id] = layers.map { $0["frames_decoded"] as? Int ?? 0 }.min()
        }
        return frames
    }

    /// Runs the aiortc viewer for `seconds` and returns its last JSON line.
    private func view(_ server: RoomServerProcess, seconds: Int, arguments: [String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = Repository.python
        process.arguments = ["-m", "roomserver.aiortc_viewer", "--edge", server.edge, "--room", "42", "--member", "9001",
                             "--duration", String(seconds)] + arguments
        process.currentDirectoryURL = Repository.root.appendingPathComponent("Tests/RoomServer")
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds + 40), execute: killer)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        killer.cancel()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        let last = try XCTUnwrap(lines.last { $0.contains("\"viewed\"") }, "viewer output: \(lines)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
    }
}
