import ORTC
@testable import Participant
import RTP
import XCTest

/// The send side's bitrate adaptation, fed feedback as a receiver (or a hostile one) sends it.
final class BitrateControllerTests: XCTestCase {
    private func controller(video: Int = 1_000_000, audio: Int = 32_000) -> BitrateController {
        var controller = BitrateController()
        controller.add(ssrc: 1, kind: .video, maxBitrate: video)
        controller.add(ssrc: 2, kind: .audio, maxBitrate: audio)
        return controller
    }

    /// A transport-wide feedback packet with `lost` packets missing, then `received` arriving.
    private func feedback(lost: Int, received: Int) throws -> TransportCCFeedback {
        var body: [UInt8] = [0, 0, 0, 9, 0, 0, 0, 1, 0, 0, UInt8((lost + received) >> 8), UInt8((lost + received) & 0xFF), 0, 0, 0, 0]
        if lost > 0 { body += [UInt8(lost >> 8), UInt8(lost & 0xFF)] }  // run of "not received"
        if received > 0 { body += [0x20 | UInt8(received >> 8), UInt8(received & 0xFF)] }  // run of small deltas
        body += [UInt8](repeating: 1, count: received)
        body += [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
        let packet: [UInt8] = [0x80 | 15, 205, 0, UInt8(body.count / 4)] + body
        return try TransportCCFeedback(parsing: packet[...])
    }

    func testREMBCapsVideoAtWhatAudioLeaves() {
        var bitrates = controller()
        XCTAssertEqual(bitrates.remb(bitrate: 300_000, ssrcs: [1]), [.init(ssrc: 1, bitrate: 285_000 - 32_000)])
        XCTAssertEqual(bitrates.remb(bitrate: 300_000, ssrcs: [1]), [], "no change, nothing to apply")
        XCTAssertEqual(bitrates.remb(bitrate: 10_000, ssrcs: [1]), [.init(ssrc: 1, bitrate: 100_000)], "video floor")
        XCTAssertEqual(bitrates.remb(bitrate: 50_000_000, ssrcs: [7]), [], "another stream's estimate")
        XCTAssertEqual(bitrates.remb(bitrate: 50_000_000, ssrcs: [1, 2]), [.init(ssrc: 1, bitrate: 1_000_000)])
        XCTAssertEqual(bitrates.bitrate(of: 2), 32_000, "REMB leaves audio alone")
    }

    /// REMB exponents go up to 63 on the wire (the parser allows 46: mantissa << 46 < 2^64),
    /// configured maximums up to Int.max: nothing traps, everything clamps.
    func testExtremeValuesClamp() throws {
        let table: [(name: String, video: Int, audio: Int, remb: UInt64)] = [
            ("largest parsed REMB", 1_000_000, 32_000, UInt64(0x3FFFF) << 46),
            ("UInt64.max", 1_000_000, 32_000, .max),
            ("Int.max video maximum", .max, 32_000, .max),
            ("Int.max audio maximum", 1_000_000, .max, 5_000_000),
            ("zero", 1_000_000, 32_000, 0),
        ]
        for row in table {
            var bitrates = controller(video: row.video, audio: row.audio)
            bitrates.add(ssrc: 3, kind: .audio, maxBitrate: row.audio)
            _ = bitrates.remb(bitrate: row.remb, ssrcs: [1, 2, 3])
            for fractionLost: UInt8 in [0, 3, 20, 128, 255] {
                _ = bitrates.reports([ReceptionReport(ssrc: 1, fractionLost: fractionLost), ReceptionReport(ssrc: 2, fractionLost: fractionLost)])
                _ = bitrates.transportFeedback(try feedback(lost: Int(fractionLost), received: 255 - Int(fractionLost)))
            }
            for ssrc: UInt32 in [1, 2, 3] {
                let bitrate = try XCTUnwrap(bitrates.bitrate(of: ssrc), row.name)
                XCTAssertGreaterThanOrEqual(bitrate, ssrc == 1 ? 100_000 : 16_000, row.name)
                XCTAssertLessThanOrEqual(bitrate, ssrc == 1 ? row.video : row.audio, row.name)
            }
        }
        // A REMB parsed from the wire with the largest exponent the parser accepts.
        let bytes = RTCPPacket.serializeCompound([.remb(ReceiverEstimatedMaxBitrate(senderSSRC: 9, bitrate: UInt64(0x3FFFF) << 46, ssrcs: [1]))])
        guard case .remb(let remb)? = try RTCPPacket.parseCompound(bytes).first else { return XCTFail("not a REMB") }
        var bitrates = controller()
        _ = bitrates.reports([ReceptionReport(ssrc: 1, fractionLost: 255)])
        XCTAssertEqual(bitrates.remb(bitrate: remb.bitrate, ssrcs: remb.ssrcs), [.init(ssrc: 1, bitrate: 1_000_000)])
    }

    func testLossFromReportsAdaptsEachStream() {
        var bitrates = controller()
        XCTAssertEqual(bitrates.reports([ReceptionReport(ssrc: 1, fractionLost: 128)]), [.init(ssrc: 1, bitrate: 750_000)])
        XCTAssertEqual(bitrates.reports([ReceptionReport(ssrc: 1, fractionLost: 10)]), [], "4 %: hold")
        XCTAssertEqual(bitrates.reports([ReceptionReport(ssrc: 1, fractionLost: 0)]), [.init(ssrc: 1, bitrate: 787_500)])
        XCTAssertEqual(bitrates.reports([ReceptionReport(ssrc: 2, fractionLost: 255)]), [.init(ssrc: 2, bitrate: 16_062)])
        XCTAssertEqual(bitrates.reports([ReceptionReport(ssrc: 99, fractionLost: 255)]), [], "unknown SSRC")
    }

    func testTransportWideLossAdaptsVideo() throws {
        var bitrates = controller()
        XCTAssertEqual(bitrates.transportFeedback(try feedback(lost: 50, received: 50)), [.init(ssrc: 1, bitrate: 750_000)])
        XCTAssertEqual(bitrates.transportFeedback(try feedback(lost: 0, received: 100)), [.init(ssrc: 1, bitrate: 787_500)])
        XCTAssertEqual(bitrates.bitrate(of: 2), 32_000, "transport-wide loss adapts video only")
    }
}
