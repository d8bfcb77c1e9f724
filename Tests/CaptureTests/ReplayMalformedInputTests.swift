@testable import Capture
import Foundation
import XCTest

/// Malformed IVF and Ogg Opus input: every case throws a `ReplayFormatError` that says what is
/// wrong, and nothing traps (truncations and corruptions of real files included).
final class ReplayMalformedInputTests: XCTestCase {
    private typealias B = ReplayBuilder

    private func expectFailure(_ name: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line,
                               _ parse: () throws -> Void) {
        XCTAssertThrowsError(try parse(), name, file: file, line: line) { error in
            XCTAssertTrue(error is ReplayFormatError, "\(name): \(type(of: error))", file: file, line: line)
            XCTAssertTrue("\(error)".contains(expected), "\(name): \(error)", file: file, line: line)
        }
    }

    func testMalformedIVF() {
        let key = B.vp8KeyFrame(), inter = B.vp8InterFrame()
        let good = B.ivf([(0, key), (1, inter)])
        XCTAssertNoThrow(try IVFReader(parsing: good))
        func patched(_ bytes: [UInt8], at offset: Int, _ with: [UInt8]) -> [UInt8] {
            var out = bytes
            out.replaceSubrange(offset..<(offset + with.count), with: with)
            return out
        }
        let header = B.ivfHeader()
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "not an IVF file"),
            ("wrong magic", patched(good, at: 0, Array("RIFF".utf8)), "not an IVF file"),
            ("truncated header", Array(good.prefix(20)), "IVF header truncated (20 of 32 bytes)"),
            ("version 1", patched(good, at: 4, B.le16(1)), "IVF version 1"),
            ("header size 16", patched(good, at: 6, B.le16(16)), "header size 16 is below 32"),
            ("header size past the end", patched(good, at: 6, B.le16(4000)), "header size 4000 runs past the end"),
            ("AV1", patched(good, at: 8, Array("AV01".utf8)), "\"AV01\" is not supported"),
            ("timebase rate 0", patched(good, at: 16, B.le32(0)), "timebase 1/0"),
            ("zero frames", header, "IVF file without frames"),
            ("truncated frame header", header + [5, 0, 0, 0, 0], "frame 0: header truncated at byte 32 (5 of 12 bytes)"),
            ("zero-length frame", B.ivf([(0, key), (1, [])]), "frame 1 at byte 58 is empty"),
            ("frame size past the end", Array(good.dropLast(1)), "frame 1 at byte 58: size 7 runs past the end of the file (6 bytes left)"),
            ("absurd frame size", header + B.le32(0xFFFF_FFFF) + B.le64(0) + key, "absurd size 4294967295"),
            ("pts going back", B.ivf([(5, key), (4, inter)]), "pts 4 goes back"),
            ("VP8 frame of 2 bytes", B.ivf([(0, key), (1, [1, 0])]), "frame 1: 2 bytes is too short"),
            ("VP8 key frame without start code", B.ivf([(0, patched(key, at: 3, [0x9D, 0x01, 0x2B]))]), "start code"),
            ("VP8 key frame of width 0", B.ivf([(0, B.vp8KeyFrame(width: 0))]), "size 0x240"),
            ("VP8 key frame too short", B.ivf([(0, Array(key.prefix(8)))]), "no room for its size"),
            ("VP8 first partition past the frame", B.ivf([(0, Array(key.dropLast(1)))]), "first partition of 4 bytes"),
            ("VP9 garbage", B.ivf([(0, [0x00, 0x11])], fourcc: "VP90"), "frame 0: not a VP9 frame"),
            ("VP9 key frame cut short", B.ivf([(0, [0x82, 0x49, 0x83])], fourcc: "VP90"), "not a VP9 frame"),
        ]
        for (name, bytes, expected) in cases {
            expectFailure(name, expected) { _ = try IVFReader(parsing: bytes) }
        }
        // The header's frame count is not trusted.
        XCTAssertEqual(try IVFReader(parsing: patched(good, at: 24, B.le32(99))).frames.count, 2)
    }

    func testMalformedOggOpus() {
        let head = B.oggPage([B.opusHead()], flags: 2, sequence: 0)
        let tags = B.oggPage([B.opusTags], sequence: 1)
        let good = B.oggOpus([B.opus20ms, B.opus20ms])
        XCTAssertEqual(try OggOpusReader(parsing: good).packets.count, 2)
        func corrupt(_ bytes: [UInt8], at offset: Int, _ value: UInt8) -> [UInt8] {
            var out = bytes
            out[offset] = value
            return out
        }
        let audioPage = head.count + tags.count
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "not an Ogg file"),
            ("wrong magic", corrupt(good, at: 0, UInt8(ascii: "o")), "not an Ogg file"),
            ("truncated page header", Array(head.prefix(20)), "page 0 at byte 0: header truncated (20 of 27 bytes)"),
            ("version 1", B.oggPage([B.opusHead()], flags: 2, sequence: 0).enumerated().map { $0.offset == 4 ? 1 : $0.element },
             "Ogg version 1"),
            ("wrong CRC", corrupt(good, at: audioPage + 29, 0x77), "page 2 at byte \(audioPage): CRC mismatch"),
            ("wrong stored CRC", corrupt(good, at: 22, good[22] ^ 1), "page 0 at byte 0: CRC mismatch"),
            ("segment table past the end", Array(good.prefix(audioPage + 27)), "segment table of 2 runs past the end"),
            ("lacing past the end", Array(good.dropLast(2)), "lacing says 6 bytes of packets, only 4 left"),
            ("garbage between pages", head + [0x00] + tags, "page 1 at byte \(head.count): no OggS capture pattern"),
            ("first page not a stream start", B.oggPage([B.opusHead()], sequence: 0) + tags, "no Opus stream"),
            ("a Vorbis stream", B.oggPage([[1] + Array("vorbis".utf8)], flags: 2, sequence: 0) + B.oggPage([[3]], sequence: 1),
             "no Opus stream"),
            ("OpusHead truncated", B.oggPage([Array(B.opusHead().prefix(12))], flags: 2, sequence: 0) + tags, "OpusHead truncated"),
            ("OpusHead version 16", B.oggPage([B.opusHead().enumerated().map { $0.offset == 8 ? 16 : $0.element }], flags: 2, sequence: 0),
             "OpusHead version 16"),
            ("no channels", B.oggPage([B.opusHead(channels: 0)], flags: 2, sequence: 0), "0 channels"),
            ("family 0 with 3 channels", B.oggPage([B.opusHead(channels: 3)], flags: 2, sequence: 0), "family 0 with 3 channels"),
            ("multistream", B.oggPage([B.opusHead(channels: 6, family: 1, tail: [4, 2, 0, 4, 1, 2, 3, 5])], flags: 2, sequence: 0),
             "multistream Opus (4 streams, 6 channels)"),
            ("mapping table truncated", B.oggPage([B.opusHead(channels: 2, family: 1, tail: [1, 1])], flags: 2, sequence: 0),
             "channel mapping table truncated"),
            ("no OpusTags", head + B.oggPage([B.opus20ms], sequence: 1), "the second packet is not an OpusTags"),
            ("vendor past the packet", head + B.oggPage([Array("OpusTags".utf8) + B.le32(99) + [0, 0, 0, 0]], sequence: 1),
             "vendor string of 99 bytes"),
            ("no OpusTags before the end", head, "before its OpusTags"),
            ("no audio packets", head + tags, "no audio packets"),
            ("zero-length audio packet", B.oggOpus([B.opus20ms, []]), "audio packet 1 is empty"),
            ("code 3 of 0 frames", B.oggOpus([[31 << 3 | 3, 0]]), "audio packet 0: code 3 Opus packet of 0 frames"),
            ("over 120 ms", B.oggOpus([[31 << 3 | 3, 7]]), "over the 120 ms"),
            ("packet cut off at the end", head + tags + B.oggPage([[UInt8](repeating: 0xF8, count: 255)], sequence: 2, openEnd: true),
             "the last packet is cut off"),
            ("a page missing", head + B.oggPage([B.opusTags], sequence: 2), "page sequence jumps from 1 to 2"),
            ("continued without a start", head + B.oggPage([B.opusTags], flags: 1, sequence: 1), "continues a packet that no page began"),
            ("unfinished packet not continued",
             head + B.oggPage([[UInt8](repeating: 0x4F, count: 255)], sequence: 1, openEnd: true) + B.oggPage([[1]], sequence: 2),
             "does not continue the packet"),
            ("stream start continuing a packet", B.oggPage([B.opusHead()], flags: 3, sequence: 0), "first page of a stream continues"),
        ]
        for (name, bytes, expected) in cases {
            expectFailure(name, expected) { _ = try OggOpusReader(parsing: bytes) }
        }
    }

    func testOggStreamsAroundTheOpusOne() throws {
        // Another stream's pages before and among the Opus ones are skipped; what follows the
        // Opus stream's last page is not read.
        let vorbis = B.oggPage([[1] + Array("vorbis".utf8)], flags: 2, serial: 7, sequence: 0)
        let file = vorbis + B.oggPage([B.opusHead(channels: 2)], flags: 2, sequence: 0) + B.oggPage([[5]], serial: 7, sequence: 1)
            + B.oggPage([B.opusTags], sequence: 1) + B.oggPage([B.opus20ms], flags: 4, sequence: 2) + Array("junk".utf8)
        let ogg = try OggOpusReader(parsing: file)
        XCTAssertEqual(ogg.channels, 2)
        XCTAssertEqual(ogg.serial, 0x1234)
        XCTAssertEqual(ogg.packets.map(\.data), [B.opus20ms])
    }

    /// Every truncation (a stride of them) and random corruptions of the ffmpeg clips parse or
    /// throw a `ReplayFormatError`; none traps.
    func testTruncatedAndCorruptedClipsNeverTrap() throws {
        var random = UInt64(0x9E37_79B9_7F4A_7C15)
        func next() -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: random >> 33)
        }
        for name in ["vp8.ivf", "vp9.ivf", "sine.ogg"] {
            let bytes = try ReplayFixtures.bytes(ReplayFixtures.clip(name))
            let parse: ([UInt8]) throws -> Void = name.hasSuffix(".ogg")
                ? { _ = try OggOpusReader(parsing: $0) } : { _ = try IVFReader(parsing: $0) }
            var failures = 0
            for length in Swift.stride(from: 0, to: bytes.count, by: max(1, bytes.count / 1500)) {
                do { try parse(Array(bytes.prefix(length))) } catch { XCTAssertTrue(error is ReplayFormatError); failures += 1 }
            }
            XCTAssertGreaterThan(failures, 0)
            for _ in 0..<200 {
                var corrupted = bytes
                for _ in 0...(next() % 4) {
                    // Mostly in the headers, where the structure is.
                    let offset = next() % 3 == 0 ? next() % min(bytes.count, 200) : next() % bytes.count
                    corrupted[offset] = UInt8(truncatingIfNeeded: next())
                }
                do { try parse(corrupted) } catch { XCTAssertTrue(error is ReplayFormatError, "\(error)") }
                do { _ = try ReplayClip(parsing: corrupted, path: name) } catch { XCTAssertTrue(error is ReplayFormatError, "\(error)") }
            }
        }
    }
}
