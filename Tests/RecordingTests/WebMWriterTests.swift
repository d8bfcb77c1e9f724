import Foundation
@testable import Recording
import TestSupport
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
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw TestEnvironment.missing("no /dev/full") }
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

    private func fileSize(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
    }

    /// ENOSPC in the middle of a cluster: the half-written cluster is cut, the file still ends
    /// on a whole element, and the next cluster lands right after the last whole one (no hole
    /// of zeros, sizes that add up); ffprobe and mkvinfo read the finished file.
    func testWriteFailureKeepsTheFileWholeAndLaterWritesFollowTheLastWholeCluster() throws {
        let path = temporaryPath()
        let writer = try WebMWriter(path: path, tracks: [.init(number: 1, codec: .opus(channels: 2))], title: "t", overwrite: false)
        for ms in stride(from: Int64(0), to: 2000, by: 20) {
            try writer.write(track: 1, timestampMs: ms, keyFrame: true, data: SyntheticMedia.opus)
        }
        let wholeSize = fileSize(path)
        XCTAssertEqual(try MKVFile(path: path).clusters.count, 1, "the cluster at 0 s is on disk")
        // The next cluster's write: half of it goes through, then the disk is full.
        var calls = 0
        writer.systemWrite = { fd, buffer, offset in
            calls += 1
            if calls == 1 {
                return WebMWriter.positionedWrite(fd, UnsafeRawBufferPointer(rebasing: buffer[..<(buffer.count / 2)]), offset)
            }
            if calls == 2 { return -Int(ENOSPC) }
            return WebMWriter.positionedWrite(fd, buffer, offset)
        }
        XCTAssertThrowsError(try writer.write(track: 1, timestampMs: 2000, keyFrame: true, data: SyntheticMedia.opus)) {
            XCTAssertEqual($0 as? RecordingError, .writeFailed(path, "the disk is full"))
        }
        XCTAssertEqual(fileSize(path), wholeSize, "what was half written is cut")
        XCTAssertEqual(try MKVFile(path: path).clusters.count, 1)
        // The disk has room again.
        for ms in stride(from: Int64(2020), to: 4000, by: 20) {
            try writer.write(track: 1, timestampMs: ms, keyFrame: true, data: SyntheticMedia.opus)
        }
        try writer.finish()
        let mkv = try MKVFile(path: path)
        XCTAssertTrue(mkv.segmentSizeKnown)
        XCTAssertEqual(mkv.clusters.first.map { $0.offset + $0.size }, mkv.clusters.dropFirst().first?.offset,
                       "the next cluster starts right after the last whole one")
        let expected = Array(stride(from: Int64(0), to: 1000, by: 20)) + Array(stride(from: Int64(2020), to: 4000, by: 20))
        XCTAssertEqual(mkv.blocks.map(\.timeMs), expected, "the lost cluster (1 to 2 s) is the only gap")
        let packets = try ExternalReaders.packets(path)
        XCTAssertEqual(packets.errors, "")
        XCTAssertEqual(packets.times(of: "audio").count, expected.count)
        XCTAssertTrue(try ExternalReaders.mkvinfo(path).contains("A_OPUS"))
    }

    /// After a lost cluster, video resumes at a key frame: a delta frame would reference what
    /// is not in the file.
    func testVideoAfterALostClusterResumesAtAKeyFrame() throws {
        let path = temporaryPath()
        let writer = try WebMWriter(path: path, tracks: [.init(number: 1, codec: .vp8(width: 160, height: 120))], title: "t", overwrite: false)
        for (index, ms) in stride(from: Int64(0), to: 2000, by: 100).enumerated() {
            try writer.write(track: 1, timestampMs: ms, keyFrame: index % 10 == 0, data: SyntheticMedia.vp8(key: index % 10 == 0))
        }
        writer.systemWrite = { _, _, _ in -Int(ENOSPC) }
        XCTAssertThrowsError(try writer.write(track: 1, timestampMs: 2000, keyFrame: true, data: SyntheticMedia.vp8(key: true)))
        writer.systemWrite = WebMWriter.positionedWrite
        for ms in stride(from: Int64(2100), to: 4000, by: 100) {
            try writer.write(track: 1, timestampMs: ms, keyFrame: ms == 3000, data: SyntheticMedia.vp8(key: ms == 3000))
        }
        try writer.finish()
        let times = try MKVFile(path: path).blocks.map(\.timeMs)
        XCTAssertEqual(times.filter { $0 >= 1000 && $0 < 3000 }, [], "the cluster from 1 s was lost; deltas wait for the key frame at 3 s")
        XCTAssertEqual(times.first { $0 >= 3000 }, 3000)
        XCTAssertEqual(try MKVFile(path: path).blocks.first { $0.timeMs == 3000 }?.keyFrame, true)
    }

    /// A sender whose clock froze: the cluster still closes (and reaches the disk) by size.
    /// Two frames of one track at one time would be two frames with one timestamp: ffmpeg
    /// reported "non monotonically increasing dts" on such recordings.
    func testATracksBlockTimesStrictlyIncrease() throws {
        let path = temporaryPath()
        let writer = try WebMWriter(path: path, tracks: [.init(number: 1, codec: .vp8(width: 160, height: 120))], title: "t", overwrite: false)
        for (index, time) in [0, 33, 33, 33, 20, 100].enumerated() {
            try writer.write(track: 1, timestampMs: Int64(time), keyFrame: index == 0, data: SyntheticMedia.vp8(key: index == 0, size: 100))
        }
        try writer.finish()
        let times = try MKVFile(path: path).blocks.map(\.timeMs)
        XCTAssertEqual(times, [0, 33, 34, 35, 36, 100])
    }

    func testClusterClosesBySizeWhenTimeDoesNotAdvance() throws {
        let path = temporaryPath()
        let writer = try WebMWriter(path: path, tracks: [.init(number: 1, codec: .vp8(width: 160, height: 120))], title: "t", overwrite: false)
        writer.maxClusterBytes = 64 * 1024
        for index in 0..<40 {
            try writer.write(track: 1, timestampMs: 0, keyFrame: index == 0, data: SyntheticMedia.vp8(key: index == 0, size: 10_000))
        }
        let mkv = try MKVFile(path: path)
        XCTAssertGreaterThanOrEqual(mkv.clusters.count, 5, "40 × 10 kB in clusters of at most 64 KiB, on disk before finish")
        XCTAssertTrue(mkv.clusters.allSatisfy { $0.size <= 64 * 1024 + 100 }, "\(mkv.clusters.map(\.size))")
        try writer.finish()
        XCTAssertEqual(try MKVFile(path: path).blocks.count, 40)
    }

    /// ...and by wall time: a cluster open for 2 s is written even if media time stands still,
    /// on the next write or on `flushIfDue` when nothing comes.
    func testClusterClosesByWallTime() throws {
        let path = temporaryPath()
        let clock = ManualClock()
        let writer = try WebMWriter(path: path, tracks: [.init(number: 1, codec: .opus(channels: 2))], title: "t", overwrite: false,
                                    clock: clock.function)
        writer.maxClusterWallTime = 2
        for _ in 0..<19 {
            try writer.write(track: 1, timestampMs: 500, keyFrame: true, data: SyntheticMedia.opus)
            clock.now += 0.1
        }
        XCTAssertEqual(try MKVFile(path: path).clusters.count, 0, "1.9 s: still open")
        clock.now += 0.2
        try writer.write(track: 1, timestampMs: 500, keyFrame: true, data: SyntheticMedia.opus)
        XCTAssertEqual(try MKVFile(path: path).clusters.map(\.blocks.count), [19], "2.1 s: closed, the new frame opens the next")
        clock.now += 2.5
        try writer.flushIfDue()
        XCTAssertEqual(try MKVFile(path: path).clusters.map(\.blocks.count), [19, 1], "written although no frame came")
        try writer.finish()
        XCTAssertEqual(try MKVFile(path: path).blocks.count, 20)
    }

    /// Block times are 16-bit offsets from the cluster: a block 32.768 s or more away opens a
    /// new cluster instead of being clamped to a wrong time.
    func testBlockOutOfInt16RangeOpensANewCluster() throws {
        let path = temporaryPath()
        let writer = try WebMWriter(path: path, tracks: [.init(number: 1, codec: .opus(channels: 2))], title: "t", overwrite: false)
        writer.clusterDurationMs = 1_000_000
        writer.maxClusterWallTime = .infinity
        let times: [Int64] = [0, 20_000, 32_767, 32_768, 70_000, 100_000]
        for ms in times { try writer.write(track: 1, timestampMs: ms, keyFrame: true, data: SyntheticMedia.opus) }
        try writer.finish()
        let mkv = try MKVFile(path: path)
        XCTAssertEqual(mkv.blocks.map(\.timeMs), times)
        XCTAssertTrue(mkv.clusters.allSatisfy { cluster in cluster.blocks.allSatisfy { abs($0.timeMs - cluster.timecode) <= 32_767 } })
        // (ffprobe takes the Opus codec delay, 6.5 ms, off every time.)
        let read = try ExternalReaders.packets(path).times(of: "audio")
        XCTAssertEqual(read.count, times.count)
        for (got, ms) in zip(read, times) { XCTAssertEqual(got, Double(ms) / 1000 - 0.0065, accuracy: 0.0011) }
    }

    /// A track added while the file is open: Tracks is rewritten in place (into the reserved
    /// Void), video listed first; the track's first block comes late. Readable before and
    /// after finish.
    func testTrackAddedLaterJoinsTheSameFile() throws {
        let path = temporaryPath()
        let writer = try WebMWriter(path: path, tracks: [.init(number: 1, codec: .opus(channels: 2))], title: "t", overwrite: false)
        for ms in stride(from: Int64(0), to: 2000, by: 20) {
            try writer.write(track: 1, timestampMs: ms, keyFrame: true, data: SyntheticMedia.opus)
        }
        XCTAssertTrue(try writer.addTrack(.init(number: 2, codec: .vp8(width: 160, height: 120))))
        let early = try MKVFile(path: path)
        XCTAssertEqual(early.tracks.map(\.codec), ["V_VP8", "A_OPUS"], "video first")
        XCTAssertEqual(early.tracks.map(\.number), [2, 1])
        XCTAssertEqual(early.tracks.first?.width, 160)
        for ms in stride(from: Int64(2000), to: 4000, by: 20) {
            try writer.write(track: 1, timestampMs: ms, keyFrame: true, data: SyntheticMedia.opus)
            if ms % 100 == 0 { try writer.write(track: 2, timestampMs: ms, keyFrame: ms % 1000 == 0, data: SyntheticMedia.vp8(key: ms % 1000 == 0)) }
        }
        try writer.finish()
        let mkv = try MKVFile(path: path)
        XCTAssertEqual(mkv.tracks.count, 2)
        XCTAssertEqual(mkv.blocks(track: 2).first?.timeMs, 2000)
        XCTAssertEqual(mkv.blocks(track: 2).count, 20)
        let packets = try ExternalReaders.packets(path)
        XCTAssertEqual(packets.streams, ["video", "audio"])
        XCTAssertEqual(packets.times(of: "video").first ?? -1, 2.0, accuracy: 0.001)
        XCTAssertEqual(packets.times(of: "audio").count, 200)
        let info = try ExternalReaders.mkvinfo(path)
        XCTAssertTrue(info.contains("V_VP8") && info.contains("A_OPUS"), info)
    }

    /// No room left after Tracks: the writer says so and the file is left as it was.
    func testTrackThatDoesNotFitIsRefused() throws {
        let path = temporaryPath()
        let writer = try WebMWriter(path: path, tracks: [.init(number: 1, codec: .opus(channels: 2))], title: "t", overwrite: false,
                                    tracksReserve: 0)
        try writer.write(track: 1, timestampMs: 0, keyFrame: true, data: SyntheticMedia.opus)
        XCTAssertFalse(try writer.addTrack(.init(number: 2, codec: .vp8(width: 160, height: 120))))
        try writer.finish()
        XCTAssertEqual(try MKVFile(path: path).tracks.map(\.codec), ["A_OPUS"])
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    private func count(_ needle: [UInt8], in haystack: [UInt8]) -> Int {
        (0...(haystack.count - needle.count)).filter { Array(haystack[$0..<($0 + needle.count)]) == needle }.count
    }
}
