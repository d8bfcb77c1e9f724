import Foundation
import XCTest

/// `nacho list-producers` against the independent test room server over real sockets.
final class ListProducersTests: XCTestCase {
    private func serverProducers(_ server: RoomServerProcess) throws -> Set<String> {
        let producers = try XCTUnwrap(try server.state()["producers"] as? [String: [[String: Any]]])
        return Set((producers["42"] ?? []).map { "\($0["member_no"]!) \($0["kind"]!) \($0["id"]!)" })
    }

    func testListsTheVirtualMembersProducers() throws {
        let server = try RoomServerProcess(["--virtual-members", "2"])
        let run = try Nacho.run(["list-producers", "--edge", server.edge, "--room", "42", "--member", "7"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "")
        let printed = Set(run.stdoutLines.map { line -> String in
            let parts = line.split(separator: "\t").map(String.init)
            return "\(parts[0].replacingOccurrences(of: "member ", with: "")) \(parts[1]) \(parts[2])"
        })
        XCTAssertEqual(printed, try serverProducers(server))
        XCTAssertEqual(printed.count, 4)
    }

    func testJSONLinesFromAConfigFile() throws {
        let server = try RoomServerProcess(["--virtual-members", "2"])
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(#"{"edge": "\#(server.edge)", "room": 42, "member": "7", "requestTimeout": 5}"#.utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        let run = try Nacho.run(["list-producers", "--room", "42", "--member", "7", "--config", config.path, "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        var printed = Set<String>()
        for line in run.stdoutLines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
            let member = try XCTUnwrap(object["member_no"] as? String)
            let kind = try XCTUnwrap(object["kind"] as? String)
            let id = try XCTUnwrap(object["producer_id"] as? String)
            printed.insert("\(member) \(kind) \(id)")
        }
        XCTAssertEqual(printed, try serverProducers(server))
    }

    func testFlagsWinOverTheConfigFile() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(#"{"edge": "ws://127.0.0.1:1", "room": "other", "member": 1001}"#.utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        let run = try Nacho.run(["list-producers", "--config", config.path, "--edge", server.edge, "--room", "42", "--member", "7"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdoutLines.count, 2)
    }

    func testServerVariantsSeenInTheWild() throws {
        // peers as a string, producers without member or kind, own producers in the list.
        let server = try RoomServerProcess(["--virtual-members", "2", "--variant", "peers-string",
                                            "--variant", "minimal-producers", "--variant", "all-producers"])
        let run = try Nacho.run(["list-producers", "--edge", server.edge, "--room", "42", "--member", "1001", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        // Without member numbers nacho cannot tell its own producers apart; it shows all four
        // with the socket id as owner.
        XCTAssertEqual(run.stdoutLines.count, 4)
        XCTAssertTrue(run.stdout.contains(#""producer_socket_id":"virtual-1002""#), run.stdout)

        let withMembers = try RoomServerProcess(["--virtual-members", "2", "--variant", "all-producers"])
        let own = try Nacho.run(["list-producers", "--edge", withMembers.edge, "--room", "42", "--member", "1001"])
        XCTAssertEqual(own.status, 0, own.stderr)
        XCTAssertEqual(own.stdoutLines.count, 2, "own producers are skipped: \(own.stdout)")
        XCTAssertTrue(own.stdoutLines.allSatisfy { $0.hasPrefix("member 1002\t") })
    }

    /// Servers that send only producer ids: the JSON lines leave the unknown fields out
    /// instead of printing nulls.
    func testJSONLeavesOutWhatTheServerDidNotSend() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--variant", "minimal-producers"])
        let run = try Nacho.run(["list-producers", "--edge", server.edge, "--room", "42", "--member", "7", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdoutLines.count, 2)
        for line in run.stdoutLines {
            XCTAssertFalse(line.contains("null"), line)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
            XCTAssertEqual(Set(object.keys), ["producer_id", "producer_socket_id"], line)
        }
    }

    func testRenamedEventsAndFieldsThroughConfiguration() throws {
        let server = try RoomServerProcess(["--virtual-members", "1",
                                            "--event-name", "createRoom=create_room", "--event-name", "newProducers=new_producers",
                                            "--field-name", "room_id=roomId", "--field-name", "member_no=memberNo"])
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(#"""
        {"events": {"createRoom": "create_room", "newProducers": "new_producers"},
         "fields": {"room_id": "roomId", "member_no": "memberNo"}}
        """#.utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        let run = try Nacho.run(["list-producers", "--config", config.path, "--edge", server.edge,
                                 "--room", "42", "--member", "7", "--request-timeout", "3"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdoutLines.count, 2)
        XCTAssertTrue(run.stdoutLines.allSatisfy { $0.hasPrefix("member 1001\t") }, run.stdout)
    }

    func testAuthToken() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--auth-token", "s3cret"])
        let ok = try Nacho.run(["list-producers", "--edge", server.edge, "--room", "42", "--member", "7"],
                               environment: ["NACHO_AUTH_TOKEN": "s3cret"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let refused = try Nacho.run(["list-producers", "--edge", server.edge, "--room", "42", "--member", "7",
                                     "--auth-token", "wrong", "--log-level", "trace"])
        assertOneLineErrorOrLogs(refused, code: 77, mentions: "edge connect: server refused: invalid auth token")
        XCTAssertFalse(refused.stderr.contains("wrong"), "the token must never be logged")
    }

    func testAnswersPingsOfAFastHeartbeatServer() throws {
        // A 1 s ping interval and 1 s timeout: staying 4 s requires answering every ping.
        let server = try RoomServerProcess(["--virtual-members", "1", "--ping-interval", "1", "--ping-timeout", "1"])
        let run = try Nacho.run(["list-producers", "--edge", server.edge, "--room", "42", "--member", "7", "--wait", "4"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdoutLines.count, 2)
    }

    /// Like `assertOneLineError`, but allows log lines before the error (for runs with logging on).
    private func assertOneLineErrorOrLogs(_ run: NachoRun, code: Int32, mentions: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, code, run.stderr, file: file, line: line)
        XCTAssertEqual(run.stderrLines.filter { $0.hasPrefix("nacho: error: ") }.count, 1, run.stderr, file: file, line: line)
        XCTAssertTrue(run.stderr.contains(mentions), run.stderr, file: file, line: line)
    }
}
