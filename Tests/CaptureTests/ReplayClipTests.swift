@testable import Capture
import Foundation
import Media
import XCTest

/// Clips made by ffmpeg read back: counts, key frames and durations, checked against ffprobe.
final class ReplayClipTests: XCTestCase {
    /// ffprobe's view of a file's first stream: one line per packet with its flags.
    private func probePackets(_ path: String, stream: String) throws -> [String] {
        let result = try ReplayFixtures.run("ffprobe", ["-v", "error", "-select_streams", stream, "-show_entries", "packet=flags",
                                                        "-of", "csv=p=0", path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private func probeCount(_ path: String, stream: String) throws -> Int {
        let result = try ReplayFixtures.run("ffprobe", ["-v", "error", "-select_streams", stream, "-count_packets",
                                                        "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: ","))) ?? -1
    }

    func testVP8IVF() throws {
        let path = try ReplayFixtures.clip("vp8.ivf")
        let ivf = try IVFReader(parsing: ReplayFixtures.bytes(path))
        XCTAssertEqual(ivf.codec, .vp8)
        XCTAssertEqual([ivf.width, ivf.height], [320, 240])
        XCTAssertEqual(ivf.frames.count, 45)
        XCTAssertEqual(ivf.frames.map(\.pts), (0..<45).map { UInt64($0) }, "pts in 1/15 s")
        XCTAssertEqual(ivf.secondsPerTick, 1.0 / 15, accuracy: 1e-12)
        XCTAssertEqual(ivf.frames.indices.filter { ivf.frames[$0].isKeyFrame }, [0, 15, 30], "-g 15")
        for frame in ivf.frames where frame.isKeyFrame { XCTAssertEqual([frame.width, frame.height], [320, 240]) }
        XCTAssertNil(ivf.vp9Profile)

        let probed = try probePackets(path, stream: "v:0")
        XCTAssertEqual(probed.count, ivf.frames.count, "ffprobe counts as many frames")
        XCTAssertEqual(probed.map { $0.hasPrefix("K") }, ivf.frames.map(\.isKeyFrame), "and the same key frames")

        let clip = try ReplayClip(contentsOf: path)
        XCTAssertEqual(clip.kind, .video)
        XCTAssertEqual(clip.codec, .vp8)
        XCTAssertEqual(clip.frames.count, 45)
        XCTAssertEqual(clip.keyFrameIndices, [0, 15, 30])
        XCTAssertEqual([clip.width, clip.height], [320, 240])
        XCTAssertEqual(clip.duration, 3, accuracy: 1e-9)
        for frame in clip.frames {
            XCTAssertEqual(frame.duration, 1.0 / 15, accuracy: 1e-12)
            XCTAssertEqual([frame.width, frame.height], [320, 240])
        }
        XCTAssertEqual(clip.frames.map(\.data), ivf.frames.map(\.data))
        XCTAssertTrue(clip.summary.contains("video/VP8 320x240, 45 frames (3 key)"), clip.summary)
    }

    func testVP9IVF() throws {
        let path = try ReplayFixtures.clip("vp9.ivf")
        let clip = try ReplayClip(contentsOf: path)
        XCTAssertEqual(clip.codec, .vp9)
        XCTAssertEqual(clip.vp9Profile, 0)
        XCTAssertEqual(clip.frames.count, try probeCount(path, stream: "v:0"), "ffprobe counts as many frames")
        XCTAssertEqual(clip.frames.count, 45)
        XCTAssertEqual(try probePackets(path, stream: "v:0").map { $0.hasPrefix("K") }, clip.frames.map(\.isKeyFrame))
        XCTAssertEqual(clip.keyFrameIndices.first, 0)
        XCTAssertEqual(clip.keyFrameIndices, [0, 15, 30])
        XCTAssertEqual([clip.width, clip.height], [320, 240])
        XCTAssertEqual(clip.duration, 3, accuracy: 1e-9)

        // A superframe is one picture: the key frame first makes it a key frame.
        let ivf = try IVFReader(parsing: ReplayFixtures.bytes(path))
        let superframe = VP9Superframe.build([ivf.frames[0].data, ivf.frames[1].data])
        let rebuilt = try IVFReader(parsing: ReplayBuilder.ivf([(0, superframe), (1, ivf.frames[2].data)], fourcc: "VP90", rate: 15))
        XCTAssertEqual(rebuilt.frames.map(\.isKeyFrame), [true, false])
        XCTAssertEqual(rebuilt.frames[0].width, 320)
        XCTAssertEqual(rebuilt.frames[0].data, superframe, "kept whole")
        // show_existing_frame: one byte (frame_marker 2, profile 0, show_existing 1, index 0).
        let showExisting = try IVFReader(parsing: ReplayBuilder.ivf([(0, ivf.frames[0].data), (1, [0b1000_1000])], fourcc: "VP90"))
        XCTAssertEqual(showExisting.frames.map(\.isKeyFrame), [true, false])
    }

    func testOggOpus() throws {
        let path = try ReplayFixtures.clip("sine.ogg")
        let ogg = try OggOpusReader(parsing: ReplayFixtures.bytes(path))
        XCTAssertEqual(ogg.channels, 1)
        XCTAssertEqual(ogg.inputSampleRate, 48000)
        XCTAssertEqual(ogg.mappingFamily, 0)
        XCTAssertGreaterThan(ogg.preSkip, 0)
        XCTAssertFalse(ogg.vendor.isEmpty)
        XCTAssertEqual(ogg.packets.count, try probeCount(path, stream: "a:0"), "ffprobe counts as many packets")
        XCTAssertTrue(ogg.packets.allSatisfy { $0.samples == 960 }, "20 ms each")
        XCTAssertEqual(ogg.duration, 3, accuracy: 0.05)

        let clip = try ReplayClip(contentsOf: path)
        XCTAssertEqual(clip.kind, .audio)
        XCTAssertEqual(clip.codec, .opus)
        XCTAssertEqual(clip.channels, 1)
        XCTAssertEqual(clip.keyFrameIndices, [])
        XCTAssertEqual(clip.frames.count, ogg.packets.count)
        for frame in clip.frames { XCTAssertEqual(frame.duration, 0.02, accuracy: 1e-12) }
        XCTAssertEqual(clip.duration, 3, accuracy: 0.05)
    }

    /// Packets that span pages: ffmpeg's audio packets laid out again one lacing value per page,
    /// with some packets of 600 bytes (three lacing values, three pages), read the same.
    func testPacketsSpanningPages() throws {
        let ogg = try OggOpusReader(parsing: ReplayFixtures.bytes(ReplayFixtures.clip("sine.ogg")))
        let big = [31 << 3] + [UInt8](repeating: 0x5A, count: 599)
        let audio = Array(ogg.packets.prefix(10).map(\.data)) + [big, ogg.packets[10].data, big]
        let headers = ReplayBuilder.oggPage([ReplayBuilder.opusHead()], flags: 2, sequence: 0)
            + ReplayBuilder.oggPage([ReplayBuilder.opusTags], sequence: 1)
        let read = try OggOpusReader(parsing: headers + ReplayBuilder.oggPages(audio, segmentsPerPage: 1, firstSequence: 2))
        XCTAssertEqual(read.packets.map(\.data), audio)
        XCTAssertEqual(read.packets.map(\.samples), [Int](repeating: 960, count: audio.count))
        // Two segments a page: pages end inside packets and packets end inside pages.
        let paired = try OggOpusReader(parsing: headers + ReplayBuilder.oggPages(audio, segmentsPerPage: 2, firstSequence: 2))
        XCTAssertEqual(paired.packets.map(\.data), audio)
    }

    func testLargePacketOverPages() throws {
        // OpusTags of 1000 bytes: three lacing values of 255 on the tags page (left open), the
        // last one (235) on a continuation page with an audio packet.
        let tags = ReplayBuilder.opusTags + [UInt8](repeating: 0x41, count: 1000 - ReplayBuilder.opusTags.count)
        let file = ReplayBuilder.oggPage([ReplayBuilder.opusHead()], flags: 2, sequence: 0)
            + ReplayBuilder.oggPage([Array(tags[..<765])], sequence: 1, lacing: [255, 255, 255])
            + ReplayBuilder.oggPage([Array(tags[765...]), ReplayBuilder.opus20ms], flags: 1 | 4, sequence: 2, lacing: [235, 3])
        let ogg = try OggOpusReader(parsing: file)
        XCTAssertEqual(ogg.vendor, "test")
        XCTAssertEqual(ogg.packets.map(\.data), [ReplayBuilder.opus20ms])
    }

    func testOpusTOCDurations() throws {
        func ms(_ packet: [UInt8]) throws -> Double { Double(try OggOpusReader.samples(in: packet[...])) / 48 }
        XCTAssertEqual(try ms([0 << 3]), 10)  // SILK NB 10 ms
        XCTAssertEqual(try ms([3 << 3]), 60)  // SILK NB 60 ms
        XCTAssertEqual(try ms([9 << 3 | 1, 0, 0]), 40)  // SILK WB 20 ms, two frames
        XCTAssertEqual(try ms([12 << 3]), 10)  // hybrid SWB 10 ms
        XCTAssertEqual(try ms([15 << 3 | 2, 1, 0]), 40)  // hybrid FB 20 ms, two frames
        XCTAssertEqual(try ms([16 << 3]), 2.5)  // CELT NB 2.5 ms
        XCTAssertEqual(try ms([31 << 3]), 20)  // CELT FB 20 ms
        XCTAssertEqual(try ms([31 << 3 | 3, 6]), 120)  // code 3: six 20 ms frames
        XCTAssertEqual(try ms([16 << 3 | 3, 48]), 120)  // 48 frames of 2.5 ms
        XCTAssertThrowsError(try ms([31 << 3 | 3, 7])) { XCTAssertTrue("\($0)".contains("120 ms"), "\($0)") }
        XCTAssertEqual(try ms([3 << 3 | 1, 0, 0]), 120)  // two 60 ms frames: the most there may be
        XCTAssertThrowsError(try ms([31 << 3 | 3])) { XCTAssertTrue("\($0)".contains("frame count"), "\($0)") }
        XCTAssertThrowsError(try ms([31 << 3 | 3, 0])) { XCTAssertTrue("\($0)".contains("0 frames"), "\($0)") }
        XCTAssertThrowsError(try ms([]))
    }

    func testClipErrorsNameThePath() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-replay-errors-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        let cases: [(String, [UInt8], String)] = [
            ("clip.ivf", Array("RIFF....".utf8), "not an IVF file"),
            ("clip.ogg", Array("RIFF....".utf8), "not an Ogg file"),
            ("clip.opus", [], "not an Ogg file"),
            ("clip.mp4", Array("....ftyp".utf8), "neither IVF (VP8, VP9) nor Ogg Opus"),
            ("clip.ivf", ReplayBuilder.ivfHeader(), "IVF file without frames"),
            ("inter.ivf", ReplayBuilder.ivf([(0, ReplayBuilder.vp8InterFrame())]), "without a key frame"),
            ("still.ivf", ReplayBuilder.ivf([(5, ReplayBuilder.vp8KeyFrame()), (5, ReplayBuilder.vp8InterFrame())]), "lasts 0 s"),
            ("gap.ivf", ReplayBuilder.ivf([(0, ReplayBuilder.vp8KeyFrame()), (3000, ReplayBuilder.vp8InterFrame())]), "frame 0 lasts 100"),
            ("head.ogg", ReplayBuilder.oggPage([ReplayBuilder.opusHead()], flags: 2, sequence: 0), "before its OpusTags"),
        ]
        for (name, bytes, expected) in cases {
            let path = try write(name, bytes)
            XCTAssertThrowsError(try ReplayClip(contentsOf: path), name) { error in
                XCTAssertTrue("\(error)".hasPrefix("replay:\(path): "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(name): \(error)")
            }
        }
        XCTAssertThrowsError(try ReplayClip(contentsOf: directory.appendingPathComponent("missing.ivf").path)) {
            XCTAssertTrue("\($0)".contains("missing.ivf: cannot read it"), "\($0)")
        }
        // Too large to hold in memory (a sparse file: no disk used), refused before reading it.
        let huge = try write("huge.ivf", [])
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: huge))
        try handle.truncate(atOffset: UInt64(ReplayClip.maxFileSize) + 1)
        try handle.close()
        XCTAssertThrowsError(try ReplayClip(contentsOf: huge)) { XCTAssertTrue("\($0)".contains("too large"), "\($0)") }
        try FileManager.default.removeItem(atPath: huge)
        // A lone frame lasts one tick, within reason; the file's own signature wins over its name.
        let lone = try ReplayClip(contentsOf: write("lone.ogg", ReplayBuilder.ivf([(0, ReplayBuilder.vp8KeyFrame())], rate: 30)))
        XCTAssertEqual(lone.codec, .vp8)
        XCTAssertEqual(lone.duration, 1.0 / 30, accuracy: 1e-12)
        // Frames before the first key frame are dropped: nothing could decode them.
        let cut = try ReplayClip(parsing: ReplayBuilder.ivf([(0, ReplayBuilder.vp8InterFrame()), (1, ReplayBuilder.vp8KeyFrame(width: 64)),
                                                             (2, ReplayBuilder.vp8InterFrame()), (3, ReplayBuilder.vp8KeyFrame(width: 96)),
                                                             (4, ReplayBuilder.vp8InterFrame())]), path: "cut.ivf")
        XCTAssertEqual(cut.frames.count, 4)
        XCTAssertEqual(cut.keyFrameIndices, [0, 2])
        XCTAssertEqual(cut.frames.map(\.width), [64, 64, 96, 96], "the size of the last key frame")
        XCTAssertEqual(cut.width, 64)
        XCTAssertEqual(cut.duration, 4.0 / 30, accuracy: 1e-12)
        // The last frame lasts as long as the one before.
        let two = try ReplayClip(parsing: ReplayBuilder.ivf([(0, ReplayBuilder.vp8KeyFrame()), (3, ReplayBuilder.vp8InterFrame())]), path: "x")
        XCTAssertEqual(two.frames.map(\.duration), [0.1, 0.1])
    }

    func testSharedClipIsReadOnce() throws {
        let path = try ReplayFixtures.clip("vp8.ivf")
        let a = try ReplayClip.shared(contentsOf: path)
        let b = try ReplayClip.shared(contentsOf: ReplayFixtures.directory + "/./vp8.ivf")
        XCTAssertTrue(a === b, "one copy per process")
        XCTAssertFalse(a === (try ReplayClip(contentsOf: path)))
    }
}
