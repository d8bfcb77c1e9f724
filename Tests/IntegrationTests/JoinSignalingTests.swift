import Foundation
import XCTest

/// `nacho join` runs the edge sequence for real: consumes every remote producer and re-runs the
/// room sequence after a signaling drop.
final class JoinSignalingTests: XCTestCase {
    func testConsumesEveryRemoteProducer() throws {
        let server = try RoomServerProcess(["--virtual-members", "2"])
        let run = try Nacho.run(["join", "--edge", server.edge, "--room", "42", "--member", "7", "--no-audio", "--no-video",
                                 "--duration", "2"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdoutLines.count, 4, run.stdout)
        let consumers = try XCTUnwrap(try server.state()["consumers"] as? [[String: Any]])
        XCTAssertEqual(consumers.count, 0, "exitRoom released them")
        let stats = try XCTUnwrap(try server.state()["stats"] as? [String: Any])
        let requests = try XCTUnwrap(stats["requests"] as? [String: Int])
        XCTAssertEqual(requests["consume"], 4)
        XCTAssertEqual(requests["exitRoom"], 1)
    }

    func testReconnectsAndRejoinsAfterADrop() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        let run = try Nacho.run(["join", "--edge", server.edge, "--room", "42", "--member", "7", "--duration", "7",
                                 "--no-audio", "--no-video"]) { _ in
            Thread.sleep(forTimeInterval: 2.5)
            try server.post("drop")
        }
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("(1 reconnection)"), run.stdout)
        XCTAssertTrue(run.stderr.contains("connection lost, reconnecting"), run.stderr)
        XCTAssertTrue(run.stderr.contains("back in the room"), run.stderr)
        let stats = try XCTUnwrap(try server.state()["stats"] as? [String: Any])
        XCTAssertEqual(stats["joins"] as? Int, 2, "the room sequence ran again")
    }
}
