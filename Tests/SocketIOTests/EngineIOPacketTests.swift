import SocketIO
import XCTest

/// Vectors from the published Engine.IO v4 protocol document.
final class EngineIOPacketTests: XCTestCase {
    func testPacketTypes() throws {
        let vectors: [(String, EngineIOPacket.PacketType, String)] = [
            (#"0{"sid":"lv_VI97HAXpY6yYWAAAC"}"#, .open, #"{"sid":"lv_VI97HAXpY6yYWAAAC"}"#),
            ("1", .close, ""),
            ("2", .ping, ""),
            ("3", .pong, ""),
            ("2probe", .ping, "probe"),
            ("3probe", .pong, "probe"),
            ("4hello", .message, "hello"),
            ("5", .upgrade, ""),
            ("6", .noop, ""),
        ]
        for (frame, type, payload) in vectors {
            let packet = try EngineIOPacket(parsing: frame)
            XCTAssertEqual(packet.type, type, frame)
            XCTAssertEqual(String(packet.payload), payload, frame)
            XCTAssertEqual(packet.serialize(), frame)
        }
    }

    func testHandshake() throws {
        let open = #"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#
        let handshake = try EngineIOHandshake(parsing: Substring(open))
        XCTAssertEqual(handshake, EngineIOHandshake(sid: "lv_VI97HAXpY6yYWAAAC", upgrades: ["websocket"],
                                                    pingInterval: 25000, pingTimeout: 5000, maxPayload: 1_000_000))
    }

    func testMalformed() {
        for frame in ["", "7", "a", "\u{0}"] {
            XCTAssertThrowsError(try EngineIOPacket(parsing: frame), frame.debugDescription)
        }
        for open in ["", "{}", #"{"sid":1}"#, #"{"sid":"a","upgrades":[],"pingInterval":0,"pingTimeout":1}"#, "[", "null"] {
            XCTAssertThrowsError(try EngineIOHandshake(parsing: Substring(open)), open)
        }
    }
}
