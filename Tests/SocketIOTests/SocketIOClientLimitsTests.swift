import Foundation
import NIOWebSocket
import SocketIO
import XCTest

/// The client against servers that do not behave: every network step ends by its deadline,
/// nothing a server sends is buffered without bound, and no connection outlives its attempt.
final class SocketIOClientLimitsTests: XCTestCase {
    private func client(_ server: HostileWebSocketServer, timeout: Duration = .seconds(1)) -> SocketIOClient {
        SocketIOClient(options: .init(url: URL(string: "ws://127.0.0.1:\(server.port)")!, connectTimeout: timeout))
    }

    /// Connects and returns the error and how long it took.
    private func failure(of client: SocketIOClient) async -> (error: SocketIOError?, seconds: Double) {
        let start = ContinuousClock.now
        do {
            try await client.connect()
            await client.close()
            return (nil, (ContinuousClock.now - start).seconds)
        } catch {
            return (error as? SocketIOError, (ContinuousClock.now - start).seconds)
        }
    }

    private func waitUntil(_ seconds: Double, _ condition: () -> Bool) async {
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !condition() && ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// A server that accepts TCP and never answers the upgrade: the connect deadline ends the
    /// attempt on time, and the connection is closed.
    func testSilentServerTimesOutAndTheConnectionIsClosed() async throws {
        let server = try HostileWebSocketServer(.silent)
        let (error, seconds) = await failure(of: client(server))
        XCTAssertEqual(error, .timeout(event: "WebSocket connect", seconds: 1))
        XCTAssertLessThan(seconds, 2)
        await waitUntil(2) { server.closed == 1 }
        XCTAssertEqual(server.accepted, 1)
        XCTAssertEqual(server.closed, 1, "the pending connection must be closed, not leaked")
    }

    /// An upgrade that comes after the deadline: the connection is closed, not kept.
    func testLateUpgradeIsClosed() async throws {
        let server = try HostileWebSocketServer(.upgradeAfter(.milliseconds(2500)))
        let (error, seconds) = await failure(of: client(server))
        XCTAssertEqual(error, .timeout(event: "WebSocket connect", seconds: 1))
        XCTAssertLessThan(seconds, 2, "returns at the deadline, not when the upgrade comes")
        await waitUntil(4) { server.closed == 1 }
        XCTAssertEqual(server.closed, 1)
    }

    /// Frames and messages past the limits are a protocol error, reported as such.
    func testOversizedFramesAndMessagesFailTheLink() async throws {
        let mebibyte = 1 << 20
        let table: [(name: String, frames: [WebSocketFrame], mentions: String)] = [
            ("one 2 MiB frame", [HostileWebSocketServer.open, .init(fin: true, opcode: .text, data: .init(repeating: 0x36, count: 2 * mebibyte))],
             "frame larger than 1 MiB"),
            ("2 MiB in 64 KiB fragments", [HostileWebSocketServer.open]
                + [HostileWebSocketServer.text("6" + String(repeating: " ", count: 65535), fin: false)]
                + (0..<31).map { _ in HostileWebSocketServer.text(String(repeating: " ", count: 65536), fin: false, continuation: true) },
             "message larger than 1 MiB"),
            ("300 one-byte fragments", [HostileWebSocketServer.open, HostileWebSocketServer.text("6", fin: false)]
                + (0..<300).map { _ in HostileWebSocketServer.text(" ", fin: false, continuation: true) },
             "more than 256 fragments"),
        ]
        for row in table {
            let server = try HostileWebSocketServer(.script(row.frames))
            let (error, seconds) = await failure(of: client(server, timeout: .seconds(5)))
            guard case .malformedPacket(let why)? = error else {
                XCTFail("\(row.name): \(String(describing: error))")
                continue
            }
            XCTAssertTrue(why.contains(row.mentions), "\(row.name): \(why)")
            XCTAssertLessThan(seconds, 4, row.name)
            await waitUntil(3) { server.closed == 1 }
            XCTAssertEqual(server.closed, 1, "\(row.name): the connection is closed")
        }
    }

    /// Error messages never show a URL's query, fragment or credentials.
    func testURLsInErrorsAreRedacted() throws {
        for text in ["ftp://user:secret@example.org/x?token=s3cret#s3cret", "ws:///x?token=s3cret"] {
            XCTAssertThrowsError(try SocketIOClient.engineURL(for: XCTUnwrap(URL(string: text)))) { error in
                XCTAssertFalse("\(error)".contains("s3cret"), "\(error)")
                XCTAssertFalse("\(error)".contains("secret"), "\(error)")
            }
        }
    }
}

extension Duration {
    fileprivate var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
