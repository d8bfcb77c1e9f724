import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LoadSource
import Logging
import NIOCore
import NIOPosix
import SocketIO
import XCTest

/// The server on a real socket (127.0.0.1), spoken to by nacho's own Socket.IO client.
final class LoadSourceServerTests: XCTestCase {
    private let logger = Logger(label: "test")

    private func withServer(settings: SocketIOServerCore.Settings = .init(),
                            _ body: (LoadSourceServer, RecordingMedia) async throws -> Void) async throws {
        let media = RecordingMedia()
        let server = try await LoadSourceServer(media: media, group: MultiThreadedEventLoopGroup.singleton, settings: settings,
                                                logger: logger)
        do {
            try await body(server, media)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    private func client(_ server: LoadSourceServer) throws -> SocketIOClient {
        SocketIOClient(options: .init(url: try XCTUnwrap(URL(string: server.url)), connectTimeout: .seconds(5)))
    }

    /// Polls the server's figures until `test` holds (a closed socket is noticed a moment later).
    private func eventually(_ server: LoadSourceServer, _ what: String,
                            _ test: (LoadSourceSignalingStatistics) -> Bool) async throws {
        for _ in 0..<200 {
            if test(await server.statistics().signaling) { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        XCTFail("\(what): \(await server.statistics().signaling)")
    }

    /// The arguments of the first event of that name within 5 s (nil: none came).
    private func firstEvent(_ name: String, of client: SocketIOClient) async throws -> [JSONValue]? {
        try await withThrowingTaskGroup(of: [JSONValue]?.self) { group in
            group.addTask {
                for await incoming in client.incoming {
                    if case .event(name, let args) = incoming { return args }
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(5))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    func testNachosClientJoinsAndHearsTheProducers() async throws {
        try await withServer { server, media in
            XCTAssertTrue(server.url.hasPrefix("ws://127.0.0.1:"), server.url)
            let client = try client(server)
            try await client.connect()
            let joined = try await client.request("join", [["type": "consumer", "room_id": "42", "member_no": "1000"]],
                                                  timeout: .seconds(5))
            XCTAssertEqual(joined.first?["room_id"], "42")
            let transport = try await client.request("createWebRtcTransport", [["consuming": true]], timeout: .seconds(5))
            XCTAssertEqual(transport.first?["id"], "t1")
            try await client.emit("getProducers", [[:]])
            let announced = try await firstEvent("newProducers", of: client)?.first?.arrayValue ?? []
            XCTAssertEqual(announced.compactMap { $0["producer_id"]?.stringValue }, ["pv1", "pa1"])
            try await eventually(server, "one session") { $0.connections == 1 && $0.members == 1 }
            await client.close()
            try await eventually(server, "the session ended with the socket") { $0.connections == 0 && $0.members == 0 }
            XCTAssertTrue(media.calls.contains(.closeTransport("t1")), "\(media.calls)")
        }
    }

    /// Pings every 50 ms, 100 ms to answer: nacho's client keeps the session alive through many.
    func testPingsAreAnsweredAndTheSessionStays() async throws {
        try await withServer(settings: .init(pingInterval: .milliseconds(50), pingTimeout: .milliseconds(100))) { server, _ in
            let client = try client(server)
            try await client.connect()
            try await Task.sleep(for: .milliseconds(600))
            let figures = await server.statistics().signaling
            XCTAssertEqual(figures.connections, 1)
            let answer = try await client.request("createRoom", [["room_id": "9"]], timeout: .seconds(5))
            XCTAssertEqual(answer, ["9"])
            await client.close()
        }
    }

    /// Anything but the WebSocket endpoint gets 400 and a line saying why.
    func testPlainHTTPAndOtherTransportsAreRefusedWithAReason() async throws {
        try await withServer { server, _ in
            for (path, mentions) in [("/socket.io/?EIO=4&transport=polling", "websocket transport only"),
                                     ("/socket.io/?EIO=3&transport=websocket", "Engine.IO 4 only"),
                                     ("/other", "no Socket.IO endpoint at /other")] {
                let url = try XCTUnwrap(URL(string: "http://127.0.0.1:\(server.port)\(path)"))
                let (body, response) = try await URLSession.shared.data(from: url)
                XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 400, path)
                let text = String(decoding: body, as: UTF8.self)
                XCTAssertTrue(text.contains(mentions), "\(path): \(text)")
            }
        }
    }
}
