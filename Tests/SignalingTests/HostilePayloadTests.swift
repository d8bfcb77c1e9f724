import ORTC
@testable import Signaling
import SocketIO
import XCTest

/// Payloads a hostile or broken server could send: each is rejected as malformed (or the
/// entry ignored), none traps.
final class HostilePayloadTests: XCTestCase {
    func testIdentifiersAreIntegersThatFitOrStrings() {
        let cases: [(JSONValue, String?)] = [
            ("abc", "abc"), (.int(7), "7"), (.int(Int.max), "9223372036854775807"), (.double(42), "42"),
            (.double(-3), "-3"), (.double(1e15), "1000000000000000"),
            (.double(1e300), nil), (.double(-1e300), nil), (.double(9.3e18), nil), (.double(.infinity), nil),
            (.double(-.infinity), nil), (.double(.nan), nil), (.double(1.5), nil),
            (.bool(true), nil), (.null, nil), (["a"], nil), (["k": "v"], nil),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(JoinAnswer.identifier(value), expected, "\(value)")
        }
    }

    func testJoinAnswerWithAnUnrepresentableMemberNumberIsMalformed() throws {
        for member: JSONValue in [.double(1e300), .double(-1e300), .double(1e19), .double(2.5), .bool(false), ["x": 1]] {
            XCTAssertThrowsError(try JoinAnswer(parsing: ["room_id": "42", "peers": [["member_no": member]]]), "\(member)")
            XCTAssertThrowsError(try JoinAnswer(parsing: ["room_id": member, "peers": []]), "\(member)")
        }
        let text = #"{"peers":"[{\"member_no\":1e300}]"}"#
        XCTAssertThrowsError(try JoinAnswer(parsing: JSONValue(parsing: Substring(text))))
        // Entries without a member number stay skipped, as before.
        XCTAssertEqual(try JoinAnswer(parsing: ["peers": [["type": "consumer"], ["member_no": 3]]]).peers,
                       [Peer(memberNo: "3", type: nil)])
    }

    func testNewProducersWithUnrepresentableIdsAreMalformed() {
        let hostile: [JSONValue] = [
            [["producer_id": .double(1e300)]],
            [["producer_id": "p", "member_no": .double(1e300)]],
            [["producer_id": "p", "member_no": .double(-9.3e18)]],
            [["producer_id": .double(.infinity)]],
            [["producer_id": "p", "member_no": ["nested": true]]],
            [["producer_id": "p", "producer_socket_id": 5]],
        ]
        for payload in hostile {
            XCTAssertThrowsError(try ProducerInfo.list(parsing: payload), payload.summary)
        }
    }

    func testEveryShapeWhereAListIsExpected() throws {
        let shapes: [JSONValue] = [
            "text", 5, .double(1e300), true, .null, ["producers": "x"], ["producers": ["a": 1]], ["producers": 7],
            ["a", 1, true], [[]], [.null], [["producer_id": ["p"]]],
        ]
        for shape in shapes {
            XCTAssertThrowsError(try ProducerInfo.list(parsing: shape), shape.summary)
        }
        for peers: JSONValue in [["a": 1], 5, true, "{}", "5", #"{"member_no":1}"#] {
            XCTAssertThrowsError(try JoinAnswer(parsing: ["peers": peers]), peers.summary)
        }
        // Non-object peer entries carry no member: skipped.
        XCTAssertEqual(try JoinAnswer(parsing: ["peers": [1, "x", .null, []]]).peers, [])
        // A single object and the wrapped list are tolerated.
        XCTAssertEqual(try ProducerInfo.list(parsing: ["producer_id": "p"]).count, 1)
        XCTAssertEqual(try ProducerInfo.list(parsing: ["producers": [["producer_id": "p"]]]).count, 1)
    }

    func testHugeListsAreAProtocolError() throws {
        let entry: JSONValue = ["producer_id": "p", "member_no": 1, "kind": "audio"]
        let allowed = JSONValue.array(Array(repeating: entry, count: ProducerInfo.maxEntries))
        XCTAssertEqual(try ProducerInfo.list(parsing: allowed).count, 10_000)
        let tooMany = JSONValue.array(Array(repeating: entry, count: ProducerInfo.maxEntries + 1))
        XCTAssertThrowsError(try ProducerInfo.list(parsing: tooMany)) { error in
            XCTAssertTrue("\(error)".contains("more than 10000"), "\(error)")
        }
        XCTAssertThrowsError(try ProducerInfo.list(parsing: ["producers": tooMany]))
        let peer: JSONValue = ["member_no": 1]
        XCTAssertThrowsError(try JoinAnswer(parsing: ["peers": .array(Array(repeating: peer, count: JoinAnswer.maxPeers + 1))]))
    }

    /// Issue 14: ids are capped in bytes; a 1 MiB producer id used to be kept and logged.
    func testIdentifiersLongerThanTheLimitAreMalformed() {
        let longest = String(repeating: "a", count: IdentifierLimit.maxBytes)
        XCTAssertEqual(JoinAnswer.identifier(.string(longest)), longest)
        XCTAssertNil(JoinAnswer.identifier(.string(longest + "a")))
        // Bytes, not characters: 65 four-byte characters are 260 bytes.
        XCTAssertNil(JoinAnswer.identifier(.string(String(repeating: "\u{1D400}", count: 65))))
        let huge = JSONValue.string(String(repeating: "p", count: 1 << 20))
        XCTAssertThrowsError(try ProducerInfo.list(parsing: [["producer_id": huge]])) { error in
            XCTAssertLessThan("\(error)".utf8.count, 400, "the error quotes a summary, not the id")
        }
        XCTAssertThrowsError(try ProducerInfo.list(parsing: [["producer_id": "p", "member_no": huge]]))
        XCTAssertThrowsError(try ProducerInfo.list(parsing: [["producer_id": "p", "producer_socket_id": huge]]))
    }

    /// Issue 14: what the server says in an error answer is kept (skipped producers) and logged
    /// only up to about 1 KiB.
    func testServerErrorTextIsClipped() {
        let text = String(repeating: "é", count: 100_000)
        let error = RoomError.refused(step: "edge consume", text)
        XCTAssertLessThanOrEqual("\(error)".utf8.count, ServerText.maxBytes + 40)
        XCTAssertTrue("\(error)".hasSuffix("..."))
        XCTAssertEqual(ServerText.clipped("short"), "short")
        // Cut at a character boundary: no broken UTF-8.
        let clipped = ServerText.clipped(String(repeating: "\u{1D400}", count: 1000), maxBytes: 10)
        XCTAssertEqual(clipped, "\u{1D400}...")
    }
}
