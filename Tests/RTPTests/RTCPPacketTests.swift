import Bytes
import RTP
import XCTest

final class RTCPPacketTests: XCTestCase {
    func testCompoundRoundTripOfEveryType() throws {
        let packets: [RTCPPacket] = [
            .senderReport(SenderReport(ssrc: 1, ntpTimestamp: 0x0123_4567_89AB_CDEF, rtpTimestamp: 90000, packetCount: 10,
                                       octetCount: 1000, reports: [ReceptionReport(ssrc: 2, fractionLost: 25, cumulativeLost: -3,
                                                                                   extendedHighestSequence: 70000, jitter: 12,
                                                                                   lastSenderReport: 0x4567_89AB, delaySinceLastSenderReport: 65536)])),
            .receiverReport(ReceiverReport(ssrc: 1, reports: [ReceptionReport(ssrc: 3, cumulativeLost: 0x7FFFFF)])),
            .sourceDescription(SourceDescription(cname: "nacho-7", ssrc: 1)),
            .goodbye(Goodbye(ssrcs: [1, 2], reason: "bye")),
            .nack(GenericNACK(senderSSRC: 1, mediaSSRC: 2, lost: [100, 101, 116, 117, 65535])),
            .pli(PictureLossIndication(senderSSRC: 1, mediaSSRC: 2)),
            .fir(FullIntraRequest(senderSSRC: 1, entries: [.init(ssrc: 2, sequenceNumber: 7)])),
            .remb(ReceiverEstimatedMaxBitrate(senderSSRC: 1, bitrate: 1_500_000, ssrcs: [2, 3])),
        ]
        let bytes = RTCPPacket.serializeCompound(packets)
        XCTAssertEqual(bytes.count % 4, 0)
        let parsed = try RTCPPacket.parseCompound(bytes)
        XCTAssertEqual(parsed, packets)
    }

    func testNACKPackingWrapsAround() throws {
        let nack = GenericNACK(senderSSRC: 0, mediaSSRC: 9, lost: [2, 65535, 0, 1, 17, 18])
        // 65535 is the PID; 0, 1, 2 are bits 0..2; 17 is 18 away, so it starts a new item.
        XCTAssertEqual(nack.items, [.init(packetId: 65535, lostBitmask: 0b111), .init(packetId: 17, lostBitmask: 0b1)])
        XCTAssertEqual(nack.lostSequenceNumbers, [65535, 0, 1, 2, 17, 18])
    }

    func testREMBMantissaAndExponent() throws {
        // From the capture: 293432 b/s fits in 18 bits with exponent 1 (mantissa 146716).
        let remb = ReceiverEstimatedMaxBitrate(senderSSRC: 0, bitrate: 293_432, ssrcs: [11_111_111, 22_222_222])
        var writer = ByteWriter()
        remb.write(to: &writer)
        XCTAssertEqual(Array(writer.bytes[16..<20]).hex, "02063d1c")  // count 2, then exp 1 | mantissa 146716
        XCTAssertEqual(try ReceiverEstimatedMaxBitrate(parsing: writer.bytes[...]).bitrate, 293_432)
    }

    func testMalformedThrows() {
        let cases = [
            "", "80", "80c8", "40c80000", "80c80001",  // version 1; length past the end
            "81c9000100000001",  // RR announcing a report block it does not carry
            "81cd0002000000000000000a",  // NACK without items
            "8fce00040000000000000000524542cd01000000",  // REMB identifier wrong → other (not an error)
            "81ca0001000000010100",  // SDES item cut off
            "8fcd0004000000000000000a00000001ffffff00",  // transport-cc: statuses announced, none given
        ]
        for hex in cases {
            let bytes = [UInt8](hex: hex)!
            if hex.hasPrefix("8fce") {
                XCTAssertNoThrow(try RTCPPacket.parseCompound(bytes))
                continue
            }
            XCTAssertThrowsError(try RTCPPacket.parseCompound(bytes), hex)
        }
    }
}

/// Found by fuzzing: a padded RR whose padding count cut into the profile extension parsed,
/// then serialized with a length that no longer matched.
final class RTCPAlignmentTests: XCTestCase {
    func testUnalignedProfileExtensionIsMalformed() {
        let bytes: [UInt8] = [0xa0, 0xc9, 0x00, 0x02, 0x00, 0x00, 0x48, 0x00, 0x00, 0x00, 0x09, 0x01]
        XCTAssertThrowsError(try ReceiverReport(parsing: bytes[...]))
        XCTAssertThrowsError(try RTCPPacket.parseCompound(bytes))
    }
}
