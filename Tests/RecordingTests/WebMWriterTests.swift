import Foundation
@testable import Recording
import XCTest

final class WebMWriterTests: XCTestCase {
    func testEBMLVariableLengthSizes() {
        XCTAssertEqual(EBML.size(0), [0x80])
        XCTAssertEqual(EBML.size(126), [0xFE])
        XCTAssertEqual(EBML.size(127), [0x40, 0x7F], "all ones in one byte means unknown: use two")
        XCTAssertEqual(EBML.size(300), [0x41, 0x2C])
        XCTAssertEqual(EBML.size(5, width: 8), [0x01, 0, 0, 0, 0, 0, 0, 5])
        XCTAssertEqual(EBML.uint(EBML.ID.timecodeScale, 1_000_000), [0x2A, 0xD7, 0xB1, 0x83, 0x0F, 0x42, 0x40])
        XCTAssertEqual(EBML.void(2), [0xEC, 0x80])
        XCTAssertEqual(EBML.void(200).count, 200)
        XCTAssertEqual(Array(WebMWriter.opusHead(channels: 2).prefix(8)), Array("OpusHead".utf8))
    }

    private func temporaryPath() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).webm").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testRefusesToOverwrite() throws {
        let path = temporaryPath()
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try WebMWriter(path: path, tracks: [.init(number: 1, codec: .opus(channels: 2))], title: "t", overwrite: false)) {
            XCTAssertEqual($0 as? RecordingError, .exists(path))
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "keep me")
        XCTAssertNoThrow(try WebMWriter(path: path, tracks: [.init(number: 1, codec: .opus(channels: 2))], title: "t", overwrite: true))
    }

    func testFullDiskIsReported() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
        XCTAssertThrowsError(try WebMWriter(path: "/dev/full", tracks: [.init(number: 1, codec: .opus(channels: 2))], title: "t", overwrite: true)) {
            XCTAssertEqual($0 as? RecordingError, .writeFailed("/dev/full", "the disk is full"))
        }
    }

    func testUnwritableDirectory() {
        XCTAssertThrowsError(try WebMWriter(path: "/nonexistent-dir/x.webm", tracks: [], title: "t", overwrite: false)) {
            guard case .cannotCreate(let path, let why)? = $0 as? RecordingError else { return XCTFail("\($0)") }
            XCTAssertEqual(path, "/nonexistent-dir/x.webm")
            XCTAssertEqual(why, "no such file or directory")
        }
    }

    /// A finished file: the Segment size covers everything and the duration is set; clusters
    /// close on key frames after a second.
    func testFinishedFileStructure() throws {
        let path = temporaryPath()
        let writer = try WebMWriter(path: path, tracks: [.init(number: 1, codec: .vp8(width: 64, height: 48)),
                                                         .init(number: 2, codec: .opus(channels: 2))], title: "t", overwrite: false)
        for ms in stride(from: Int64(0), through: 3000, by: 20) {
            try writer.write(track: 2, timestampMs: ms, keyFrame: true, data: [0xFC, 0xFF, 0xFE])
            if ms % 100 == 0 { try writer.write(track: 1, timestampMs: ms, keyFrame: ms % 1000 == 0, data: [0x10, 0x02, 0x00]) }
        }
        try writer.finish()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes.prefix(4)), [0x1A, 0x45, 0xDF, 0xA3])
        // Segment: ID, then an 8-byte size equal to the rest of the file.
        let segment = try XCTUnwrap(find([0x18, 0x53, 0x80, 0x67], in: bytes))
        var size = 0
        for byte in bytes[(segment + 5)..<(segment + 12)] { size = size << 8 | Int(byte) }
        XCTAssertEqual(bytes[segment + 4], 0x01)
        XCTAssertEqual(size, bytes.count - segment - 12)
        XCTAssertEqual(count([0x1F, 0x43, 0xB6, 0x75], in: bytes), 4, "a cluster at 0 s, then at the key frames at 1, 2 and 3 s")
        XCTAssertNotNil(find([0x1C, 0x53, 0xBB, 0x6B], in: bytes), "cues")
        XCTAssertEqual(writer.durationMs, 3000)
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    private func count(_ needle: [UInt8], in haystack: [UInt8]) -> Int {
        (0...(haystack.count - needle.count)).filter { Array(haystack[$0..<($0 + needle.count)]) == needle }.count
    }
}
