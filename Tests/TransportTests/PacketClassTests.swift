import Transport
import XCTest

/// RFC 7983 demultiplexing by first byte.
final class PacketClassTests: XCTestCase {
    func testClassification() {
        let stun: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42] + Array(repeating: 0, count: 12)
        XCTAssertEqual(PacketClass(stun[...]), .stun)
        XCTAssertEqual(PacketClass([0x00, 0x01, 0x00, 0x00][...]), .unknown, "too short for STUN")
        XCTAssertEqual(PacketClass([22, 0xFE, 0xFD][...]), .dtls)
        XCTAssertEqual(PacketClass([0x80, 101, 0, 1][...]), .rtp)
        XCTAssertEqual(PacketClass([0x80, 0xE5, 0, 1][...]), .rtp, "marker + PT 101")
        XCTAssertEqual(PacketClass([0x81, 200, 0, 6][...]), .rtcp)
        XCTAssertEqual(PacketClass([0x8F, 206, 0, 2][...]), .rtcp)
        XCTAssertEqual(PacketClass([64][...]), .unknown, "TURN channel range is not used")
        XCTAssertEqual(PacketClass([][...]), .unknown)
    }
}
