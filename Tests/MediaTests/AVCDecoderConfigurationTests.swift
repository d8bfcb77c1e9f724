import Bytes
import Media
import XCTest

/// The avcC (ISO/IEC 14496-15 §5.3.3.1) against what ffmpeg 5.1's Matroska muxer wrote for the
/// same SPS/PPS (fixtures h264-high-640x360.h264 and .avcc: libx264 High 3.0, one frame; the
/// CodecPrivate read with mkvinfo), and field by field for the captured baseline stream.
final class AVCDecoderConfigurationTests: XCTestCase {
    /// NAL units of an Annex B stream.
    private func annexB(_ bytes: [UInt8]) -> [[UInt8]] {
        var units: [[UInt8]] = []
        var start: Int?
        var index = 0
        while index + 3 <= bytes.count {
            if bytes[index] == 0, bytes[index + 1] == 0, bytes[index + 2] == 1 {
                if let start { units.append(Array(bytes[start..<index])) }
                index += 3
                start = index
            } else {
                index += 1
            }
        }
        if let start { units.append(Array(bytes[start...])) }
        // A 4-byte start code leaves a zero at the end of the unit before it.
        return units.map { unit in Array(unit.reversed().drop { $0 == 0 }.reversed()) }
    }

    func testMatchesWhatFFmpegWroteForTheSameParameterSets() throws {
        let units = annexB(try MediaFixture.bytes("h264-high-640x360.h264"))
        XCTAssertEqual(units.map { $0[0] & 0x1F }, [6, 7, 8, 5], "SEI, SPS, PPS, IDR")
        let configuration = try AVCDecoderConfiguration(sps: units[1], pps: units[2])
        let ffmpeg = try MediaFixture.bytes("h264-high-640x360.avcc")
        XCTAssertEqual(configuration.bytes, ffmpeg)
        XCTAssertEqual(configuration.bytes.hex, "0164001effe1001a6764001eacd940a02ff970110000030001000003003c0f162d96010006" + "68ebe3cb22c0fdf8f800")
        XCTAssertEqual(configuration.chromaFormat, 1)
        XCTAssertEqual(configuration.bitDepthLumaMinus8, 0)
        XCTAssertEqual(try AVCDecoderConfiguration(parsing: ffmpeg[...]), configuration)
    }

    func testBaselineFieldByField() throws {
        let sps = H264DepacketizerTests.sps, pps = H264DepacketizerTests.pps
        let bytes = try AVCDecoderConfiguration(sps: sps, pps: pps).bytes
        var expected: [UInt8] = [
            1,           // configurationVersion
            0x42,        // AVCProfileIndication = profile_idc 66
            0xC0,        // profile_compatibility = constraint flags (constrained baseline)
            0x1F,        // AVCLevelIndication = level 3.1
            0xFF,        // 111111 + lengthSizeMinusOne 3: 4-byte lengths, as the depacketizer writes
            0xE1,        // 111 + one SPS
            0x00, 22,    // SPS length
        ]
        expected += sps
        expected += [1, 0x00, 4] + pps  // one PPS; no High-profile extension for profile 66
        XCTAssertEqual(bytes, expected)
        let parsed = try AVCDecoderConfiguration(parsing: bytes[...])
        XCTAssertEqual(parsed.lengthSize, 4)
        XCTAssertEqual(parsed.sequenceParameterSets, [sps])
        XCTAssertEqual(parsed.pictureParameterSets, [pps])
        XCTAssertNil(parsed.chromaFormat)
    }

    func testHigh422CarriesItsChromaFormat() throws {
        let sps = try XCTUnwrap([UInt8](hex: "677a000dbcd9416096c044000003000400000300f03c50a658"))
        let configuration = try AVCDecoderConfiguration(sps: sps, pps: [0x68, 0xEB, 0xE3, 0xCB, 0x22, 0xC0])
        XCTAssertEqual(configuration.profileIndication, 122)
        XCTAssertEqual(Array(configuration.bytes.suffix(4)), [0xFE, 0xF8, 0xF8, 0x00], "chroma_format 2 (4:2:2), 8-bit")
    }

    func testRefusesWhatIsNoConfiguration() throws {
        let sps = H264DepacketizerTests.sps, pps = H264DepacketizerTests.pps
        XCTAssertThrowsError(try AVCDecoderConfiguration(sequenceParameterSets: [], pictureParameterSets: [pps]))
        XCTAssertThrowsError(try AVCDecoderConfiguration(sequenceParameterSets: [sps], pictureParameterSets: []))
        XCTAssertThrowsError(try AVCDecoderConfiguration(sps: pps, pps: sps), "swapped")
        XCTAssertThrowsError(try AVCDecoderConfiguration(sps: Array(sps.prefix(5)), pps: pps), "truncated SPS")
        let good = try AVCDecoderConfiguration(sps: sps, pps: pps).bytes
        for length in 0..<good.count {
            XCTAssertThrowsError(try AVCDecoderConfiguration(parsing: good.prefix(length)), "\(length) bytes")
        }
        var version2 = good
        version2[0] = 2
        XCTAssertThrowsError(try AVCDecoderConfiguration(parsing: version2[...]))
    }
}
