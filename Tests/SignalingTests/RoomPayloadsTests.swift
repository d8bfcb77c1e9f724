import ORTC
@testable import Signaling
import SocketIO
import XCTest

final class RoomPayloadsTests: XCTestCase {
    private func fixture(_ name: String, ext: String = "json") throws -> Data {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures"))
        return try Data(contentsOf: url)
    }

    private func json(_ name: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: fixture(name))
    }

    func testJoinAnswerFromTheCapture() throws {
        let answer = try JoinAnswer(parsing: json("join-answer"))
        XCTAssertEqual(answer.roomId, "selftest")
        XCTAssertEqual(answer.peers, [Peer(memberNo: "1", type: "consumer")])
    }

    func testJoinAnswerVariants() throws {
        // peers as a JSON-encoded string, member numbers as numbers.
        let stringPeers: JSONValue = ["room_id": 42, "peers": #"[{"member_no":3,"type":"producer"}]"#]
        XCTAssertEqual(try JoinAnswer(parsing: stringPeers), JoinAnswer(roomId: "42", peers: [Peer(memberNo: "3", type: "producer")]))
        // Missing peers entirely.
        XCTAssertEqual(try JoinAnswer(parsing: ["room_id": "r"]).peers, [])
        XCTAssertThrowsError(try JoinAnswer(parsing: "joined"))
        XCTAssertThrowsError(try JoinAnswer(parsing: ["peers": "not json"]))
        XCTAssertThrowsError(try JoinAnswer(parsing: ["peers": 5]))
    }

    func testNewProducersFromTheCaptureAndVariants() throws {
        let list = try ProducerInfo.list(parsing: json("new-producers"))
        XCTAssertEqual(list.map(\.kind), [.audio, .video])
        XCTAssertEqual(list.map(\.memberNo), ["1", "1"])
        XCTAssertEqual(list[0].producerId, "758e5691-479d-4b14-a956-75426360af43")

        let minimal = try ProducerInfo.list(parsing: [["producer_id": "p", "producer_socket_id": "sock"]])
        XCTAssertEqual(minimal, [ProducerInfo(producerId: "p", producerSocketId: "sock")])
        XCTAssertEqual(minimal[0].owner, "sock")
        XCTAssertEqual(try ProducerInfo.list(parsing: []), [])
        XCTAssertThrowsError(try ProducerInfo.list(parsing: [["kind": "audio"]]))
        XCTAssertThrowsError(try ProducerInfo.list(parsing: "nope"))
        // An unknown kind is not fatal: it is learned from the consume answer.
        XCTAssertNil(try ProducerInfo.list(parsing: [["producer_id": "p", "kind": "data"]])[0].kind)
    }

    /// Every answer and event of a real session (mediasoup 3.14 behind python-socketio) decodes
    /// into nacho's typed payloads.
    func testEveryMessageOfTheRealTranscriptDecodes() throws {
        let text = String(decoding: try fixture("transcript-member2", ext: "jsonl"), as: UTF8.self)
        var decoded: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let message = try JSONValue(parsing: line)
            guard let event = message["event"]?.stringValue, let dir = message["dir"]?.stringValue,
                  let data = message["data"] else { continue }
            switch (dir, event) {
            case ("ack", "join"):
                XCTAssertFalse(try JoinAnswer(parsing: data).peers.isEmpty)
            case ("ack", "getRouterRtpCapabilities"):
                let caps = try data.decode(RtpCapabilities.self)
                XCTAssertTrue(try Device(routerRtpCapabilities: caps).canProduce(.video))
            case ("ack", "createWebRtcTransport"):
                _ = try data.decode(TransportOptions.self).validated()
            case ("ack", "consume"):
                _ = try data.decode(ConsumerOptions.self)
            case ("out", "newProducers"):
                XCTAssertEqual(try ProducerInfo.list(parsing: data).count, 2)
            case ("in", "produce"):
                _ = try XCTUnwrap(data["rtpParameters"]).decode(RtpParameters.self)
            case ("in", "consume"):
                _ = try XCTUnwrap(data["rtpCapabilities"]).decode(RtpCapabilities.self)
            default:
                continue
            }
            decoded["\(dir) \(event)", default: 0] += 1
        }
        XCTAssertEqual(decoded["ack consume"], 2)
        XCTAssertEqual(decoded["ack createWebRtcTransport"], 2)
        XCTAssertEqual(decoded["in produce"], 2)
    }

    func testConsumerAnswersDecodeAndValidate() throws {
        let device = try Device(routerRtpCapabilities: json("router-rtp-capabilities").decode(RtpCapabilities.self))
        for name in ["consume-answer-audio", "consume-answer-video"] {
            XCTAssertNoThrow(try device.validateConsumer(json(name).decode(ConsumerOptions.self)), name)
        }
    }
}
