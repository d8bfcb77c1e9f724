@testable import Capture
import Foundation
import XCTest

/// What a clip may take: frames bounded in number and stored compactly, and no burst of frames
/// at one instant.
final class ReplayLimitsTests: XCTestCase {
    private typealias B = ReplayBuilder

    /// Ogg pages of up to 255 one-byte packets each (a 2.5 ms CELT TOC byte: the smallest
    /// packet there is), the last page ending the stream.
    private func oggOfTinyPackets(_ count: Int) -> [UInt8] {
        var file = B.oggPage([B.opusHead()], flags: 2, sequence: 0) + B.oggPage([B.opusTags], sequence: 1)
        var sequence: UInt32 = 2
        var left = count
        while left > 0 {
            let onPage = min(left, 255)
            left -= onPage
            file += B.oggPage([[UInt8]](repeating: [16 << 3], count: onPage), flags: left == 0 ? 4 : 0, sequence: sequence)
            sequence += 1
        }
        return file
    }

    func testTooManyOggPacketsAreRefused() throws {
        let file = oggOfTinyPackets(ReplayLimits.maxFrameCount + 1)
        XCTAssertThrowsError(try OggOpusReader(parsing: file)) {
            XCTAssertTrue("\($0)".contains("more than \(ReplayLimits.maxFrameCount) audio packets"), "\($0)")
        }
        XCTAssertEqual(try OggOpusReader(parsing: oggOfTinyPackets(ReplayLimits.maxFrameCount)).packets.count, ReplayLimits.maxFrameCount)
    }

    func testTooManyIVFFramesAreRefused() throws {
        let inter = B.vp8InterFrame(partition: 0)
        var file = B.ivf([(0, B.vp8KeyFrame())])
        for pts in 1...UInt64(ReplayLimits.maxFrameCount) { file += B.le32(UInt32(inter.count)) + B.le64(pts) + inter }
        XCTAssertThrowsError(try IVFReader(parsing: file)) {
            XCTAssertTrue("\($0)".contains("more than \(ReplayLimits.maxFrameCount) frames"), "\($0)")
        }
        // Through a file: the error names it.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).ivf")
        try Data(file).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try ReplayClip(contentsOf: url.path)) {
            XCTAssertTrue("\($0)".hasPrefix("replay:\(url.path): more than"), "\($0)")
        }
    }

    /// A clip of one-byte packets keeps its bytes in one buffer plus a fixed record a packet:
    /// under 40 bytes a packet, where an array per packet took about 90.
    func testTinyPacketsCostAFixedRecordEach() throws {
        let count = 100_000
        let file = oggOfTinyPackets(count)
        let before = try XCTUnwrap(HeapInUse.bytes(), "glibc's malloc_info")
        let clip = try ReplayClip(parsing: file, path: "tiny.ogg")
        let kept = try XCTUnwrap(HeapInUse.bytes()) - before
        XCTAssertEqual(clip.frames.count, count)
        XCTAssertEqual(clip.duration, Double(count) * 0.0025, accuracy: 1e-6)
        XCTAssertEqual(clip.frames.data(at: 7), [16 << 3])
        XCTAssertEqual(clip.frames[7].data, [16 << 3])
        XCTAssertLessThan(kept, 40 * count, "\(kept) bytes kept for \(count) packets")
        XCTAssertLessThanOrEqual(clip.frames.memoryFootprint, file.count + 32 * count)
        withExtendedLifetime(clip) {}
    }

    /// IVF frames keep pointing into the file: no copy per frame.
    func testIVFFramesAreRangesOfTheFile() throws {
        let file = B.ivf([(0, B.vp8KeyFrame()), (1, B.vp8InterFrame()), (2, B.vp8InterFrame(partition: 9))])
        let clip = try ReplayClip(parsing: file, path: "x.ivf")
        XCTAssertEqual(clip.frames.map(\.data), [B.vp8KeyFrame(), B.vp8InterFrame(), B.vp8InterFrame(partition: 9)])
        XCTAssertEqual(clip.frames.bytes.withUnsafeBufferPointer { $0.baseAddress }, file.withUnsafeBufferPointer { $0.baseAddress },
                       "the buffer is the file's")
    }

    /// Frames that share a pts share the interval to the next one: their own capture times,
    /// the loop's length unchanged.
    func testEqualPtsShareTheInterval() throws {
        let key = B.vp8KeyFrame(), inter = B.vp8InterFrame()
        let clip = try ReplayClip(parsing: B.ivf([(0, key), (1, inter), (1, inter), (2, inter), (4, inter), (4, inter), (4, inter)]), path: "x.ivf")
        let third = 1.0 / 90
        let expected = [1.0 / 30, 1.0 / 60, 1.0 / 60, 2.0 / 30, third * 2, third * 2, third * 2]
        for (duration, wanted) in zip(clip.frames.map(\.duration), expected) { XCTAssertEqual(duration, wanted, accuracy: 1e-12) }
        XCTAssertEqual(clip.duration, 4.0 / 30 + 2.0 / 30, accuracy: 1e-12, "the last frames last as long as the interval before them")
        // Sent one at a time: every publisher's frames come due at distinct times.
        var schedule = ReplaySchedule(clip: clip)
        _ = schedule.attach(now: 0)
        var times: [Double] = []
        while let deadline = schedule.nextDeadline, deadline < 1 {
            let due = schedule.due(now: deadline)
            XCTAssertEqual(due.count, 1, "at \(deadline): \(due)")
            times += due.map(\.captureTime)
        }
        XCTAssertEqual(Set(times).count, times.count)
    }

    /// A burst of frames at one instant (or a timebase of microseconds) is refused with the
    /// frames named, where it used to come due all at once.
    func testFramesUnderAMillisecondAreRefused() {
        let key = B.vp8KeyFrame(), inter = B.vp8InterFrame()
        let burst = B.ivf([(0, key)] + [(UInt64, [UInt8])](repeating: (1, inter), count: 100) + [(2, inter)])
        XCTAssertThrowsError(try ReplayClip(parsing: burst, path: "burst.ivf")) {
            XCTAssertTrue("\($0)".contains("frames 1 to 100 (pts 1) last 0.333"), "\($0)")
            XCTAssertTrue("\($0)".contains("under the 1 ms a frame may last"), "\($0)")
        }
        let fast = B.ivf([(0, key), (1, inter), (2, inter)], rate: 1_000_000)
        XCTAssertThrowsError(try ReplayClip(parsing: fast, path: "fast.ivf")) { XCTAssertTrue("\($0)".contains("frame 0 lasts 0.001 ms, under"), "\($0)") }
        // 1000 fps is the most there may be.
        XCTAssertNoThrow(try ReplayClip(parsing: B.ivf([(0, key), (1, inter), (2, inter)], rate: 1000), path: "ms.ivf"))
    }
}
