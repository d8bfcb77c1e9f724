import Foundation
import XCTest

/// nacho's transport (ICE, DTLS, SRTP, RTP/RTCP) against aiortc in the test room server, over
/// real UDP on 127.0.0.1.
final class ReceiveMediaTests: XCTestCase {
    private func reportLines(_ run: NachoRun) throws -> [[String: Any]] {
        try run.stdoutLines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], $0) }
    }

    private func serverConsumers(_ server: RoomServerProcess) throws -> [[String: Any]] {
        let media = try XCTUnwrap(try server.state()["media"] as? [String: Any])
        return Array(try XCTUnwrap(media["consumers"] as? [String: [String: Any]]).values)
    }

    func testReceivesEveryVirtualMemberOverSRTPAndReportsBack() throws {
        let server = try RoomServerProcess(["--virtual-members", "2"])
        let run = try Nacho.run(["join", "--edge", server.edge, "--room", "42", "--member", "7",
                                 "--no-audio", "--no-video", "--duration", "6", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = try reportLines(run)
        XCTAssertEqual(lines.count, 4, run.stdout)
        XCTAssertEqual(Set(lines.compactMap { $0["member_no"] as? String }), ["1001", "1002"])
        let consumers = try serverConsumers(server)
        for line in lines {
            let kind = try XCTUnwrap(line["kind"] as? String)
            let packets = try XCTUnwrap(line["packets"] as? Int)
            let bytes = try XCTUnwrap(line["bytes"] as? Int)
            // 6 s of 20 ms Opus frames or 15 fps video: at least a few seconds' worth.
            XCTAssertGreaterThan(packets, kind == "audio" ? 100 : 40, "\(line)")
            XCTAssertGreaterThan(bytes, packets * 20, "\(line)")
            XCTAssertGreaterThan(try XCTUnwrap(line["sender_reports"] as? Int), 0, "SRs from aiortc reached nacho: \(line)")
            // The peer's own account of the same stream.
            let producer = try XCTUnwrap(line["producer_id"] as? String)
            let peer = try XCTUnwrap(consumers.first { $0["producer_id"] as? String == producer }, "server has no consumer for \(producer)")
            let sent = try XCTUnwrap(peer["packets_sent"] as? Int)
            XCTAssertLessThanOrEqual(packets, sent, "nacho cannot receive more than aiortc sent")
            XCTAssertGreaterThanOrEqual(Double(packets), Double(sent) * 0.9, "loopback loses nothing: \(packets) of \(sent)")
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(peer["rr_received"] as? Int), 2, "aiortc got nacho's receiver reports: \(peer)")
            XCTAssertGreaterThan(try XCTUnwrap(peer["rr_highest_seq"] as? Int), 0)
            if kind == "video" {
                XCTAssertGreaterThanOrEqual(try XCTUnwrap(peer["pli_received"] as? Int), 1, "nacho asked for a key frame")
            }
        }
        let media = try XCTUnwrap(try server.state()["media"] as? [String: Any])
        let transports = try XCTUnwrap(media["transports"] as? [String: [String: Any]])
        XCTAssertEqual(transports.count, 1)
        XCTAssertGreaterThan(try XCTUnwrap(transports.values.first?["checks"] as? Int), 0, "ICE checks reached aioice")
    }

    func testWrongServerFingerprintFailsWithoutSendingMedia() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--fault", "fingerprint=wrong"])
        let started = Date()
        let run = try Nacho.run(["join", "--edge", server.edge, "--room", "42", "--member", "7",
                                 "--no-audio", "--no-video", "--duration", "30"], timeout: 40)
        assertOneLineError(run, code: 74, mentions: "edge transport: the server's DTLS certificate does not match the fingerprint it signaled")
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "fails within seconds, not at --duration")
        XCTAssertEqual(run.stdout, "")
        let consumers = try serverConsumers(server)
        for consumer in consumers {
            XCTAssertEqual(consumer["rr_received"] as? Int, 0, "no SRTP from nacho: \(consumer)")
        }
        let media = try XCTUnwrap(try server.state()["media"] as? [String: Any])
        let transports = try XCTUnwrap(media["transports"] as? [String: [String: Any]])
        XCTAssertFalse(transports.values.contains { $0["dtls"] as? String == "connected" })
    }

    func testCtrlCLeavesInOrderAndReports() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let run = try Nacho.run(["join", "--edge", server.edge, "--room", "42", "--member", "7", "--no-audio", "--no-video"],
                                timeout: 30) { process in
            Thread.sleep(forTimeInterval: 4)
            kill(process.processIdentifier, SIGINT)
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdoutLines.count, 2, run.stdout)
        XCTAssertTrue(run.stdoutLines.allSatisfy { $0.hasPrefix("member 1001\t") && !$0.contains("\t0 packets") }, run.stdout)
        let stats = try XCTUnwrap(try server.state()["stats"] as? [String: Any])
        XCTAssertEqual((stats["requests"] as? [String: Int])?["exitRoom"], 1, "left the room")
    }
}

/// ICE over TCP (RFC 6544 / RFC 4571): forced, and as the fallback when UDP gets no answer.
final class TCPTransportTests: XCTestCase {
    private func tcpConnections(_ server: RoomServerProcess) throws -> Int {
        let media = try XCTUnwrap(try server.state()["media"] as? [String: Any])
        let transports = try XCTUnwrap(media["transports"] as? [String: [String: Any]])
        return transports.values.compactMap { $0["tcp_connections"] as? Int }.reduce(0, +)
    }

    func testForcedTCP() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let run = try Nacho.run(["join", "--edge", server.edge, "--room", "42", "--member", "7", "--no-audio", "--no-video",
                                 "--force-tcp", "--duration", "4", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdoutLines.count, 2)
        for line in run.stdoutLines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertGreaterThan(try XCTUnwrap(object["packets"] as? Int), 20, line)
        }
        XCTAssertEqual(try tcpConnections(server), 1)
    }

    func testFallsBackToTCPWhenUDPGetsNoAnswer() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--fault", "udp=blocked"])
        let run = try Nacho.run(["join", "--edge", server.edge, "--room", "42", "--member", "7", "--no-audio", "--no-video",
                                 "--duration", "10", "--json", "--log-level", "notice"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("falling back to TCP"), run.stderr)
        XCTAssertEqual(run.stdoutLines.count, 2, run.stdout)
        for line in run.stdoutLines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertGreaterThan(try XCTUnwrap(object["packets"] as? Int), 20, line)
        }
        XCTAssertEqual(try tcpConnections(server), 1)
    }
}

/// RFC 7675: when the server stops answering consent checks, the media link is lost: nacho
/// reconnects (a new session and transport), or with reconnecting off says so and ends.
final class ConsentTests: XCTestCase {
    private func run(config json: String) throws -> NachoRun {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(json.utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        return try Nacho.run(["join", "--config", config.path, "--edge", server.edge, "--room", "42", "--member", "7",
                              "--no-audio", "--no-video", "--duration", "14", "--json"], timeout: 60) { _ in
            Thread.sleep(forTimeInterval: 3)
            try server.post("silence")  // the transports of now stop answering; new ones work
        }
    }

    func testConsentLossEndsTheRunWhenReconnectingIsOff() throws {
        let run = try run(config: #"{"iceConsentTimeout": 4, "reconnectAttempts": 0}"#)
        assertOneLineError(run, code: 74, mentions: "edge transport: connection lost: no answer to ICE consent checks")
    }

    func testConsentLossReconnects() throws {
        let run = try run(config: #"{"iceConsentTimeout": 4}"#)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("no answer to ICE consent checks"), run.stderr)
        XCTAssertTrue(run.stderr.contains("back in the room"), run.stderr)
    }
}
