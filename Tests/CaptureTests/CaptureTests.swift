@testable import Capture
import Foundation
import Media
import XCTest

final class CaptureTests: XCTestCase {
    func testSourceURIs() throws {
        XCTAssertEqual(try SourceURI(parsing: "synthetic"), .synthetic(variant: nil))
        XCTAssertEqual(try SourceURI(parsing: "synthetic:speech"), .synthetic(variant: "speech"))
        XCTAssertEqual(try SourceURI(parsing: "alsa:"), .alsa("default"))
        XCTAssertEqual(try SourceURI(parsing: "alsa:hw:1,0"), .alsa("hw:1,0"))
        XCTAssertEqual(try SourceURI(parsing: "v4l2"), .v4l2("/dev/video0"))
        XCTAssertEqual(try SourceURI(parsing: "file:a.y4m"), .file("a.y4m"))
        XCTAssertThrowsError(try SourceURI(parsing: "file:"))
        XCTAssertEqual(try SourceURI(parsing: "replay:clips/a:b.ivf"), .replay("clips/a:b.ivf"))
        XCTAssertEqual(SourceURI.replay("clip.ogg").description, "replay:clip.ogg")
        XCTAssertThrowsError(try SourceURI(parsing: "replay:")) { XCTAssertTrue("\($0)".contains("replay:clip.ivf"), "\($0)") }
        XCTAssertThrowsError(try SourceURI(parsing: "replay")) { XCTAssertTrue("\($0)".contains("needs a path"), "\($0)") }
        XCTAssertThrowsError(try SourceURI(parsing: "rtsp://x")) {
            XCTAssertTrue("\($0)".contains("synthetic, file:PATH or replay:PATH"), "\($0)")
        }
        // Replay clips go straight to a send pipeline, never through a raw-frame source.
        XCTAssertThrowsError(try SourceFactory.video(.replay("clip.ivf"), width: 320, height: 240, fps: 15)) {
            XCTAssertTrue("\($0)".contains("video source replay:clip.ivf: a replay clip is already encoded"), "\($0)")
        }
        XCTAssertThrowsError(try SourceFactory.audio(.replay("clip.ogg"), channels: 1))
    }

    func testYUYVToI420() {
        // 4x2 YUYV: Y ramps, U/V differ between the two rows (averaged into one chroma row).
        let yuyv: [UInt8] = [10, 100, 20, 200, 30, 110, 40, 210,
                             50, 120, 60, 220, 70, 130, 80, 230]
        let out = yuyv.withUnsafeBytes {
            PixelConversion.toI420($0, fourcc: PixelConversion.yuyv, width: 4, height: 2, bytesPerLine: 8)
        }
        XCTAssertEqual(out, [10, 20, 30, 40, 50, 60, 70, 80, 110, 120, 210, 220])
    }

    func testNV12ToI420AndShortBuffers() {
        let nv12: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8, 100, 200, 101, 201]
        let out = nv12.withUnsafeBytes { PixelConversion.toI420($0, fourcc: PixelConversion.nv12, width: 4, height: 2, bytesPerLine: 4) }
        XCTAssertEqual(out, [1, 2, 3, 4, 5, 6, 7, 8, 100, 101, 200, 201])
        let short = Array(nv12.prefix(5)).withUnsafeBytes {
            PixelConversion.toI420($0, fourcc: PixelConversion.nv12, width: 4, height: 2, bytesPerLine: 4)
        }
        XCTAssertNil(short)
    }

    func testY4MFileLoopsAndRejectsBadHeaders() throws {
        let dir = FileManager.default.temporaryDirectory
        let url = dir.appendingPathComponent("nacho-\(UUID()).y4m")
        defer { try? FileManager.default.removeItem(at: url) }
        var data = Data("YUV4MPEG2 W4 H2 F100:1 Ip A1:1 C420jpeg\n".utf8)
        for n in 0..<2 { data += Data("FRAME\n".utf8) + Data(repeating: UInt8(n + 1), count: 12) }
        try data.write(to: url)
        let source = try Y4MFileSource(path: url.path)
        XCTAssertEqual([source.width, source.height, source.fps], [4, 2, 100])
        try source.start()
        let frames = try (0..<3).map { _ in try XCTUnwrap(source.nextFrame()).data.first }
        XCTAssertEqual(frames, [1, 2, 1], "loops at the end")

        try Data("YUV4MPEG2 W4 H2 C444\n".utf8).write(to: url)
        XCTAssertThrowsError(try Y4MFileSource(path: url.path)) { XCTAssertTrue("\($0)".contains("not 4:2:0")) }
        try Data("RIFF".utf8).write(to: url)
        XCTAssertThrowsError(try Y4MFileSource(path: url.path)) { XCTAssertTrue("\($0)".contains("not a YUV4MPEG2")) }
    }

    func testY4MFileFrameParamsIncompleteLastFrameAndHeldFrames() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).y4m")
        defer { try? FileManager.default.removeItem(at: url) }
        var data = Data("YUV4MPEG2 W4 H2 F100:1\n".utf8)
        data += Data("FRAME\n".utf8) + Data(repeating: 1, count: 12)
        data += Data("FRAME Ixyz XYSCSS=420JPEG\n".utf8) + Data(repeating: 2, count: 12)
        data += Data("FRAME\n".utf8) + Data(repeating: 3, count: 5)  // cut off: skipped, the file loops
        try data.write(to: url)
        let source = try Y4MFileSource(path: url.path)
        try source.start()
        // Held frames keep their bytes while the source reads the next ones into its buffer.
        let frames = try (0..<4).map { _ in try XCTUnwrap(source.nextFrame()) }
        XCTAssertEqual(frames.map(\.data), [1, 2, 1, 2].map { Array(repeating: UInt8($0), count: 12) })

        try (Data("YUV4MPEG2 W4 H2\n".utf8) + Data("FRAMX\n".utf8) + Data(repeating: 1, count: 12)).write(to: url)
        let corrupt = try Y4MFileSource(path: url.path)
        XCTAssertThrowsError(try corrupt.nextFrame()) { XCTAssertTrue("\($0)".contains("corrupt frame header")) }
        try (Data("YUV4MPEG2 W4 H2\n".utf8) + Data("FRAME".utf8) + Data(repeating: 0x20, count: 200)).write(to: url)
        let endless = try Y4MFileSource(path: url.path)
        XCTAssertThrowsError(try endless.nextFrame()) { XCTAssertTrue("\($0)".contains("corrupt frame header")) }
        try Data("YUV4MPEG2 W4 H2\n".utf8).write(to: url)
        let empty = try Y4MFileSource(path: url.path)
        XCTAssertThrowsError(try empty.nextFrame()) { XCTAssertTrue("\($0)".contains("no complete frame")) }
    }

    func testWAVFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).wav")
        defer { try? FileManager.default.removeItem(at: url) }
        func wav(rate: UInt32, channels: UInt16, samples: [Int16]) -> Data {
            var d = Data("RIFF".utf8)
            func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
            func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
            u32(36 + UInt32(samples.count * 2))
            d += Data("WAVEfmt ".utf8)
            u32(16); u16(1); u16(channels); u32(rate); u32(rate * UInt32(channels) * 2); u16(channels * 2); u16(16)
            d += Data("data".utf8)
            u32(UInt32(samples.count * 2))
            for s in samples { u16(UInt16(bitPattern: s)) }
            return d
        }
        try wav(rate: 48000, channels: 1, samples: (0..<1500).map { Int16($0) }).write(to: url)
        let source = try WAVFileSource(path: url.path)
        try source.start()
        let first = try XCTUnwrap(source.nextFrame())
        XCTAssertEqual(first.samples.prefix(3), [0, 1, 2])
        let second = try XCTUnwrap(source.nextFrame())
        XCTAssertEqual(second.samples.prefix(2), [960, 961])
        XCTAssertEqual(second.samples[540], 0, "looped after 1500 samples")

        try wav(rate: 44100, channels: 1, samples: Array(repeating: 0, count: 2000)).write(to: url)
        XCTAssertThrowsError(try WAVFileSource(path: url.path)) { XCTAssertTrue("\($0)".contains("48000 Hz")) }
    }

    func testSyntheticVideoDrawsTheCounterAsABarcode() throws {
        let source = SyntheticVideoSource(width: 240, height: 96, fps: 1000)
        try source.start()
        for expected in 0..<3 {
            let frame = try XCTUnwrap(source.nextFrame())
            // Read the barcode back from the luma plane: one sample in the middle of each block.
            let block = 240 / SyntheticVideoSource.barcodeBits
            var value = 0
            for bit in 0..<SyntheticVideoSource.barcodeBits {
                value = value << 1 | (frame.data[(block / 2) * 240 + bit * block + block / 2] > 128 ? 1 : 0)
            }
            XCTAssertEqual(value, expected)
        }
    }
}
