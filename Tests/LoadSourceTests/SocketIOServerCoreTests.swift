import LoadSource
import SocketIO
import XCTest

/// The server half of Engine.IO v4 / Socket.IO v5, frame by frame, without sockets.
final class SocketIOServerCoreTests: XCTestCase {
    private let start = ContinuousClock.now
    private let settings = SocketIOServerCore.Settings(pingInterval: .seconds(25), pingTimeout: .seconds(20), maxPayload: 1_000_000)

    private func core() -> SocketIOServerCore {
        SocketIOServerCore(engineSid: "E1", socketSid: "S1", settings: settings, now: start)
    }

    func testTheOpenPacketCarriesTheHandshakeNachoReads() throws {
        let open = core().openFrame
        XCTAssertEqual(open.first, "0")
        let handshake = try EngineIOHandshake(parsing: open.dropFirst())
        XCTAssertEqual(handshake, EngineIOHandshake(sid: "E1", upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1_000_000))
    }

    func testConnectIsAnsweredWithTheSocketIdThenEventsBecomeRequests() {
        var core = core()
        XCTAssertEqual(core.receive(frame: "40", now: start), [.send(#"40{"sid":"S1"}"#), .connected])
        XCTAssertEqual(core.phase, .connected)
        XCTAssertEqual(core.receive(frame: #"427["join",{"room_id":"42"}]"#, now: start),
                       [.event(name: "join", args: [["room_id": "42"]], ackId: 7)])
        XCTAssertEqual(core.receive(frame: #"42["getProducers",{}]"#, now: start),
                       [.event(name: "getProducers", args: [[:]], ackId: nil)])
        XCTAssertEqual(core.ackFrame(id: 7, args: ["success"]), #"437["success"]"#)
        XCTAssertEqual(core.eventFrame("newProducers", [[]]), #"42["newProducers",[]]"#)
    }

    func testAConnectWithAnAuthPayloadIsAccepted() {
        var core = core()
        XCTAssertEqual(core.receive(frame: #"40{"token":"secret"}"#, now: start), [.send(#"40{"sid":"S1"}"#), .connected])
    }

    func testAnotherNamespaceIsRefusedAndTheSessionStays() {
        var core = core()
        XCTAssertEqual(core.receive(frame: "40/admin,", now: start), [.send(#"44/admin,{"message":"Invalid namespace"}"#)])
        XCTAssertEqual(core.phase, .awaitingConnect)
        XCTAssertEqual(core.receive(frame: "40", now: start), [.send(#"40{"sid":"S1"}"#), .connected])
    }

    func testTheServerPingsEveryIntervalAndClosesWhenNoPongComes() {
        var core = core()
        _ = core.receive(frame: "40", now: start)
        XCTAssertEqual(core.tick(now: start + .seconds(24)), [])
        XCTAssertEqual(core.nextDeadline, start + .seconds(25))
        XCTAssertEqual(core.tick(now: start + .seconds(25)), [.send("2")])
        XCTAssertEqual(core.tick(now: start + .seconds(30)), [], "one ping in flight at a time")
        XCTAssertEqual(core.receive(frame: "3", now: start + .seconds(31)), [])
        XCTAssertEqual(core.nextDeadline, start + .seconds(56), "the next ping an interval after the pong")
        XCTAssertEqual(core.tick(now: start + .seconds(56)), [.send("2")])
        XCTAssertEqual(core.tick(now: start + .seconds(75)), [])
        guard case .close(let reason, let protocolError)? = core.tick(now: start + .seconds(76)).first else {
            return XCTFail("no close without a pong")
        }
        XCTAssertFalse(protocolError)
        XCTAssertTrue(reason.contains("no pong"), reason)
        XCTAssertEqual(core.phase, .closed)
        XCTAssertEqual(core.receive(frame: #"42["join",{}]"#, now: start + .seconds(77)), [], "nothing after the close")
    }

    func testAProbePingIsAnsweredInKind() {
        var core = core()
        XCTAssertEqual(core.receive(frame: "2probe", now: start), [.send("3probe")])
    }

    func testLeavingIsANormalClose() {
        var leaving = core()
        _ = leaving.receive(frame: "40", now: start)
        XCTAssertEqual(leaving.receive(frame: "41", now: start), [.close(reason: "the client left the namespace", protocolError: false)])
        var closing = core()
        XCTAssertEqual(closing.receive(frame: "1", now: start), [.close(reason: "the client closed the Engine.IO session", protocolError: false)])
    }

    /// Malformed frames end the session with a reason that says what was wrong; none traps.
    func testMalformedFramesCloseTheSessionWithAClearReason() {
        let cases: [(frame: String?, mentions: String)] = [
            ("", "empty Engine.IO frame"),
            ("9", "unknown Engine.IO packet type"),
            ("0{}", "open packet from the client"),
            ("4", "unknown Socket.IO packet type"),
            ("4x", "unknown Socket.IO packet type"),
            ("42[", "invalid JSON"),
            (#"42{"a":1}"#, "event without a name"),
            ("42[1]", "event without a name"),
            ("42" + String(repeating: "[", count: 10_000), "invalid JSON"),
            ("4299999999999999999[\"x\"]", "ack id out of range"),
            (#"451-["join",{"_placeholder":true,"num":0}]"#, "binary"),
            ("44{}", "CONNECT_ERROR"),
            ("40abc", "not an object or array"),
            (nil, "binary frame"),
        ]
        for (frame, mentions) in cases {
            var core = core()
            _ = core.receive(frame: "40", now: start)
            let outputs = frame.map { core.receive(frame: $0, now: start) } ?? core.receiveBinaryFrame()
            guard outputs.count == 1, case .close(let reason, let protocolError) = outputs[0] else {
                XCTFail("\(frame.debugDescription): \(outputs)")
                continue
            }
            XCTAssertTrue(protocolError, "\(frame.debugDescription)")
            XCTAssertTrue(reason.contains(mentions), "\(frame.debugDescription): \(reason)")
            XCTAssertEqual(core.phase, .closed)
        }
    }

    func testAnEventBeforeConnectAndASecondConnectAreProtocolErrors() {
        var early = core()
        XCTAssertEqual(early.receive(frame: #"420["join",{}]"#, now: start),
                       [.close(reason: "an event before the namespace CONNECT", protocolError: true)])
        var twice = core()
        _ = twice.receive(frame: "40", now: start)
        XCTAssertEqual(twice.receive(frame: "40", now: start), [.close(reason: "a second CONNECT to the namespace", protocolError: true)])
    }
}
