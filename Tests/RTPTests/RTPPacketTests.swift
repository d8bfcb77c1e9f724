import Bytes
import RTP
import XCTest

final class RTPPacketTests: XCTestCase {
    func testBuildsAndParsesOneByteExtensions() throws {
        let ext = RTPHeaderExtension(elements: [
            .init(id: 1, data: Array("1".utf8)[...]),
            .init(id: 10, data: [0x80 | 42]),
        ])
        XCTAssertTrue(ext.isOneByte)
        XCTAssertEqual(ext.data.count % 4, 0)
        let packet = RTPPacket(payloadType: 100, sequenceNumber: 65535, timestamp: 0xFFFF_FFFF, ssrc: 0xDEAD_BEEF,
                               marker: true, headerExtension: ext, payload: [1, 2, 3])
        let bytes = packet.serialize()
        // V=2, X=1; M=1 PT=100; seq; ts; ssrc; BEDE, 1 word; elements; payload.
        XCTAssertEqual(bytes.hex, "90e4ffffffffffffdeadbeefbede0001" + "1031" + "a0aa" + "010203")
        let parsed = try RTPPacket(parsing: bytes)
        XCTAssertEqual(parsed, packet)
        XCTAssertEqual(parsed.extensionElement(10).map(Array.init), [0x80 | 42])
    }

    func testTwoByteExtensionsAndPadding() throws {
        let long = [UInt8](repeating: 7, count: 20)
        let ext = RTPHeaderExtension(elements: [.init(id: 1, data: long[...]), .init(id: 20, data: [9])])
        XCTAssertTrue(ext.isTwoByte)
        let packet = RTPPacket(payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, csrcs: [4, 5],
                               headerExtension: ext, payload: [0xAA], paddingLength: 3)
        let bytes = packet.serialize()
        XCTAssertEqual(bytes.count, packet.serializedSize)
        XCTAssertEqual(bytes.last, 3)
        let parsed = try RTPPacket(parsing: bytes)
        XCTAssertEqual(parsed, packet)
        XCTAssertEqual(parsed.extensionElement(1).map(Array.init), long)
        XCTAssertEqual(parsed.extensionElement(20).map(Array.init), [9])
        XCTAssertEqual(parsed.csrcs, [4, 5])
    }

    func testMalformed() {
        let cases: [(String, String)] = [
            ("", "empty"),
            ("80", "one byte"),
            ("40600001000000020000000300", "version 1"),
            ("806000010000000200000003", "ok header"),  // valid: empty payload
            ("8f600001000000020000000300000000", "15 CSRCs announced, one given"),
            ("90600001000000020000000300", "extension header cut"),
            ("906000010000000200000003bede0002aabbccdd", "extension longer than packet"),
            ("a06000010000000200000003aa05", "padding count larger than payload"),
            ("a06000010000000200000003aa00", "padding count 0"),
        ]
        for (hex, name) in cases {
            let bytes = [UInt8](hex: hex)!
            if name == "ok header" {
                XCTAssertNoThrow(try RTPPacket(parsing: bytes), name)
            } else {
                XCTAssertThrowsError(try RTPPacket(parsing: bytes), name)
            }
        }
        // An element running past the block is reported by elements(), not a trap.
        let bad = RTPHeaderExtension(profile: 0xBEDE, data: [0x1F, 0, 0, 0])
        XCTAssertThrowsError(try bad.elements())
        XCTAssertNil(bad.element(1))
    }
}
