@testable import Signaling
import SocketIO
import XCTest

final class ProtocolNamesTests: XCTestCase {
    func testDefaultsAreThePROTOCOLNames() {
        let names = ProtocolNames.standard
        XCTAssertEqual(names.wireEvent("createRoom"), "createRoom")
        XCTAssertEqual(names.outgoing(["room_id": "42"]), ["room_id": "42"])
    }

    func testRenamedDeployment() throws {
        let names = try ProtocolNames(events: ["createRoom": "create_room", "newProducers": "new_producers"],
                                      fields: ["room_id": "roomId", "member_no": "memberNo", "producer_id": "producerId"])
        XCTAssertEqual(names.wireEvent("createRoom"), "create_room")
        XCTAssertEqual(names.canonicalEvent("new_producers"), "newProducers")
        XCTAssertEqual(names.canonicalEvent("consumerClosed"), "consumerClosed")
        XCTAssertEqual(names.outgoing(["room_id": "42", "type": "consumer"]), ["roomId": "42", "type": "consumer"])
        // Incoming lists of objects are renamed one level down (newProducers).
        let incoming = names.incoming([["producerId": "p", "memberNo": "1", "kind": "audio"]])
        XCTAssertEqual(try ProducerInfo.list(parsing: incoming), [ProducerInfo(producerId: "p", memberNo: "1", kind: .audio)])
        // Nested mediasoup objects are left alone.
        let deep: JSONValue = ["rtpParameters": ["codecs": [["payloadType": 1]]]]
        XCTAssertEqual(names.incoming(deep), deep)
    }

    func testUnknownNamesAreConfigurationErrors() {
        XCTAssertThrowsError(try ProtocolNames(events: ["creatRoom": "x"])) { error in
            XCTAssertTrue("\(error)".contains("unknown event name \"creatRoom\""), "\(error)")
        }
        XCTAssertThrowsError(try ProtocolNames(fields: ["roomid": "x"]))
    }

    func testErrorsNameTheStep() {
        let cases: [(any Error, String)] = [
            (SocketIOError.unreachable("127.0.0.1:1: connection refused"), "edge join: cannot reach server: 127.0.0.1:1: connection refused"),
            (SocketIOError.timeout(event: "join", seconds: 2), "edge join: no answer from server within 2 s"),
            (SocketIOError.malformedPacket("x"), "edge join: protocol error: x"),
            (SocketIOError.connectRefused("bad token"), "edge join: server refused: bad token"),
            (SocketIOError.heartbeatTimeout, "edge join: connection lost: server stopped answering (no Engine.IO ping in time)"),
        ]
        for (error, text) in cases {
            XCTAssertEqual(RoomError.from(error, step: "edge join").description, text)
        }
    }
}
