import Bytes
@testable import RTP
import XCTest

/// The parts the RTCP types share: the feedback messages' common header and FCI item lists
/// (RFC 4585 §6.1), and the report blocks that end an SR or RR (RFC 3550 §6.4).
final class RTCPSharedPartsTests: XCTestCase {
    private func parse(_ hex: String, format: UInt8 = FullIntraRequest.format) throws -> RTCPFeedbackHeader {
        try RTCPFeedbackHeader(parsing: [UInt8](hex: hex)![...], packetType: RTCPPacketType.payloadFeedback,
                               format: format, what: "RTCP FIR")
    }

    private func message(_ error: any Error) -> String { (error as? MalformedPacket)?.description ?? "\(error)" }

    func testFeedbackHeaderReadsBothSSRCsAndItems() throws {
        // PSFB FMT 4, two FIR entries.
        var common = try parse("84ce0006" + "0000000a" + "00000000" + "0000000b07000000" + "0000000c08000000")
        XCTAssertEqual(common.senderSSRC, 10)
        XCTAssertEqual(common.mediaSSRC, 0)
        XCTAssertEqual(common.header.length, 28)
        let entries: [FullIntraRequest.Entry] = try common.readItems("entries")
        XCTAssertEqual(entries, [.init(ssrc: 11, sequenceNumber: 7), .init(ssrc: 12, sequenceNumber: 8)])
        XCTAssertEqual(RTCPFeedbackHeader.size(of: entries), 28)
    }

    func testFeedbackHeaderItemsStopBeforePadding() throws {
        // Padded: one FIR entry, then 4 bytes of padding whose last byte counts them.
        var common = try parse("a4ce0005" + "0000000a" + "00000000" + "0000000b07000000" + "00000004")
        let entries: [FullIntraRequest.Entry] = try common.readItems("entries")
        XCTAssertEqual(entries, [.init(ssrc: 11, sequenceNumber: 7)])
    }

    func testFeedbackHeaderRejectsAnotherFormat() {
        XCTAssertThrowsError(try parse("81ce0002" + "0000000a" + "00000000")) {
            XCTAssertEqual(message($0), "RTCP FIR: FMT 1, expected 4")
        }
    }

    func testFeedbackItemsMustBeWholeAndAtLeastOne() throws {
        for hex in ["84ce0002" + "0000000a" + "00000000", "84ce0003" + "0000000a" + "00000000" + "0000000b"] {
            var common = try parse(hex)
            XCTAssertThrowsError(try common.readItems("entries") as [FullIntraRequest.Entry], hex) {
                XCTAssertEqual(message($0), "RTCP FIR: no FCI entries", hex)
            }
        }
        // The same FCI is two whole NACK items (4 bytes each).
        var nack = try RTCPFeedbackHeader(parsing: [UInt8](hex: "81cd0004" + "0000000a" + "00000000" + "0000000b07000000")![...],
                                          packetType: RTCPPacketType.transportFeedback, format: GenericNACK.format, what: "RTCP NACK")
        let items: [GenericNACK.Item] = try nack.readItems("items")
        XCTAssertEqual(items, [.init(packetId: 0, lostBitmask: 11), .init(packetId: 0x0700, lostBitmask: 0)])
    }

    func testFeedbackHeaderWritesWhatItParses() throws {
        var writer = ByteWriter()
        RTCPFeedbackHeader.write(packetType: RTCPPacketType.payloadFeedback, format: PictureLossIndication.format,
                                 senderSSRC: 0x0102_0304, mediaSSRC: 0x0506_0708, size: 12, to: &writer)
        XCTAssertEqual(writer.bytes, [UInt8](hex: "81ce0002" + "01020304" + "05060708"))
        let common = try RTCPFeedbackHeader(parsing: writer.bytes[...], packetType: RTCPPacketType.payloadFeedback,
                                            format: PictureLossIndication.format, what: "RTCP PLI")
        XCTAssertEqual(common.senderSSRC, 0x0102_0304)
        XCTAssertEqual(common.mediaSSRC, 0x0506_0708)
        XCTAssertTrue(common.fci.isAtEnd)
    }

    func testReportBlocksReadCountedBlocksAndTheExtension() throws {
        let block = ReceptionReport(ssrc: 9, fractionLost: 1, cumulativeLost: -2, extendedHighestSequence: 3, jitter: 4,
                                    lastSenderReport: 5, delaySinceLastSenderReport: 6)
        var writer = ByteWriter()
        ReportBlocks.write([block, block], profileExtension: [1, 2, 3, 4], to: &writer)
        XCTAssertEqual(writer.bytes.count, ReportBlocks.size(of: [block, block], profileExtension: [1, 2, 3, 4]))
        var reader = ByteReader(writer.bytes, what: "test")
        let blocks = try ReportBlocks(reading: &reader, count: 2, in: SenderReport.self)
        XCTAssertEqual(blocks.reports, [block, block])
        XCTAssertEqual(Array(blocks.profileExtension), [1, 2, 3, 4])
        // One block less than announced: the rest is 28 bytes, not a whole block.
        var short = ByteReader(writer.bytes.dropLast(24), what: "test")
        XCTAssertThrowsError(try ReportBlocks(reading: &short, count: 2, in: SenderReport.self))
    }

    func testReportBlocksRejectAnUnalignedExtension() {
        var reader = ByteReader([UInt8](repeating: 0, count: 26), what: "test")
        XCTAssertThrowsError(try ReportBlocks(reading: &reader, count: 1, in: ReceiverReport.self)) {
            XCTAssertEqual(message($0), "RTCP ReceiverReport: profile extension of 2 bytes is not 32-bit aligned")
        }
    }
}
