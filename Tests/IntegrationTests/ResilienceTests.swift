import Foundation
import XCTest

/// Faults a long unattended run meets, against the test room server: servers that never
/// acknowledge `resume`, restart, lose their media path for 40 s, announce producers twice or
/// cannot serve one of them; and stopping in the middle of any of it.
final class ResilienceTests: XCTestCase {
    private func config(_ json: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(json.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    private func consumeRequests(_ server: RoomServerProcess) throws -> Int {
        let stats = try XCTUnwrap(try server.state()["stats"] as? [String: Any])
        return (stats["requests"] as? [String: Int])?["consume"] ?? 0
    }

    /// PROTOCOL.md's variant: consumers start unpaused and `resume` has no working handler.
    /// Every producer is consumed at once; audio and video land in one file from the start.
    func testResumeThatIsNeverAnsweredDelaysNothing() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--fault", "resume=noack"])
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                 "--duration", "9", "--request-timeout", "3", "--json"], timeout: 40)
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        XCTAssertEqual(recorded.count, 1, "one file, no rotation: \(recorded)")
        let file = try XCTUnwrap(recorded.first)
        XCTAssertEqual(try trackCodecs(file), ["V_VP8", "A_OPUS"])
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        XCTAssertLessThan(probe.firstVideoTime, 1.5, "video consumed together with audio, not a request timeout later")
        XCTAssertGreaterThan(probe.videoFrames, 60)
        // The unanswered resumes are worth a warning each, not silence.
        XCTAssertEqual(run.stderr.components(separatedBy: "resume failed").count - 1, 2, run.stderr)
    }

    /// A consumer the server cannot serve (here: video never answered) is skipped with one
    /// warning; everyone else is recorded.
    func testProducerThatCannotBeConsumedIsSkipped() throws {
        let server = try RoomServerProcess(["--virtual-members", "2", "--fault", "consume:video=noack"])
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                 "--duration", "7", "--request-timeout", "2", "--json"], timeout: 40)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr.components(separatedBy: "skipping a producer that cannot be consumed").count - 1, 2, run.stderr)
        let recorded = try files(in: dir)
        XCTAssertEqual(recorded.count, 2, "\(recorded)")
        for file in recorded {
            XCTAssertEqual(try trackCodecs(file), ["A_OPUS"], file)
            XCTAssertGreaterThan(try probe(file).audioSeconds, 4, file)
        }
    }

    /// The same producers announced twice are consumed once.
    func testProducersAnnouncedTwiceAreConsumedOnce() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--variant", "announce-twice"])
        let run = try Nacho.run(["join", "--edge", server.edge, "--room", "42", "--member", "7", "--no-audio", "--no-video",
                                 "--duration", "4", "--json"], timeout: 30)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try consumeRequests(server), 2, "one consume per producer")
        XCTAssertEqual(run.stdoutLines.count, 2, run.stdout)
    }

    /// The server dies and comes back on the same ports with the same members: nacho rejoins,
    /// and the new file lists exactly the live tracks (no empty tracks of the dead session).
    func testServerRestartGivesAFileWithOnlyTheLiveTracks() throws {
        var server: RoomServerProcess? = try RoomServerProcess(["--virtual-members", "1"])
        let edgePort = RoomServerProcess.port(server!.edge)
        let originPort = RoomServerProcess.port(server!.origin)
        let dir = try outputDirectory()
        nonisolated(unsafe) var restarted: RoomServerProcess?
        let run = try Nacho.run(["record", "--edge", server!.edge, "--room", "42", "--member", "7", "--out", dir.path, "--json",
                                 "--log-level", "notice"], timeout: 60) { process in
            Thread.sleep(forTimeInterval: 7)
            server?.kill()
            server = nil
            Thread.sleep(forTimeInterval: 1)
            restarted = try RoomServerProcess(["--virtual-members", "1", "--edge-port", "\(edgePort)", "--origin-port", "\(originPort)"])
            Thread.sleep(forTimeInterval: 12)
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertNotNil(restarted)
        let recorded = try files(in: dir)
        XCTAssertEqual(recorded.count, 2, "\(recorded)\n\(run.stderr)")
        for file in recorded {
            XCTAssertEqual(try trackCodecs(file), ["V_VP8", "A_OPUS"], "only live tracks, video first: \(file)")
            let probe = try probe(file)
            XCTAssertEqual(probe.decodeErrors, "", file)
            XCTAssertGreaterThan(probe.videoFrames, 30, file)
        }
        XCTAssertTrue(run.stderr.contains("back in the room"), run.stderr)
    }

    /// The media path goes dark for 40 s while signaling stays up: ICE consent fails, nacho
    /// reconnects until the path is back and records into a new file; both files play.
    func testRecordingContinuesAfterAFortySecondMediaOutage() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let dir = try outputDirectory()
        let settings = try config(#"{"iceConsentTimeout": 5}"#)
        let run = try Nacho.run(["record", "--config", settings, "--edge", server.edge, "--room", "42", "--member", "7",
                                 "--out", dir.path, "--json", "--log-level", "notice"], timeout: 150) { process in
            Thread.sleep(forTimeInterval: 8)
            try server.post("outage?seconds=40")
            // Back at 48 s; a reconnect attempt takes up to ~15 s (UDP, then TCP) plus backoff.
            let deadline = Date().addingTimeInterval(90)
            while Date() < deadline {
                Thread.sleep(forTimeInterval: 2)
                if ((try? self.files(in: dir).count) ?? 0) >= 2 { break }
            }
            Thread.sleep(forTimeInterval: 8)
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        XCTAssertGreaterThanOrEqual(recorded.count, 2, "\(recorded)\n\(run.stderr)")
        for file in [recorded.first!, recorded.last!] {
            let probe = try probe(file)
            XCTAssertEqual(probe.decodeErrors, "", file)
            XCTAssertGreaterThan(probe.videoFrames, 40, file)
            XCTAssertEqual(try trackCodecs(file), ["V_VP8", "A_OPUS"], file)
        }
        XCTAssertTrue(run.stderr.contains("back in the room"), run.stderr)
        XCTAssertTrue(run.stderr.contains("outage"), "the outage is logged with its length: \(run.stderr)")
    }

    /// `join` (sending and receiving) rides out a media outage too: both halves come back.
    func testJoinComesBackAfterAMediaOutage() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let settings = try config(#"{"iceConsentTimeout": 3}"#)
        let run = try Nacho.run(["join", "--config", settings, "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--member", "7", "--audio-source", "synthetic", "--no-video", "--json", "--log-level", "notice"],
                                timeout: 120) { process in
            Thread.sleep(forTimeInterval: 5)
            try server.post("outage?seconds=12")
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                Thread.sleep(forTimeInterval: 1)
                let stats = (try? server.state()["stats"] as? [String: Any]) ?? [:]
                if ((stats["requests"] as? [String: Int])?["produce"] ?? 0) >= 2 { break }
            }
            Thread.sleep(forTimeInterval: 4)
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        let stats = try XCTUnwrap(try server.state()["stats"] as? [String: Any])
        let requests = try XCTUnwrap(stats["requests"] as? [String: Int])
        XCTAssertGreaterThanOrEqual(requests["produce"] ?? 0, 2, "the origin half produced again: \(requests)")
        XCTAssertGreaterThanOrEqual(requests["consume"] ?? 0, 4, "the edge half consumed again: \(requests)")
        XCTAssertEqual(run.stderr.components(separatedBy: "back in the room").count - 1, 2, "edge and origin: \(run.stderr)")
    }

    /// SIGTERM while ICE gets no answer (mid-setup): out within 2 s.
    func testStopWhileConnectingIsQuick() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        try server.post("outage?seconds=60")
        let dir = try outputDirectory()
        nonisolated(unsafe) var signalled = Date()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path, "--json"],
                                timeout: 30) { process in
            Thread.sleep(forTimeInterval: 3)
            signalled = Date()
            kill(process.processIdentifier, SIGTERM)
        }
        let took = Date().timeIntervalSince(signalled)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertLessThan(took, 2.0, "left within 2 s of SIGTERM")
    }

    /// SIGTERM while reconnecting after the media path died: the first file is finished
    /// (cues, duration) and nacho is out within 2 s.
    func testStopWhileReconnectingFinishesTheFile() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let dir = try outputDirectory()
        let settings = try config(#"{"iceConsentTimeout": 2}"#)
        nonisolated(unsafe) var signalled = Date()
        let run = try Nacho.run(["record", "--config", settings, "--edge", server.edge, "--room", "42", "--member", "7",
                                 "--out", dir.path, "--json", "--log-level", "notice"], timeout: 60) { process in
            Thread.sleep(forTimeInterval: 7)
            try server.post("outage?seconds=60")
            Thread.sleep(forTimeInterval: 5)  // consent lost after 2 s; now in a reconnect attempt
            signalled = Date()
            kill(process.processIdentifier, SIGTERM)
        }
        let took = Date().timeIntervalSince(signalled)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertLessThan(took, 2.0, "left within 2 s of SIGTERM")
        XCTAssertTrue(run.stderr.contains("reconnecting"), run.stderr)
        let file = try XCTUnwrap(try files(in: dir).first)
        let (status, info) = try mkvinfo(file)
        XCTAssertEqual(status, 0, info)
        XCTAssertTrue(info.contains("Cues"), "finished properly: \(info)")
        XCTAssertEqual(try probe(file).decodeErrors, "")
    }

    /// A second Ctrl-C quits at once (here while `exitRoom` goes unanswered), and the files are
    /// still finished (cues and duration).
    func testSecondSignalQuitsAtOnceAndStillFinishesTheFiles() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--fault", "exitRoom=noack"])
        let dir = try outputDirectory()
        nonisolated(unsafe) var signalled = Date()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path, "--json"],
                                timeout: 30) { process in
            Thread.sleep(forTimeInterval: 7)
            kill(process.processIdentifier, SIGINT)
            Thread.sleep(forTimeInterval: 0.3)
            signalled = Date()
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 130, run.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 0.8, "the second signal does not wait for the server")
        let file = try XCTUnwrap(try files(in: dir).first)
        let (status, info) = try mkvinfo(file)
        XCTAssertEqual(status, 0, info)
        XCTAssertTrue(info.contains("Cues"), "finished: \(info)")
        XCTAssertEqual(try probe(file).decodeErrors, "")
    }

    /// A member with audio and a paused camera is recorded from its first second, and a
    /// kill -9 after 10 s leaves at least 8 s of audio on disk.
    func testAudioWithPausedVideoIsRecordedFromTheFirstSecond() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--paused-video", "1001"])
        let dir = try outputDirectory()
        _ = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path], timeout: 40) { process in
            Thread.sleep(forTimeInterval: 10)
            kill(process.processIdentifier, SIGKILL)
        }
        let file = try XCTUnwrap(try files(in: dir).first)
        XCTAssertEqual(try trackCodecs(file), ["A_OPUS"], "no empty video track")
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        XCTAssertGreaterThanOrEqual(probe.audioSeconds, 8, "audio from the first second survives kill -9")
    }

    /// The camera comes on later: video joins the same file, late.
    func testVideoResumedLaterJoinsTheSameFile() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--paused-video", "1001"])
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path, "--json",
                                 "--log-level", "notice"], timeout: 40) { process in
            Thread.sleep(forTimeInterval: 7)
            try server.post("members/1001/resume-video")
            Thread.sleep(forTimeInterval: 7)
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        XCTAssertEqual(recorded.count, 1, "\(recorded)")
        let file = try XCTUnwrap(recorded.first)
        XCTAssertEqual(try trackCodecs(file), ["V_VP8", "A_OPUS"])
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        XCTAssertGreaterThan(probe.firstVideoTime, 3, "video starts when the camera came on")
        XCTAssertGreaterThan(probe.videoFrames, 40)
        XCTAssertGreaterThan(probe.audioSeconds, 10)
        XCTAssertTrue(run.stderr.contains("producer resumed"), run.stderr)
    }
}
