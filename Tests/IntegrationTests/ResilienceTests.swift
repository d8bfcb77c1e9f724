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
        nonisolated(unsafe) var sentBeforeTheCrash = 0
        let run = try Nacho.run(["record", "--edge", server!.edge, "--room", "42", "--member", "7", "--out", dir.path, "--json",
                                 "--log-level", "notice"], timeout: 180) { process in
            sentBeforeTheCrash = try XCTUnwrap(server).waitUntilSent(75, of: "video", by: "1001").framesSent
            server?.kill()
            server = nil
            restarted = try RoomServerProcess(["--virtual-members", "1", "--edge-port", "\(edgePort)", "--origin-port", "\(originPort)"])
            try XCTUnwrap(restarted).waitUntilSent(75, of: "video", by: "1001", timeout: 120)
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        XCTAssertEqual(recorded.count, 2, "\(recorded)\n\(run.stderr)")
        // The first file: what the dead server had sent (read just before it died; a few frames
        // more may have gone out after); the second: what the new server sent to the new consumer.
        let afterTheRestart = try XCTUnwrap(try XCTUnwrap(restarted).consumers().filter { $0.kind == "video" }.map(\.framesSent).max())
        for (file, sent) in zip(recorded, [sentBeforeTheCrash, afterTheRestart]) {
            XCTAssertEqual(try trackCodecs(file), ["V_VP8", "A_OPUS"], "only live tracks, video first: \(file)")
            let probe = try probe(file)
            XCTAssertEqual(probe.decodeErrors, "", file)
            XCTAssertGreaterThanOrEqual(Double(probe.videoFrames), 0.9 * Double(sent), "\(file): \(probe.videoFrames) frames, \(sent) sent")
            XCTAssertLessThanOrEqual(probe.videoFrames, sent + 15, file)
        }
        XCTAssertTrue(run.stderr.contains("back in the room"), run.stderr)
    }

    /// The media path goes dark for 40 s while signaling stays up: ICE consent fails, nacho
    /// reconnects until the path is back and records into a new file; both files play.
    func testRecordingContinuesAfterAFortySecondMediaOutage() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let dir = try outputDirectory()
        let settings = try config(#"{"iceConsentTimeout": 5}"#)
        nonisolated(unsafe) var before: ServerConsumer?
        let run = try Nacho.run(["record", "--config", settings, "--edge", server.edge, "--room", "42", "--member", "7",
                                 "--out", dir.path, "--json", "--log-level", "notice"], timeout: 240) { process in
            before = try server.waitUntilSent(90, of: "video", by: "1001")
            try server.post("outage?seconds=40")
            // Back at 40 s; a reconnect attempt takes up to ~15 s (UDP, then TCP) plus backoff.
            try Wait.until("video on a new consumer after the outage", timeout: 150) {
                try server.liveConsumers(of: "1001", kind: "video").contains { $0.id != before?.id && $0.framesSent >= 120 }
            }
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir)
        XCTAssertGreaterThanOrEqual(recorded.count, 2, "\(recorded)\n\(run.stderr)")
        // The first file holds what was sent before the outage; the last what the last consumer
        // (made after the outage; closed now, its count final) sent.
        let video = try server.consumers().filter { $0.kind == "video" }
        let last = try XCTUnwrap(video.filter { $0.id != before?.id }.max { $0.framesSent < $1.framesSent }, "\(video)")
        for (file, sent) in [(recorded.first!, try XCTUnwrap(before).framesSent), (recorded.last!, last.framesSent)] {
            let probe = try probe(file)
            XCTAssertEqual(probe.decodeErrors, "", file)
            XCTAssertGreaterThanOrEqual(Double(probe.videoFrames), 0.9 * Double(sent), "\(file): \(probe.videoFrames) frames, \(sent) sent")
            XCTAssertEqual(try trackCodecs(file), ["V_VP8", "A_OPUS"], file)
        }
        XCTAssertLessThanOrEqual(try probe(recorded.last!).videoFrames, last.framesSent, "no frame twice")
        XCTAssertTrue(run.stderr.contains("back in the room"), run.stderr)
        XCTAssertTrue(run.stderr.contains("outage"), "the outage is logged with its length: \(run.stderr)")
    }

    /// `join` (sending and receiving) rides out a media outage too: both halves come back.
    func testJoinComesBackAfterAMediaOutage() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let settings = try config(#"{"iceConsentTimeout": 3}"#)
        nonisolated(unsafe) var consumersBefore: Set<String> = []
        nonisolated(unsafe) var producersBefore: Set<String> = []
        let run = try Nacho.run(["join", "--config", settings, "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--member", "7", "--audio-source", "synthetic", "--no-video", "--json", "--log-level", "notice"],
                                timeout: 180) { process in
            try server.waitUntilSent(150, of: "audio", by: "1001")
            try Wait.until("nacho's audio to reach the server") { try self.receivedAudio(server).values.contains { $0 >= 100 } }
            consumersBefore = Set(try server.consumers().map(\.id))
            producersBefore = Set(try self.receivedAudio(server).keys)
            try server.post("outage?seconds=12")
            // 3 s of audio each way on the new transports.
            try Wait.until("media both ways after the outage", timeout: 120) {
                let received = try self.receivedAudio(server).filter { !producersBefore.contains($0.key) }
                let sent = try server.liveConsumers(of: "1001", kind: "audio").filter { !consumersBefore.contains($0.id) }
                return received.values.contains { $0 >= 150 } && sent.contains { $0.framesSent >= 150 }
            }
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr.components(separatedBy: "back in the room").count - 1, 2, "edge and origin: \(run.stderr)")
        let reports = try run.stdoutLines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], $0) }
        // The origin half: the server got nacho's audio on the new producer.
        let received = try receivedAudio(server)
        let newSends = reports.filter { $0["direction"] as? String == "send" && !producersBefore.contains($0["producer_id"] as? String ?? "") }
        XCTAssertFalse(newSends.isEmpty, run.stdout)
        for report in newSends {
            let sent = try XCTUnwrap(report["packets"] as? Int), arrived = received[report["producer_id"] as? String ?? ""] ?? 0
            XCTAssertLessThanOrEqual(arrived, sent, "\(report)")
            XCTAssertGreaterThanOrEqual(Double(arrived), 0.9 * Double(sent), "after the outage the server got \(arrived) of \(sent): \(report)")
        }
        XCTAssertTrue(newSends.contains { ($0["packets"] as? Int ?? 0) >= 150 }, run.stdout)
        // The edge half: nacho got what the server sent to the new consumers.
        let consumers = try server.consumers()
        let newReceives = reports.filter { $0["direction"] as? String == "receive" && !consumersBefore.contains($0["consumer_id"] as? String ?? "") }
        for report in newReceives {
            let packets = try XCTUnwrap(report["packets"] as? Int), id = try XCTUnwrap(report["consumer_id"] as? String)
            let sent = try XCTUnwrap(consumers.first { $0.id == id }, "the server has no consumer \(id)").packetsSent
            XCTAssertLessThanOrEqual(packets, sent, "\(report)")
            XCTAssertGreaterThanOrEqual(Double(packets), 0.9 * Double(sent), "after the outage nacho got \(packets) of \(sent): \(report)")
        }
        XCTAssertTrue(newReceives.contains { $0["kind"] as? String == "audio" && ($0["packets"] as? Int ?? 0) >= 150 }, run.stdout)
    }

    /// Packets the server received per audio producer of nacho's (member 7).
    private func receivedAudio(_ server: RoomServerProcess) throws -> [String: Int] {
        let media = try XCTUnwrap(try server.state()["media"] as? [String: Any])
        let producers = try XCTUnwrap(media["producers"] as? [String: [String: Any]])
        return producers.filter { $0.value["kind"] as? String == "audio" }.mapValues { $0["packets"] as? Int ?? 0 }
    }

    /// How long nacho took from saying it stops (its signal handler's line) to its end. The
    /// README promises about two seconds (a 1.5 s grace to leave in order); the bound leaves a
    /// loaded machine room to schedule the process, and still fails a stop that waits for a
    /// network timeout (ICE gives up after 10 s and more, requests time out after 10 s).
    private let stopBound: TimeInterval = 4

    private func transportCount(_ server: RoomServerProcess) throws -> Int {
        ((try server.state()["media"] as? [String: Any])?["transports"] as? [String: Any])?.count ?? 0
    }

    private func secondsToStop(_ nacho: RunningNacho) throws -> TimeInterval {
        let said = try nacho.waitForLine(containing: "nacho: stopping", timeout: 30)
        _ = nacho.finish(timeout: 60)
        return try XCTUnwrap(nacho.exitTime).timeIntervalSince(said)
    }

    /// SIGTERM while ICE gets no answer (mid-setup): out within about 2 s.
    func testStopWhileConnectingIsQuick() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        try server.post("outage?seconds=60")
        let dir = try outputDirectory()
        let nacho = try RunningNacho(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path, "--json"])
        // Mid-setup: the transport is made and its ICE checks go unanswered.
        try Wait.until("nacho's transport") { try self.transportCount(server) > 0 }
        nacho.signal(SIGTERM)
        let took = try secondsToStop(nacho)
        let run = nacho.finish()
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertLessThan(took, stopBound, "left \(took) s after its stop began")
    }

    /// SIGTERM while reconnecting after the media path died: the first file is finished
    /// (cues, duration) and nacho is out within 2 s.
    func testStopWhileReconnectingFinishesTheFile() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let dir = try outputDirectory()
        let settings = try config(#"{"iceConsentTimeout": 2}"#)
        let nacho = try RunningNacho(["record", "--config", settings, "--edge", server.edge, "--room", "42", "--member", "7",
                                      "--out", dir.path, "--json", "--log-level", "notice"])
        try server.waitUntilSent(75, of: "video", by: "1001")
        let transports = try transportCount(server)
        try server.post("outage?seconds=60")
        // Consent is lost after 2 s; then nacho is in a reconnect attempt: a new transport whose
        // ICE checks go unanswered.
        try nacho.waitForLine(containing: "reconnecting")
        try Wait.until("the reconnect attempt's transport") { try self.transportCount(server) > transports }
        nacho.signal(SIGTERM)
        let took = try secondsToStop(nacho)
        let run = nacho.finish()
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertLessThan(took, stopBound, "left \(took) s after its stop began")
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
        let nacho = try RunningNacho(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path, "--json"])
        try server.waitUntilSent(75, of: "video", by: "1001")
        nacho.signal(SIGINT)
        try nacho.waitForLine(containing: "nacho: stopping")
        // Now nacho waits for the exitRoom answer that never comes (up to its 1.5 s grace).
        try Wait.until("nacho's exitRoom") {
            ((try server.state()["stats"] as? [String: Any])?["requests"] as? [String: Int])?["exitRoom"] == 1
        }
        let signalled = Date()
        nacho.signal(SIGINT)
        let run = nacho.finish(timeout: 30)
        // 130 is the second signal's exit: the first stop would end with 0 after its grace.
        XCTAssertEqual(run.status, 130, run.stderr)
        let took = try XCTUnwrap(nacho.exitTime).timeIntervalSince(signalled)
        XCTAssertLessThan(took, stopBound, "the second signal does not wait for the server (\(took) s)")
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
        nonisolated(unsafe) var audioSent = 0
        _ = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path], timeout: 120) { process in
            // 10 s of audio sent to nacho, then kill -9.
            audioSent = try server.waitUntilSent(500, of: "audio", by: "1001").framesSent
            kill(process.processIdentifier, SIGKILL)
        }
        let file = try XCTUnwrap(try files(in: dir).first)
        XCTAssertEqual(try trackCodecs(file), ["A_OPUS"], "no empty video track")
        let probe = try probe(file)
        XCTAssertEqual(probe.decodeErrors, "")
        // kill -9 may cost what was not yet on disk: at most the last 2 s.
        XCTAssertGreaterThanOrEqual(probe.audioSeconds, Double(audioSent) / 50 - 2,
                                    "audio from the first second survives kill -9 (\(audioSent) frames sent)")
        XCTAssertGreaterThanOrEqual(probe.audioFrames, audioSent - 2 * 50, "\(probe.audioFrames) frames on disk, \(audioSent) sent")
    }

    /// The camera comes on later: video joins the same file, late.
    func testVideoResumedLaterJoinsTheSameFile() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--paused-video", "1001"])
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path, "--json",
                                 "--log-level", "notice"], timeout: 120) { process in
            try server.waitUntilSent(250, of: "audio", by: "1001")  // 5 s with the camera off
            try server.post("members/1001/resume-video")
            try server.waitUntilSent(90, of: "video", by: "1001")
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
        let consumers = try server.consumers()
        let video = try XCTUnwrap(consumers.first { $0.kind == "video" }), audio = try XCTUnwrap(consumers.first { $0.kind == "audio" })
        XCTAssertLessThanOrEqual(probe.videoFrames, video.framesSent)
        XCTAssertGreaterThanOrEqual(Double(probe.videoFrames), 0.9 * Double(video.framesSent), "\(probe.videoFrames) frames, \(video.framesSent) sent")
        XCTAssertGreaterThanOrEqual(Double(probe.audioFrames), 0.9 * Double(audio.framesSent), "\(probe.audioFrames) audio frames, \(audio.framesSent) sent")
        XCTAssertGreaterThan(probe.audioSeconds, probe.firstVideoTime + 3, "audio goes on with the video")
        XCTAssertTrue(run.stderr.contains("producer resumed"), run.stderr)
    }
}
