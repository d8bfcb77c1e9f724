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
                                 "--force-tcp", "--duration", "6", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdoutLines.count, 2)
        try assertReceivedWhatTheServerSent(run, server)
        XCTAssertEqual(try tcpConnections(server), 1)
    }

    /// nacho's count of each stream against the server's: no more than it sent, and all of it
    /// but what was in flight when nacho stopped (TCP loses nothing).
    private func assertReceivedWhatTheServerSent(_ run: NachoRun, _ server: RoomServerProcess, line: UInt = #line) throws {
        let consumers = try server.consumers()
        for text in run.stdoutLines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
            let packets = try XCTUnwrap(object["packets"] as? Int, text)
            let id = try XCTUnwrap(object["consumer_id"] as? String, text)
            let sent = try XCTUnwrap(consumers.first { $0.id == id }, "the server has no consumer \(id)").packetsSent
            XCTAssertGreaterThan(sent, object["kind"] as? String == "audio" ? 150 : 50, text, line: line)
            XCTAssertLessThanOrEqual(packets, sent, "nacho cannot receive more than the server sent: \(text)", line: line)
            XCTAssertGreaterThanOrEqual(Double(packets), 0.9 * Double(sent), "\(packets) of \(sent) packets: \(text)", line: line)
        }
    }

    func testFallsBackToTCPWhenUDPGetsNoAnswer() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--fault", "udp=blocked"])
        let run = try Nacho.run(["join", "--edge", server.edge, "--room", "42", "--member", "7", "--no-audio", "--no-video",
                                 "--duration", "10", "--json", "--log-level", "notice"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("falling back to TCP"), run.stderr)
        XCTAssertEqual(run.stdoutLines.count, 2, run.stdout)
        try assertReceivedWhatTheServerSent(run, server)
        XCTAssertEqual(try tcpConnections(server), 1)
    }
}

/// RFC 7675: when the server stops answering consent checks, the media link is lost: nacho
/// reconnects (a new session and transport), or with reconnecting off says so and ends.
final class ConsentTests: XCTestCase {
    /// A join whose transports stop answering once media flows (`silence`: the transports of now
    /// go quiet; new ones work); `afterwards` (given the consumers of before) runs while nacho may
    /// still be up, then SIGINT.
    private func run(config json: String, afterwards: @escaping (RoomServerProcess, Process, Set<String>) throws -> Void = { _, _, _ in })
        throws -> (NachoRun, RoomServerProcess, before: Set<String>) {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(json.utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        var before: Set<String> = []
        let run = try Nacho.run(["join", "--config", config.path, "--edge", server.edge, "--room", "42", "--member", "7",
                                 "--no-audio", "--no-video", "--json"], timeout: 120) { process in
            try server.waitUntilSent(100, of: "audio", by: "1001")
            before = Set(try server.consumers().map(\.id))
            try server.post("silence")
            try afterwards(server, process, before)
            if process.isRunning { kill(process.processIdentifier, SIGINT) }
        }
        return (run, server, before)
    }

    func testConsentLossEndsTheRunWhenReconnectingIsOff() throws {
        let (run, _, _) = try run(config: #"{"iceConsentTimeout": 4, "reconnectAttempts": 0}"#) { _, process, _ in
            try Wait.until("nacho to end on its own") { !process.isRunning }
        }
        assertOneLineError(run, code: 74, mentions: "edge transport: connection lost: no answer to ICE consent checks")
    }

    /// Media flows again after the reconnect: the new consumers' packets, as nacho counts them,
    /// match what the server sent them.
    func testConsentLossReconnects() throws {
        let (run, server, before) = try run(config: #"{"iceConsentTimeout": 4}"#) { server, _, before in
            // 4 s of audio and 60 video frames on the new transport.
            try Wait.until("media on new consumers", timeout: 90) {
                let fresh = try (server.liveConsumers(of: "1001", kind: "audio") + server.liveConsumers(of: "1001", kind: "video"))
                    .filter { !before.contains($0.id) }
                return fresh.count == 2 && fresh.allSatisfy { $0.framesSent >= ($0.kind == "audio" ? 200 : 60) }
            }
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("no answer to ICE consent checks"), run.stderr)
        let consumers = try server.consumers()
        let reports = try run.stdoutLines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], $0) }
        let fresh = reports.filter { !before.contains($0["consumer_id"] as? String ?? "") }
        XCTAssertEqual(fresh.map { $0["kind"] as? String ?? "" }.sorted(), ["audio", "video"], "the new session's consumers: \(run.stdout)")
        for report in fresh {
            let packets = try XCTUnwrap(report["packets"] as? Int)
            let id = try XCTUnwrap(report["consumer_id"] as? String)
            let sent = try XCTUnwrap(consumers.first { $0.id == id }, "the server has no consumer \(id)").packetsSent
            XCTAssertLessThanOrEqual(packets, sent, "\(report)")
            XCTAssertGreaterThanOrEqual(Double(packets), 0.9 * Double(sent), "after the reconnect: \(packets) of \(sent) packets: \(report)")
        }
    }
}
