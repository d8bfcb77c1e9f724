import Bytes
import Media
import XCTest

/// Exp-Golomb, RBSP and the SPS/PPS/slice-header fields the H264 depacketizer and the avcC
/// need, on the captured SPS (x264 baseline, 42c01f, 320x240) and on SPS that ffmpeg/libx264
/// 5.1 wrote for other profiles (sizes confirmed with ffprobe when they were generated).
final class H264ParameterSetTests: XCTestCase {
    func testExpGolombCodes() throws {
        // H.264 Table 9-2 / 9-3: bit strings and their ue(v) and se(v) values.
        let cases: [(bits: String, ue: UInt32, se: Int32)] = [
            ("1", 0, 0), ("010", 1, 1), ("011", 2, -1), ("00100", 3, 2), ("00101", 4, -2), ("00110", 5, 3),
            ("00111", 6, -3), ("0001000", 7, 4), ("000010001", 16, -8),
        ]
        func bytes(_ bits: String) -> [UInt8] {
            let padded = bits + String(repeating: "0", count: (8 - bits.count % 8) % 8)
            return stride(from: 0, to: padded.count, by: 8).map { start in
                let chunk = padded.dropFirst(start).prefix(8)
                return UInt8(chunk, radix: 2) ?? 0
            }
        }
        for (bits, ue, se) in cases {
            var r = BitReader(bytes(bits)[...], what: "test")
            XCTAssertEqual(try r.ue(), ue, bits)
            XCTAssertEqual(r.bitsRead, bits.count, bits)
            var s = BitReader(bytes(bits)[...], what: "test")
            XCTAssertEqual(try s.se(), se, bits)
        }
        // 32 leading zeros is no valid code; running out of bits is an error, not a trap.
        var long = BitReader([0, 0, 0, 0, 0xFF][...], what: "test")
        XCTAssertThrowsError(try long.ue())
        var short = BitReader([0x00, 0x01][...], what: "test")
        XCTAssertThrowsError(try short.ue(), "15 zeros, a one, then 15 bits that are not there")
        var empty = BitReader([][...], what: "test")
        XCTAssertThrowsError(try empty.bit())
        var max = BitReader([0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE][...], what: "test")
        XCTAssertEqual(try max.ue(), UInt32.max - 1, "31 zeros: the largest code")
    }

    func testEmulationPreventionBytesAreRemoved() {
        // §7.4.1: 00 00 03 xx → 00 00 xx; the header byte is dropped; 00 00 00 03 is not a pattern twice.
        XCTAssertEqual(H264NALUnit.rbsp([0x67, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00, 0x03][...]), [0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03])
        XCTAssertEqual(H264NALUnit.rbsp([0x67, 0x00, 0x03, 0x00][...]), [0x00, 0x03, 0x00], "one zero is not enough")
        XCTAssertEqual(H264NALUnit.rbsp([0x67, 1, 2, 3, 4][...], limit: 2), [1, 2])
        XCTAssertEqual(H264NALUnit.rbsp([][...]), [])
    }

    func testSequenceParameterSets() throws {
        let cases: [(name: String, hex: String, profileLevelId: String, chroma: UInt32, depth: Int, frameMbsOnly: Bool, width: Int, height: Int)] = [
            ("captured x264 baseline (mediasoup run)", "6742c01fda0507ec0440000003004000000f23c60ca8", "42c01f", 1, 8, true, 320, 240),
            ("libx264 high 640x360 (cropped from 368)", "6764001eacd940a02ff970110000030001000003003c0f162d96", "64001e", 1, 8, true, 640, 360),
            ("libx264 main 1280x720", "674d401feca02802dd8088000003000800000301e078c18cb0", "4d401f", 1, 8, true, 1280, 720),
            ("libx264 high 4:2:2 352x288", "677a000dbcd9416096c044000003000400000300f03c50a658", "7a000d", 2, 8, true, 352, 288),
            ("libx264 high 4:4:4 200x100", "67f4000b919b2869fc4c6e0220000003002000000781e28532c0", "f4000b", 3, 8, true, 200, 100),
            ("libx264 high interlaced 320x240", "67640015acd941410fcb8088000003000800000301e0f8a14cb0", "640015", 1, 8, false, 320, 240),
            ("libx264 baseline 322x242 (odd crop)", "6742c00dd90150878888c044000003000400000300f03c50a920", "42c00d", 1, 8, true, 322, 242),
        ]
        for item in cases {
            let unit = try XCTUnwrap([UInt8](hex: item.hex))
            let sps = try H264SequenceParameterSet(parsing: unit[...])
            XCTAssertEqual(sps.profileLevelId, item.profileLevelId, item.name)
            XCTAssertEqual(sps.chromaFormatIdc, item.chroma, item.name)
            XCTAssertEqual(sps.bitDepthLuma, item.depth, item.name)
            XCTAssertEqual(sps.frameMbsOnly, item.frameMbsOnly, item.name)
            XCTAssertEqual(sps.width, item.width, item.name)
            XCTAssertEqual(sps.height, item.height, item.name)
            XCTAssertEqual(sps.id, 0, item.name)
        }
        let captured = try H264SequenceParameterSet(parsing: [UInt8](hex: "6742c01fda0507ec0440000003004000000f23c60ca8")![...])
        XCTAssertEqual(captured.maxNumRefFrames, 1, "index.json: maxNumRefFrames 1")
    }

    /// Every prefix of a real SPS either parses or throws (it must never trap), and the short
    /// ones throw; other types and impossible values are refused.
    func testTruncatedAndMalformedParameterSets() throws {
        let sps = try XCTUnwrap([UInt8](hex: "6764001eacd940a02ff970110000030001000003003c0f162d96"))
        for length in 0..<sps.count {
            let result = Result { try H264SequenceParameterSet(parsing: sps.prefix(length)) }
            if length < 8 { XCTAssertThrowsError(try result.get(), "\(length) bytes") }
        }
        XCTAssertThrowsError(try H264SequenceParameterSet(parsing: [0x68, 0xCE, 0x3C, 0x80][...]), "a PPS is no SPS") {
            XCTAssertTrue("\($0)".contains("expected 7"), "\($0)")
        }
        // seq_parameter_set_id 32 (ue 32 = 00000100001) after profile/level.
        XCTAssertThrowsError(try H264SequenceParameterSet(parsing: [0x67, 0x42, 0xC0, 0x1F, 0x04, 0x20, 0xFF][...]))
        // pic_order_cnt_type 3 does not exist: baseline, id 0 (1), log2 4 (1), poc type 3 (00100).
        XCTAssertThrowsError(try H264SequenceParameterSet(parsing: [0x67, 0x42, 0xC0, 0x1F, 0b1100_1000, 0xFF, 0xFF][...])) {
            XCTAssertTrue("\($0)".contains("pic_order_cnt_type 3"), "\($0)")
        }

        let pps = try H264PictureParameterSet(parsing: [0x68, 0xCE, 0x3C, 0x80][...])
        XCTAssertEqual(pps.id, 0)
        XCTAssertEqual(pps.sequenceParameterSetId, 0)
        XCTAssertThrowsError(try H264PictureParameterSet(parsing: [0x68][...]))
        XCTAssertThrowsError(try H264PictureParameterSet(parsing: [][...]))
        XCTAssertThrowsError(try H264PictureParameterSet(parsing: [0x67, 0x80][...]))
        // Slice header: first_mb 0 (1), slice_type 7 (0001000), pps id 0 (1).
        XCTAssertEqual(try H264PictureParameterSet.referenced(bySlice: [0x65, 0b1000_1000, 0b1000_0000][...]), 0)
        // ... pps id 2 (011).
        XCTAssertEqual(try H264PictureParameterSet.referenced(bySlice: [0x41, 0b1000_1000, 0b0110_0000][...]), 2)
        XCTAssertThrowsError(try H264PictureParameterSet.referenced(bySlice: [0x41][...]))
    }
}
