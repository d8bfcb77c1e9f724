import Bytes
@testable import RTP
import XCTest

/// Hostile bytes and extreme values through the RTP/RTCP formats: each parses or throws
/// `MalformedPacket`, and whatever parses (or is built from long local names) serializes
/// without trapping.
final class WireArithmeticTests: XCTestCase {
    /// The CNAME is `nacho-<member>-<n>`; an SDES item holds at most 255 bytes.
    func testSourceDescriptionItemsNeverExceed255Bytes() throws {
        for length in [0, 1, 254, 255, 256, 300, 70_000] {
            let cname = String(repeating: "c", count: length)
            let sdes = SourceDescription(cname: cname, ssrc: 7)
            let bytes = RTCPPacket.serializeCompound([.sourceDescription(sdes)])
            XCTAssertEqual(bytes.count, sdes.serializedSize, "\(length)")
            guard case .sourceDescription(let parsed)? = try RTCPPacket.parseCompound(bytes).first else { return XCTFail("\(length)") }
            XCTAssertEqual(parsed.chunks.first?.cname, String(cname.prefix(255)), "\(length)")
        }
        // Built item by item: the serializer clips too.
        let long = SourceDescription(chunks: [.init(ssrc: 1, items: [.init(type: 2, text: [UInt8](repeating: 65, count: 1000)[...])])])
        let bytes = RTCPPacket.serializeCompound([.sourceDescription(long)])
        XCTAssertEqual(bytes.count, long.serializedSize)
        XCTAssertNoThrow(try RTCPPacket.parseCompound(bytes))
        // A multi-byte character is not cut in half.
        let accents = SourceDescription(cname: String(repeating: "é", count: 200), ssrc: 1)
        XCTAssertEqual(accents.chunks.first?.cname, String(repeating: "é", count: 127))
    }

    /// RTCP packets with extreme fields: (hex, parses).
    func testExtremeRTCPFields() {
        let table: [(name: String, hex: String, parses: Bool)] = [
            ("REMB exponent 46, mantissa max", "8f ce 0005 00000001 00000000 52454d42 01 bbffff 00000002", true),
            ("REMB exponent 47", "8f ce 0005 00000001 00000000 52454d42 01 bc0000 00000002", false),
            ("REMB exponent 63", "8f ce 0005 00000001 00000000 52454d42 01 ffffff 00000002", false),
            ("REMB 255 SSRCs announced, one present", "8f ce 0005 00000001 00000000 52454d42 ff 000001 00000002", false),
            ("transport-cc 65535 statuses of one run", "8f cd 0005 00000001 00000002 0000 ffff 000000 00 1fff 0000", false),
            ("transport-cc run length 0 forever", "8f cd 0005 00000001 00000002 0000 0001 000000 00 0000 0000", false),
            ("transport-cc large negative delta", "8f cd 0005 00000001 00000002 0000 0001 ffffff 00 4001 8000", true),
            ("SDES item past the end", "81 ca 0002 00000001 01ff 4141", false),
            ("SR with 31 blocks announced", "9f c8 0006 00000001 0000000000000000 00000000 00000000 00000000", false),
            ("RR cumulative lost -1 and jitter max", "81 c9 0007 00000001 00000002 00ffffff ffffffff ffffffff ffffffff ffffffff", true),
            ("NACK PID 65535 all bits", "81 cd 0003 00000001 00000002 ffffffff", true),
            ("padding count 255", "a1 c9 0001 000000ff", false),
            ("length 65535 words", "81 c9 ffff 00000001", false),
        ]
        for row in table {
            guard let bytes = [UInt8](hex: row.hex) else { XCTFail("bad hex in \(row.name)"); continue }
            do {
                let packets = try RTCPPacket.parseCompound(bytes)
                XCTAssertTrue(row.parses, "\(row.name) parsed: \(packets)")
                XCTAssertEqual(RTCPPacket.serializeCompound(packets).count, packets.reduce(0) { $0 + $1.serializedSize }, row.name)
            } catch {
                XCTAssertFalse(row.parses, "\(row.name): \(error)")
                XCTAssertTrue(error is MalformedPacket, "\(row.name): \(error)")
            }
        }
    }

    /// NACK packing of any list of sequence numbers, including wrap-around and duplicates.
    func testNACKPackingOfExtremeLists() throws {
        let lists: [[UInt16]] = [[], [65535, 0], Array(0...1000), [0, 0, 0], [65535] + Array(0..<16), [32768, 0]]
        for lost in lists {
            let nack = GenericNACK(senderSSRC: 1, mediaSSRC: 2, lost: lost)
            XCTAssertEqual(Set(nack.lostSequenceNumbers), Set(lost))
            let bytes = RTCPPacket.serializeCompound([.nack(nack)])
            if !lost.isEmpty { XCTAssertNoThrow(try RTCPPacket.parseCompound(bytes)) }
        }
    }
}
