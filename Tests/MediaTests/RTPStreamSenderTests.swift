import Media
import RTP
import XCTest

final class RTPStreamSenderTests: XCTestCase {
    private func sender(rtx: Bool) -> RTPStreamSender {
        var configuration = RTPStreamSender.Configuration(ssrc: 1111, payloadType: 101, clockRate: 90000)
        if rtx { configuration.rtx = (2222, 102) }
        configuration.mid = "1"
        configuration.midExtensionId = 1
        configuration.absSendTimeExtensionId = 4
        configuration.transportSequenceExtensionId = 5
        configuration.historySize = 8
        return RTPStreamSender(configuration: configuration)
    }

    func testPacketsCarryHeaderExtensionsAndMarker() throws {
        var stream = sender(rtx: false)
        var twcc: UInt16 = 65535
        let packets = stream.packets(for: [[1], [2], [3]], timestamp: 9000, captureTime: 1, markLast: true,
                                     transportSequence: &twcc, now: 2)
        XCTAssertEqual(packets.map(\.marker), [false, false, true])
        XCTAssertEqual(Set(packets.map(\.timestamp)), [9000])
        XCTAssertEqual(packets[1].sequenceNumber, packets[0].sequenceNumber &+ 1)
        XCTAssertEqual(packets[0].extensionElement(1).map(Array.init), Array("1".utf8))
        XCTAssertEqual(packets[0].extensionElement(5).map(Array.init), [0xFF, 0xFF])
        XCTAssertEqual(packets[1].extensionElement(5).map(Array.init), [0x00, 0x00], "transport-wide sequence wraps")
        XCTAssertEqual(packets[0].extensionElement(4).map(Array.init), [0x08, 0x00, 0x00], "abs-send-time 2.0 s in 6.18")
        XCTAssertEqual(twcc, 2)
        // Re-parses from the wire unchanged.
        XCTAssertEqual(try RTPPacket(parsing: packets[2].serialize()), packets[2])
        XCTAssertEqual(stream.packetsSent, 3)
        XCTAssertEqual(stream.octetsSent, 3)
    }

    func testNACKAnsweredWithRTX() throws {
        var stream = sender(rtx: true)
        var twcc: UInt16 = 0
        let sent = stream.packets(for: [[10, 11], [12]], timestamp: 3000, captureTime: 0, markLast: true, transportSequence: &twcc, now: 0)
        let resent = stream.retransmissions(for: [sent[1].sequenceNumber, sent[0].sequenceNumber &- 100], transportSequence: &twcc, now: 0)
        XCTAssertEqual(resent.count, 1, "what is not in the history is not resent")
        let rtx = try XCTUnwrap(resent.first)
        XCTAssertEqual(rtx.ssrc, 2222)
        XCTAssertEqual(rtx.payloadType, 102)
        XCTAssertEqual(rtx.timestamp, 3000)
        XCTAssertTrue(rtx.marker)
        // RFC 4588: original sequence number, then the original payload.
        let osn = sent[1].sequenceNumber
        XCTAssertEqual(Array(rtx.payload), [UInt8(osn >> 8), UInt8(osn & 0xFF), 12])
        XCTAssertEqual(stream.retransmissions, 1)
    }

    func testWithoutRTXTheOriginalIsResentAndHistoryIsBounded() {
        var stream = sender(rtx: false)
        var twcc: UInt16 = 0
        let first = stream.packets(for: [[1]], timestamp: 0, captureTime: 0, markLast: true, transportSequence: &twcc, now: 0)[0]
        XCTAssertEqual(stream.retransmissions(for: [first.sequenceNumber], transportSequence: &twcc, now: 0), [first])
        for _ in 0..<8 { _ = stream.packets(for: [[2]], timestamp: 0, captureTime: 0, markLast: true, transportSequence: &twcc, now: 0) }
        XCTAssertEqual(stream.retransmissions(for: [first.sequenceNumber], transportSequence: &twcc, now: 0), [], "pushed out of the 8-packet history")
    }

    func testSenderReportExtrapolatesRTPTime() throws {
        var stream = sender(rtx: false)
        XCTAssertNil(stream.senderReport(now: 0, ntp: 0), "nothing sent yet")
        var twcc: UInt16 = 0
        _ = stream.packets(for: [[1, 2, 3]], timestamp: 90000, captureTime: 10, markLast: true, transportSequence: &twcc, now: 10)
        let report = try XCTUnwrap(stream.senderReport(now: 10.5, ntp: 0xABCD_0000_0000))
        XCTAssertEqual(report.rtpTimestamp, 90000 + 45000)
        XCTAssertEqual(report.packetCount, 1)
        XCTAssertEqual(report.octetCount, 3)
        XCTAssertEqual(report.ntpTimestamp, 0xABCD_0000_0000)
    }
}
