import Bytes
import XCTest
@testable import RTP

/// abs-capture-time (http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time): 8 bytes
/// of Q32.32 NTP capture time, or 16 with a signed Q32.32 clock offset.
final class AbsoluteCaptureTimeTests: XCTestCase {
    func testVectors() throws {
        // 2026-12-07 12:00:00.5 UTC: 4,005,633,600 s since 1900, and half a second.
        let short: [UInt8] = [0xEE, 0xC1, 0x1E, 0x40, 0x80, 0x00, 0x00, 0x00]
        let parsed = try AbsoluteCaptureTime(parsing: short[...])
        XCTAssertEqual(parsed.captureTimestamp, 0xEEC1_1E40_8000_0000)
        XCTAssertNil(parsed.estimatedCaptureClockOffset)
        XCTAssertEqual(parsed.captureSeconds, 4_005_633_600.5)
        XCTAssertEqual(parsed.serialize(), short)
        // With an offset of -1.25 s.
        let long = short + [0xFF, 0xFF, 0xFF, 0xFE, 0xC0, 0x00, 0x00, 0x00]
        let withOffset = try AbsoluteCaptureTime(parsing: long[...])
        XCTAssertEqual(withOffset.estimatedCaptureClockOffset, -(5 << 30))
        XCTAssertEqual(withOffset.serialize(), long)
    }

    func testOtherLengthsAreRefused() {
        for count in [0, 1, 7, 9, 15, 17] {
            XCTAssertThrowsError(try AbsoluteCaptureTime(parsing: [UInt8](repeating: 1, count: count)[...]), "\(count) bytes")
        }
    }

    /// As an element of a one-byte header extension block next to others, read back by id.
    func testAsAnElementOfAPacket() throws {
        let value = AbsoluteCaptureTime(captureTimestamp: 0x0102_0304_0506_0708)
        let block = RTPHeaderExtension(elements: [.init(id: 1, data: Array("0".utf8)[...]), .init(id: 13, data: value.serialize()[...])])
        XCTAssertTrue(block.isOneByte)
        let packet = RTPPacket(payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, headerExtension: block, payload: [9])
        let back = try RTPPacket(parsing: packet.serialize()[...])
        XCTAssertEqual(try AbsoluteCaptureTime(parsing: try XCTUnwrap(back.extensionElement(13))), value)
    }
}
