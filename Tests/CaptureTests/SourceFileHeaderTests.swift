@testable import Capture
import Foundation
import Media
import XCTest

/// Y4M and WAV headers whose numbers no arithmetic may trust: each is a clear error naming
/// the file, never a trap.
final class SourceFileHeaderTests: XCTestCase {
    private func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID())-\(name)")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testFrameSizeOfAHugePictureDoesNotOverflow() {
        XCTAssertEqual(VideoFrame.byteCount(width: 1 << 32, height: 1 << 32), Int.max)
        XCTAssertEqual(VideoFrame.byteCount(width: Int.max, height: 1), Int.max)
        XCTAssertEqual(VideoFrame.byteCount(width: 5, height: 3), 15 + 2 * 3 * 2, "odd sizes round the chroma up")
        XCTAssertEqual(VideoFrame.byteCount(width: 640, height: 480), 640 * 480 * 3 / 2)
    }

    /// The sizes and rates of the issue, and their neighbours, through the file source (what
    /// `file:PATH.y4m` opens): an error naming the file, where they used to trap (the frame
    /// size overflowed in `nextFrame`, the rate in `Int(Double)`).
    func testY4MHeadersOutOfRange() throws {
        let cases: [(String, String)] = [
            ("W4294967296 H4294967296", "frame size"),
            ("W9223372036854775806 H2", "frame size"),
            ("W8194 H2", "frame size"),
            ("W0 H2", "frame size"),
            ("W-2 H2", "frame size"),
            ("W4 H2 F1e300:1", "F1e300:1"),
            ("W4 H2 F1:1e-300", "F1:1e-300"),
            ("W4 H2 Fnan:1", "Fnan:1"),
            ("W4 H2 F9223372036854775807:1", "over 1000 fps"),
            ("W4 H2 F30:0", "F30:0"),
            ("W4 H2 F30", "F30"),
        ]
        for (fields, expected) in cases {
            let path = try temporaryFile("bad.y4m", Array("YUV4MPEG2 \(fields) C420jpeg\nFRAME\n".utf8) + [UInt8](repeating: 1, count: 12))
            XCTAssertThrowsError(try Y4MFileSource(path: path), fields) { error in
                XCTAssertTrue("\(error)".hasPrefix("video source file:\(path): "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(fields): \(error)")
            }
        }
        // Within range: kept, the rate rounded and at least 1 fps.
        XCTAssertEqual(try Y4MHeader(parsing: Array("YUV4MPEG2 W8192 H8192 F30000:1001\n".utf8)).fps, 30)
        XCTAssertEqual(try Y4MHeader(parsing: Array("YUV4MPEG2 W8 H8 F1:10\n".utf8)).fps, 1)
        XCTAssertEqual(try Y4MHeader(parsing: Array("YUV4MPEG2 W8 H8 F1000:1\n".utf8)).fps, 1000)
        let header = try Y4MHeader(parsing: Array("YUV4MPEG2 W64 H48 Ip\nFRAME\n".utf8))
        XCTAssertEqual([header.width, header.height, header.fps, header.length, header.frameByteCount], [64, 48, 30, 21, 64 * 48 * 3 / 2])
        XCTAssertThrowsError(try Y4MHeader(parsing: Array("YUV4MPEG2 W64 H48".utf8) + [UInt8](repeating: 0x20, count: 300) + [0x0A])) {
            XCTAssertTrue("\($0)".contains("not a YUV4MPEG2"), "\($0)")
        }
    }

    private func wav(channels: Int = 1, samples: Int = 960, dataSize: UInt32? = nil, fmtSize: UInt32 = 16) -> [UInt8] {
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let pcm = (0..<(samples * channels)).flatMap { le16($0 & 0x7FFF) }
        let fmt = Array("fmt ".utf8) + le32(fmtSize) + le16(1) + le16(channels) + le32(48000) + le32(UInt32(96000 * channels)) + le16(2 * channels) + le16(16)
        let body = Array("WAVE".utf8) + fmt + Array("data".utf8) + le32(dataSize ?? UInt32(pcm.count)) + pcm
        return Array("RIFF".utf8) + le32(UInt32(body.count)) + body
    }

    /// WAV chunk sizes up to 2^32 - 1 are walked without overflow; a data chunk that says more
    /// than the file has (what a streaming writer leaves) is read to the end.
    func testWAVChunkSizes() throws {
        XCTAssertEqual(try WAVFile(parsing: wav(samples: 1000, dataSize: 0xFFFF_FFFF)).samples.count, 1000)
        XCTAssertEqual(try WAVFile(parsing: wav(channels: 2)).channels, 2)
        let cases: [(String, [UInt8], String)] = [
            ("fmt past the end", wav(fmtSize: 0xFFFF_FFF0), "without fmt or data"),
            ("truncated", Array(wav().prefix(30)), "without fmt or data"),
            ("not RIFF", Array("RIFX".utf8) + wav().dropFirst(4), "not a WAV file"),
            ("short", wav(samples: 959), "shorter than one 20 ms frame"),
            ("three channels", wav(channels: 3), "3 channels"),
        ]
        for (name, bytes, expected) in cases {
            XCTAssertThrowsError(try WAVFile(parsing: bytes), name) { XCTAssertTrue("\($0)".contains(expected), "\(name): \($0)") }
        }
        let path = try temporaryFile("three.wav", wav(channels: 3))
        XCTAssertThrowsError(try WAVFileSource(path: path)) { XCTAssertTrue("\($0)".hasPrefix("audio source file:\(path): needs 16-bit"), "\($0)") }
    }

    /// A WAV file is read whole into memory: one over the limit is refused before reading it
    /// (a sparse file, no disk used).
    func testOversizeWAVIsRefusedBeforeReading() throws {
        let path = try temporaryFile("huge.wav", [])
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(WAVFile.maxFileSize) + 1)
        try handle.close()
        XCTAssertThrowsError(try WAVFileSource(path: path)) { XCTAssertTrue("\($0)".contains("too large"), "\($0)") }
    }
}
