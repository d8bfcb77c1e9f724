import Foundation
import XCTest

/// Every way a server can fail gives one line naming the step and a distinct exit code.
final class FailureTests: XCTestCase {
    private func listProducers(_ server: RoomServerProcess, _ extra: [String] = []) throws -> NachoRun {
        try Nacho.run(["list-producers", "--edge", server.edge, "--room", "42", "--member", "7"] + extra)
    }

    func testUnreachableServer() throws {
        // A port nothing listens on: bind one, learn its number, close it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        close(fd)
        let run = try Nacho.run(["list-producers", "--edge", "ws://127.0.0.1:\(port)", "--room", "42", "--member", "7"])
        assertOneLineError(run, code: 69, mentions: "edge connect: cannot reach server: 127.0.0.1:\(port): connection refused")
    }

    func testServerAnsweringError() throws {
        let server = try RoomServerProcess(["--fault", "join=error"])
        assertOneLineError(try listProducers(server), code: 77, mentions: "edge join: server refused: injected failure in join")
    }

    func testServerThatNeverAnswers() throws {
        let server = try RoomServerProcess(["--fault", "getRouterRtpCapabilities=noack"])
        assertOneLineError(try listProducers(server, ["--request-timeout", "1"]), code: 75,
                           mentions: "edge getRouterRtpCapabilities: no answer from server within 1 s")
    }

    func testGarbageFrames() throws {
        let server = try RoomServerProcess(["--fault", "join=garbage"])
        assertOneLineError(try listProducers(server), code: 76, mentions: "edge join: protocol error: ")
    }

    /// An empty `consume` answer costs that producer only: one warning each, the run goes on.
    func testEmptyConsumeAnswerSkipsTheProducer() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--fault", "consume=empty"])
        let run = try Nacho.run(["join", "--edge", server.edge, "--room", "42", "--member", "7", "--no-audio", "--no-video",
                                 "--duration", "3"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let warnings = run.stderrLines.filter { $0.contains("skipping a producer that cannot be consumed") }
        XCTAssertEqual(warnings.count, 2, run.stderr)
        XCTAssertTrue(warnings.allSatisfy { $0.contains("edge consume: protocol error: server answered with no value") }, run.stderr)
    }

    func testConnectionRefusedByTheNamespace() throws {
        let server = try RoomServerProcess(["--fault", "connect=refuse"])
        assertOneLineError(try listProducers(server), code: 77, mentions: "edge connect: server refused: injected refusal")
    }

    func testNotASocketIOServer() throws {
        let server = try RoomServerProcess()
        // The control port speaks HTTP but has no Socket.IO endpoint.
        let run = try Nacho.run(["list-producers", "--edge", server.control.absoluteString, "--room", "42", "--member", "7"])
        assertOneLineError(run, code: 69, mentions: "HTTP 404 instead of a WebSocket upgrade")
    }

    func testUsageErrors() throws {
        let noRoom = try Nacho.run(["list-producers", "--edge", "ws://127.0.0.1:9", "--member", "7"])
        assertOneLineError(noRoom, code: 64, mentions: "no room")
        let badURL = try Nacho.run(["list-producers", "--edge", "ftp://x", "--room", "1", "--member", "7"])
        assertOneLineError(badURL, code: 64, mentions: "is not a ws://")
        let badConfig = try Nacho.run(["list-producers", "--config", "/nonexistent/cfg.json"])
        assertOneLineError(badConfig, code: 64, mentions: "cannot read config file /nonexistent/cfg.json")
        let badFlag = try Nacho.run(["list-producers", "--request-timeout", "-1"])
        XCTAssertEqual(badFlag.status, 64)
        XCTAssertTrue(badFlag.stderr.contains("--request-timeout"), badFlag.stderr)
    }

    func testHelpListsExitCodes() throws {
        let run = try Nacho.run(["--help"])
        XCTAssertEqual(run.status, 0)
        for text in ["join", "list-producers", "record", "69", "75", "76", "77"] {
            XCTAssertTrue(run.stdout.contains(text), "help lacks \(text): \(run.stdout)")
        }
    }
}

/// wss:// verifies the server certificate by default; `--insecure` is the explicit opt-out.
final class TLSTests: XCTestCase {
    func testSelfSignedCertificateIsRefusedUnlessInsecure() throws {
        let server = try RoomServerProcess(["--virtual-members", "1", "--tls", "--no-media"])
        XCTAssertTrue(server.edge.hasPrefix("wss://"))
        let refused = try Nacho.run(["list-producers", "--edge", server.edge, "--room", "42", "--member", "7"])
        assertOneLineError(refused, code: 69, mentions: "TLS certificate verification failed")
        XCTAssertFalse(refused.stderr.contains(".build/"), "no build paths in user-facing errors: \(refused.stderr)")
        let insecure = try Nacho.run(["list-producers", "--edge", server.edge, "--room", "42", "--member", "7", "--insecure"])
        XCTAssertEqual(insecure.status, 0, insecure.stderr)
        XCTAssertEqual(insecure.stdoutLines.count, 2)
    }
}
