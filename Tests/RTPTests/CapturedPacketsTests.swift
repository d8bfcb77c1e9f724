import Bytes
import Foundation
import RTP
import XCTest

/// Every packet mediasoup 3.14 sent in the capture (this target's Fixtures/) parses, has
/// the fields index.json records, and re-serializes to the same bytes.
final class CapturedPacketsTests: XCTestCase {
    private func fixture(_ name: String) throws -> [UInt8] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"), name)
        return Array(try Data(contentsOf: url))
    }

    private func index() throws -> [String: [String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(fixture("index.json"))) as? [String: Any]
        return try XCTUnwrap(object?["files"] as? [String: [String: Any]])
    }

    /// Records of a .pkts file: uint32 ms, uint16 length, payload.
    private func records(_ name: String) throws -> [[UInt8]] {
        let bytes = try fixture(name)
        var reader = ByteReader(bytes, what: name)
        var out: [[UInt8]] = []
        while !reader.isAtEnd {
            _ = try reader.u32()
            let length = Int(try reader.u16())
            out.append(Array(try reader.take(length)))
        }
        return out
    }

    func testEveryRTPFileMatchesTheIndex() throws {
        var checked = 0
        for (name, info) in try index() where name.hasSuffix(".bin") && info["kind"] as? String == "RTP" {
            let bytes = try fixture(name)
            let packet = try RTPPacket(parsing: bytes)
            let rtp = try XCTUnwrap(info["rtp"] as? [String: Any])
            XCTAssertEqual(Int(packet.ssrc), rtp["ssrc"] as? Int, name)
            XCTAssertEqual(Int(packet.payloadType), rtp["payloadType"] as? Int, name)
            XCTAssertEqual(Int(packet.sequenceNumber), rtp["seq"] as? Int, name)
            XCTAssertEqual(Int(packet.timestamp), rtp["timestamp"] as? Int, name)
            XCTAssertEqual(packet.marker ? 1 : 0, rtp["marker"] as? Int, name)
            XCTAssertEqual(packet.headerExtension?.profile, 0xBEDE, name)
            let extensions = try XCTUnwrap(rtp["headerExtensions"] as? [String: [String: Any]])
            let elements = try XCTUnwrap(packet.headerExtension).elements()
            XCTAssertEqual(Set(elements.map { String($0.id) }), Set(extensions.keys), name)
            for (id, ext) in extensions {
                XCTAssertEqual(packet.extensionElement(UInt8(id)!)?.hex, ext["hex"] as? String, "\(name) ext \(id)")
            }
            if let length = rtp["payloadLength"] as? Int { XCTAssertEqual(packet.payload.count, length, name) }
            XCTAssertEqual(packet.serialize(), bytes, "\(name) round trip")
            XCTAssertFalse(RTPPacket.isRTCP(bytes[...]), name)
            checked += 1
        }
        XCTAssertEqual(checked, 11)
    }

    func testMidIsPaddedInsideTheExtensionBlock() throws {
        let packet = try RTPPacket(parsing: fixture("rtp-vp8-keyframe-first.bin"))
        // mid "0" (1 byte) then zero padding bytes before the next element.
        XCTAssertEqual(packet.extensionElement(1).map { Array($0) }, Array("0".utf8))
        XCTAssertEqual(packet.extensionElement(4)?.count, 3, "abs-send-time")
        XCTAssertEqual(packet.extensionElement(5)?.count, 2, "transport-wide seq")
        let probation = try RTPPacket(parsing: fixture("rtp-probation.bin"))
        XCTAssertEqual(probation.extensionElement(1).map { String(decoding: $0, as: UTF8.self) }, "probator")
        XCTAssertEqual(probation.ssrc, 1234)
        XCTAssertEqual(probation.payloadType, 127)
    }

    func testRTXCarriesTheOriginalSequenceNumber() throws {
        let rtx = try RTPPacket(parsing: fixture("rtp-vp8-rtx-burst-1.bin"))
        XCTAssertEqual(rtx.payloadType, 102)
        let original = UInt16(rtx.payload[rtx.payload.startIndex]) << 8 | UInt16(rtx.payload[rtx.payload.startIndex + 1])
        XCTAssertEqual(original, 7519)
    }

    func testEveryRTCPFileMatchesTheIndex() throws {
        var checked = 0
        for (name, info) in try index() where name.hasSuffix(".bin") && info["kind"] as? String == "RTCP" {
            let bytes = try fixture(name)
            XCTAssertTrue(RTPPacket.isRTCP(bytes[...]), name)
            let packets = try RTCPPacket.parseCompound(bytes)
            let expected = try XCTUnwrap(info["rtcp"] as? [[String: Any]])
            XCTAssertEqual(packets.count, expected.count, name)
            for (packet, want) in zip(packets, expected) {
                try check(packet, against: want, in: name)
            }
            XCTAssertEqual(RTCPPacket.serializeCompound(packets), bytes, "\(name) round trip")
            checked += 1
        }
        XCTAssertEqual(checked, 13)
    }

    private func check(_ packet: RTCPPacket, against want: [String: Any], in name: String) throws {
        switch packet {
        case .senderReport(let sr):
            XCTAssertEqual(want["pt"] as? Int, 200, name)
            XCTAssertEqual(Int(sr.ssrc), want["ssrc"] as? Int, name)
            let ntp = try XCTUnwrap(want["ntp"] as? [Int])
            XCTAssertEqual(sr.ntpTimestamp, UInt64(ntp[0]) << 32 | UInt64(ntp[1]), name)
            XCTAssertEqual(Int(sr.rtpTimestamp), want["rtpTs"] as? Int, name)
            XCTAssertEqual(Int(sr.packetCount), want["packets"] as? Int, name)
            XCTAssertEqual(Int(sr.octetCount), want["octets"] as? Int, name)
        case .receiverReport(let rr):
            XCTAssertEqual(want["pt"] as? Int, 201, name)
            let reports = try XCTUnwrap(want["reports"] as? [[String: Any]])
            XCTAssertEqual(rr.reports.count, reports.count, name)
            for (report, w) in zip(rr.reports, reports) {
                XCTAssertEqual(Int(report.ssrc), w["ssrc"] as? Int)
                XCTAssertEqual(Int(report.fractionLost), w["fractionLost"] as? Int)
                XCTAssertEqual(Int(report.cumulativeLost), w["cumulativeLost"] as? Int)
                XCTAssertEqual(Int(report.extendedHighestSequence), w["extHighestSeq"] as? Int)
                XCTAssertEqual(Int(report.jitter), w["jitter"] as? Int)
            }
        case .sourceDescription(let sdes):
            let chunks = try XCTUnwrap(want["chunks"] as? [[String: Any]])
            XCTAssertEqual(sdes.chunks.count, chunks.count, name)
            for (chunk, w) in zip(sdes.chunks, chunks) {
                XCTAssertEqual(Int(chunk.ssrc), w["ssrc"] as? Int)
                let items = try XCTUnwrap(w["items"] as? [[Any]])
                XCTAssertEqual(chunk.cname, items.first?[1] as? String)
            }
        case .nack(let nack):
            XCTAssertEqual(Int(nack.mediaSSRC), want["mediaSsrc"] as? Int, name)
            let items = try XCTUnwrap(want["items"] as? [[String: Any]])
            XCTAssertEqual(nack.lostSequenceNumbers.map(Int.init), items.flatMap { $0["lost"] as? [Int] ?? [] }, name)
        case .pli(let pli):
            XCTAssertEqual(Int(pli.mediaSSRC), want["mediaSsrc"] as? Int, name)
            XCTAssertEqual(Int(pli.senderSSRC), want["senderSsrc"] as? Int, name)
        case .fir(let fir):
            let items = try XCTUnwrap(want["items"] as? [[String: Any]])
            XCTAssertEqual(fir.entries.map { Int($0.sequenceNumber) }, items.map { $0["seqNr"] as? Int ?? -1 }, name)
            XCTAssertEqual(fir.entries.map { Int($0.ssrc) }, items.map { $0["ssrc"] as? Int ?? -1 }, name)
        case .remb(let remb):
            let w = try XCTUnwrap(want["remb"] as? [String: Any])
            XCTAssertEqual(Int(remb.bitrate), w["bitrate"] as? Int, name)
            XCTAssertEqual(remb.ssrcs.map(Int.init), w["ssrcs"] as? [Int], name)
        case .transportCC(let cc):
            XCTAssertEqual(Int(cc.baseSequence), want["baseSeq"] as? Int, name)
            XCTAssertEqual(cc.statuses.count, want["statusCount"] as? Int, name)
            XCTAssertEqual(Int(cc.referenceTime), want["refTime"] as? Int, name)
            XCTAssertEqual(Int(cc.feedbackPacketCount), want["fbPktCount"] as? Int, name)
            XCTAssertEqual(cc.receivedCount, want["received"] as? Int, name)
            if let statuses = want["packetStatuses"] as? [Int] {
                XCTAssertEqual(cc.statuses.map { Int($0.rawValue) }, statuses, name)
            }
            if let deltas = want["recvDeltasUs"] as? [Int] {
                XCTAssertEqual(cc.receiveDeltas.map(Int.init), deltas, name)
            }
        case .other(let raw):
            XCTAssertEqual(Int(raw.header.packetType), want["pt"] as? Int, name)
            XCTAssertEqual(raw.header.packetType, 207, "only XR is left uninterpreted in the capture")
        case .goodbye:
            XCTFail("no BYE in the capture")
        }
    }

    func testEveryPacketOfTheStreams() throws {
        var rtp = 0
        var rtcp = 0
        for name in ["stream-vp8-consumer.pkts", "stream-opus-consumer.pkts", "stream-rtcp-to-consumer.pkts",
                     "stream-rtcp-to-producer-a.pkts", "stream-rtcp-to-producer-b.pkts"] {
            for bytes in try records(name) {
                if RTPPacket.isRTCP(bytes[...]) {
                    let packets = try RTCPPacket.parseCompound(bytes)
                    XCTAssertEqual(RTCPPacket.serializeCompound(packets), bytes, name)
                    rtcp += 1
                } else {
                    XCTAssertEqual(try RTPPacket(parsing: bytes).serialize(), bytes, name)
                    rtp += 1
                }
            }
        }
        XCTAssertEqual(rtp, 319 + 500)
        XCTAssertEqual(rtcp, 12 + 234 + 353)
    }
}
