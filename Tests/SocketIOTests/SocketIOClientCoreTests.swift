import SocketIO
import XCTest

/// The client protocol, driven frame by frame with an injected clock.
final class SocketIOClientCoreTests: XCTestCase {
    private let start = ContinuousClock.now
    private let open = #"0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#

    private func connected(auth: JSONValue? = nil) -> SocketIOClientCore {
        var core = SocketIOClientCore(auth: auth, now: start)
        _ = core.receive(frame: open, now: start)
        _ = core.receive(frame: #"40{"sid":"s1"}"#, now: start)
        return core
    }

    func testHandshakeSendsConnectWithAuthAndReportsTheSession() {
        var core = SocketIOClientCore(auth: ["token": "secret"], now: start)
        XCTAssertEqual(core.receive(frame: open, now: start), [.send(#"40{"token":"secret"}"#)])
        XCTAssertEqual(core.phase, .awaitingConnect)
        XCTAssertEqual(core.receive(frame: #"40{"sid":"s1"}"#, now: start), [.connected(sid: "s1")])
        XCTAssertEqual(core.phase, .connected)
        XCTAssertEqual(core.sid, "s1")
    }

    func testConnectWithoutAuthIsBare() {
        var core = SocketIOClientCore(now: start)
        XCTAssertEqual(core.receive(frame: open, now: start), [.send("40")])
    }

    func testRequestsCarryIncreasingAckIdsAndAcksResolve() {
        var core = connected()
        let first = core.emit("join", [["room_id": "42"]], expectsAck: true)
        XCTAssertEqual(first.frame, #"420["join",{"room_id":"42"}]"#)
        XCTAssertEqual(first.ackId, 0)
        let second = core.emit("getRouterRtpCapabilities", [[:]], expectsAck: true)
        XCTAssertEqual(second.frame, #"421["getRouterRtpCapabilities",{}]"#)
        let fire = core.emit("getProducers", [[:]], expectsAck: false)
        XCTAssertEqual(fire.frame, #"42["getProducers",{}]"#)
        XCTAssertNil(fire.ackId)
        XCTAssertEqual(core.receive(frame: #"431[{"codecs":[]}]"#, now: start), [.ack(id: 1, args: [["codecs": []]])])
        XCTAssertEqual(core.receive(frame: #"42["consumerClosed",{"consumer_id":"c"}]"#, now: start),
                       [.event(name: "consumerClosed", args: [["consumer_id": "c"]])])
    }

    func testPingIsAnsweredAndKeepsTheLinkAlive() {
        var core = connected()
        let late = start + .seconds(40)
        XCTAssertEqual(core.receive(frame: "2", now: late), [.send("3")])
        XCTAssertEqual(core.tick(now: late + .seconds(44)), [], "interval + timeout = 45 s from the last ping")
        XCTAssertEqual(core.tick(now: late + .seconds(45)), [.failed(.heartbeatTimeout)])
        XCTAssertEqual(core.phase, .closed)
    }

    func testHandshakeTimeout() {
        var core = SocketIOClientCore(openTimeout: .seconds(3), now: start)
        XCTAssertEqual(core.tick(now: start + .seconds(2)), [])
        XCTAssertEqual(core.tick(now: start + .seconds(3)), [.failed(.timeout(event: "the Socket.IO handshake", seconds: 3))])
    }

    func testServerRefusalAndDisconnects() {
        var refused = SocketIOClientCore(now: start)
        _ = refused.receive(frame: open, now: start)
        XCTAssertEqual(refused.receive(frame: #"44{"message":"invalid auth token"}"#, now: start),
                       [.failed(.connectRefused("invalid auth token"))])

        var kicked = connected()
        XCTAssertEqual(kicked.receive(frame: "41", now: start), [.failed(.disconnected("server disconnected the client"))])

        var closed = connected()
        XCTAssertEqual(closed.receive(frame: "1", now: start), [.failed(.disconnected("server closed the Engine.IO session"))])
        XCTAssertEqual(closed.receive(frame: "2", now: start), [], "nothing after the end")
    }

    func testGarbageFailsTheLink() {
        for garbage in ["hello", #"42["newProducers", {{{"#, "4", "0{}", #"40{"nosid":1}"#] {
            var core = connected()
            if garbage.hasPrefix("0") || garbage.hasPrefix("40") {
                core = SocketIOClientCore(now: start)
                if garbage.hasPrefix("40") { _ = core.receive(frame: open, now: start) }
            }
            let outputs = core.receive(frame: garbage, now: start)
            guard case .failed(.malformedPacket)? = outputs.first else {
                return XCTFail("\(garbage.debugDescription) gave \(outputs)")
            }
        }
        var binary = connected()
        guard case .failed(.malformedPacket)? = binary.receiveBinaryFrame().first else { return XCTFail("binary frame accepted") }
    }

    func testPacketsOfOtherNamespacesAreIgnored() {
        var core = connected()
        XCTAssertEqual(core.receive(frame: #"42/admin,["x",1]"#, now: start), [])
    }

    func testCloseLeavesTheNamespace() {
        var core = connected()
        XCTAssertEqual(core.close(), ["41"])
        XCTAssertEqual(core.phase, .closed)
    }

    func testEngineURL() throws {
        let cases = [
            ("ws://127.0.0.1:3000", "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"),
            ("http://example.org", "ws://example.org/socket.io/?EIO=4&transport=websocket"),
            ("https://example.org/rtc/?room=1", "wss://example.org/rtc/?room=1&EIO=4&transport=websocket"),
            ("wss://example.org/", "wss://example.org/socket.io/?EIO=4&transport=websocket"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(try SocketIOClient.engineURL(for: XCTUnwrap(URL(string: input))).absoluteString, expected)
        }
        XCTAssertThrowsError(try SocketIOClient.engineURL(for: XCTUnwrap(URL(string: "ftp://x"))))
    }

    /// Ping timers outside 1 ms ... 1 h are a protocol error, not a liveness deadline that traps.
    func testAbsurdPingTimersAreAProtocolError() {
        let rejected: [(String, String)] = [
            ("9223372036854775807", "1"), ("1", "9223372036854775807"),
            ("4611686018427387904", "4611686018427387904"), ("3600001", "20000"), ("25000", "3600001"),
            ("0", "20000"), ("-1", "20000"), ("25000", "0"), ("1e300", "1"), ("25000.5", "20000"),
        ]
        for (interval, timeout) in rejected {
            var core = SocketIOClientCore(now: start)
            let frame = #"0{"sid":"e1","upgrades":[],"pingInterval":\#(interval),"pingTimeout":\#(timeout)}"#
            let outputs = core.receive(frame: frame, now: start)
            guard case .failed(.malformedPacket)? = outputs.first else {
                XCTFail("\(interval)/\(timeout) accepted: \(outputs)")
                // What the client would do next: connect, then compute the liveness deadline.
                _ = core.receive(frame: #"40{"sid":"s1"}"#, now: start)
                _ = core.livenessDeadline
                continue
            }
            XCTAssertEqual(core.phase, .closed)
        }
        var longest = SocketIOClientCore(now: start)
        _ = longest.receive(frame: #"0{"sid":"e1","upgrades":[],"pingInterval":3600000,"pingTimeout":3600000}"#, now: start)
        XCTAssertEqual(longest.receive(frame: #"40{"sid":"s1"}"#, now: start), [.connected(sid: "s1")])
        XCTAssertEqual(longest.livenessDeadline, start + .seconds(7200))
    }
}
