import Bytes
import SocketIO
import XCTest

/// Vectors from the published Socket.IO v5 protocol document ("Packet encoding" examples).
final class SocketIOPacketTests: XCTestCase {
    private let vectors: [(String, SocketIOPacket)] = [
        (#"0{"token":"123"}"#, SocketIOPacket(type: .connect, data: ["token": "123"])),
        (#"0/admin,{"token":"123"}"#, SocketIOPacket(type: .connect, namespace: "/admin", data: ["token": "123"])),
        ("1/admin,", SocketIOPacket(type: .disconnect, namespace: "/admin")),
        (#"2["hello",1]"#, SocketIOPacket(type: .event, data: ["hello", 1])),
        (#"2/admin,456["project:delete",123]"#,
         SocketIOPacket(type: .event, namespace: "/admin", ackId: 456, data: ["project:delete", 123])),
        ("3/admin,456[]", SocketIOPacket(type: .ack, namespace: "/admin", ackId: 456, data: [])),
        (#"4/admin,{"message":"Not authorized"}"#,
         SocketIOPacket(type: .connectError, namespace: "/admin", data: ["message": "Not authorized"])),
        (#"51-["hello",{"_placeholder":true,"num":0}]"#,
         SocketIOPacket(type: .binaryEvent, data: ["hello", ["_placeholder": true, "num": 0]], attachments: 1)),
        // Server answers seen from python-socketio and in the capture.
        (#"0{"sid":"oSO0OpakMV_3jnilAAAA"}"#, SocketIOPacket(type: .connect, data: ["sid": "oSO0OpakMV_3jnilAAAA"])),
        (#"31["already exists"]"#, SocketIOPacket(type: .ack, ackId: 1, data: ["already exists"])),
        ("1", SocketIOPacket(type: .disconnect)),
    ]

    func testPublishedExamplesParse() throws {
        for (text, packet) in vectors {
            XCTAssertEqual(try SocketIOPacket(parsing: Substring(text)), packet, text)
        }
    }

    func testPublishedExamplesSerialize() {
        for (text, packet) in vectors {
            XCTAssertEqual(packet.serialize(), text)
        }
    }

    func testEventContent() throws {
        let packet = try SocketIOPacket(parsing: #"2["newProducers",[{"producer_id":"p1","member_no":"1","kind":"audio"}]]"#)
        let content = try XCTUnwrap(packet.eventContent)
        XCTAssertEqual(content.name, "newProducers")
        XCTAssertEqual(content.args.first?.arrayValue?.first?["kind"], "audio")
    }

    func testLargeNumbersStayIntegers() throws {
        // SSRCs are up to 2^32-1; they must not turn into doubles and back.
        let packet = try SocketIOPacket(parsing: #"30[{"ssrc":4294967295}]"#)
        XCTAssertEqual(packet.data?.arrayValue?.first?["ssrc"], .int(4_294_967_295))
        XCTAssertEqual(packet.serialize(), #"30[{"ssrc":4294967295}]"#)
    }

    func testMalformedPacketsThrow() {
        let malformed = [
            "", "9", "x", "2", "2[", "2{}", "2[1,2]", "2[]", "3[\"no id\"]", "35{\"a\":1}",
            "5[\"x\"]", "5x-[\"x\"]", "2/admin,[", "2 garbage", "2[\"a\"]trailing",
            "2999999999999999999999[\"x\"]", "0 8", "1{}", "4 2", "21 [\"x\"]",
        ]
        for text in malformed {
            XCTAssertThrowsError(try SocketIOPacket(parsing: Substring(text)), text.debugDescription) { error in
                guard case .malformedPacket? = error as? SocketIOError else {
                    return XCTFail("\(text.debugDescription): \(error)")
                }
            }
        }
    }

    func testRandomInputNeverTraps() {
        var generator = SplitMix64(seed: 7)
        let alphabet = Array(#"0123456789/,[]{}":-abc \#u{0}é"#)
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 24)
            let text = String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            if let packet = try? SocketIOPacket(parsing: Substring(text)) {
                // Whatever parses must re-parse to the same packet from its own serialization.
                XCTAssertEqual(try? SocketIOPacket(parsing: Substring(packet.serialize())), packet, text)
            }
        }
    }
}
