import Foundation
import Logging
@testable import Recording
import XCTest

/// Codecs beyond VP8: VP9 goes into WebM, H264 into Matroska (WebM takes no H264) with its
/// avcC as CodecPrivate, and new parameter sets start a new file.
final class MemberRecorderCodecTests: XCTestCase {
    private let logger = Logger(label: "test")
    private let avcC: [UInt8] = [0x01, 0x42, 0xC0, 0x1F, 0xFF, 0xE1, 0x00, 0x04, 0x67, 0x42, 0xC0, 0x1F, 0x01, 0x00, 0x02, 0x68, 0xCE]

    private func files(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map { dir.appendingPathComponent($0).path }
    }

    /// 2 s of a member: a key frame, then deltas, with audio; returns the next capture time.
    @discardableResult
    private func feed(_ recorder: MemberRecorder, _ clock: ManualClock, video: String, audio: String, from start: Double, seconds: Double,
                      codecPrivate: [UInt8]? = nil) -> Double {
        var t = start
        var frame = 0
        while t < start + seconds {
            clock.now = t
            recorder.frame(track: audio, rtpTimestamp: UInt32(t * 48000), keyFrame: true, data: [0xFC, 1, 2], arrival: t)
            if frame % 3 == 0 {
                let key = frame == 0
                recorder.frame(track: video, rtpTimestamp: UInt32(t * 90000), keyFrame: key, data: [key ? 0x65 : 0x41, 1, 2, 3],
                               arrival: t, width: key ? 320 : nil, height: key ? 240 : nil, codecPrivate: key ? codecPrivate : nil)
            }
            frame += 1
            t += 0.02
            if frame % 5 == 0 { recorder.tick() }
        }
        recorder.tick()
        return t
    }

    func testH264GoesIntoMatroskaWithItsAVCConfiguration() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = MemberRecorder(member: "m", room: "r", directory: dir, overwrite: false, logger: logger, clock: clock.function)
        recorder.addTrack(id: "a", kind: .audio, codec: .opus, clockRate: 48000)
        recorder.addTrack(id: "v", kind: .video, codec: .h264, clockRate: 90000)
        feed(recorder, clock, video: "v", audio: "a", from: 1000, seconds: 4, codecPrivate: avcC)
        recorder.finish()
        let written = try files(dir)
        XCTAssertEqual(written.count, 1, "\(written)")
        let path = try XCTUnwrap(written.first)
        XCTAssertTrue(path.hasSuffix(".mkv"), path)
        let mkv = try MKVFile(path: path)
        XCTAssertEqual(mkv.tracks.map(\.codec), ["V_MPEG4/ISO/AVC", "A_OPUS"])
        let info = try ExternalReaders.mkvinfo(path)
        XCTAssertTrue(info.contains("Document type: matroska"), info)
        XCTAssertTrue(info.contains("Codec's private data: size \(avcC.count)"), info)
        XCTAssertGreaterThan(mkv.blocks(track: mkv.tracks[0].number).count, 50)
    }

    /// New SPS/PPS (a phone changed its encoder settings): a track has one CodecPrivate, so
    /// the file ends and the next starts with the new one, once the file is old enough (see
    /// MemberRecorderH264FormatTests). This record's SPS does not parse: any other bytes are
    /// a new format.
    func testNewParameterSetsStartANewFile() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = MemberRecorder(member: "m", room: "r", directory: dir, overwrite: false, logger: logger, clock: clock.function)
        recorder.addTrack(id: "a", kind: .audio, codec: .opus, clockRate: 48000)
        recorder.addTrack(id: "v", kind: .video, codec: .h264, clockRate: 90000)
        let next = feed(recorder, clock, video: "v", audio: "a", from: 1000, seconds: MemberRecorder.minFileAgeForFormatChange + 4,
                        codecPrivate: avcC)
        var changed = avcC
        changed[3] = 0x28  // another level
        feed(recorder, clock, video: "v", audio: "a", from: next, seconds: 4, codecPrivate: changed)
        recorder.finish()
        let written = try files(dir)
        XCTAssertEqual(written.count, 2, "\(written)")
        XCTAssertTrue(written.allSatisfy { $0.hasSuffix(".mkv") })
        for path in written { XCTAssertEqual(try MKVFile(path: path).tracks.map(\.codec), ["V_MPEG4/ISO/AVC", "A_OPUS"]) }
        XCTAssertTrue(try ExternalReaders.mkvinfo(written[1]).contains("Codec's private data: size \(avcC.count)"))
    }

    func testVP9GoesIntoWebM() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = MemberRecorder(member: "m", room: "r", directory: dir, overwrite: false, logger: logger, clock: clock.function)
        recorder.addTrack(id: "a", kind: .audio, codec: .opus, clockRate: 48000)
        recorder.addTrack(id: "v", kind: .video, codec: .vp9, clockRate: 90000)
        feed(recorder, clock, video: "v", audio: "a", from: 1000, seconds: 4)
        recorder.finish()
        let path = try XCTUnwrap(try files(dir).first)
        XCTAssertTrue(path.hasSuffix(".webm"), path)
        XCTAssertEqual(try MKVFile(path: path).tracks.map(\.codec), ["V_VP9", "A_OPUS"])
        XCTAssertTrue(try ExternalReaders.mkvinfo(path).contains("Document type: webm"))
    }

    /// H264 that starts after a WebM file was opened (audio first): WebM cannot take it, so the
    /// member continues in a Matroska file.
    func testH264JoiningAWebMFileStartsAMatroskaFile() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = MemberRecorder(member: "m", room: "r", directory: dir, overwrite: false, logger: logger, clock: clock.function)
        recorder.addTrack(id: "a", kind: .audio, codec: .opus, clockRate: 48000)
        var t = 1000.0
        while t < 1004 {
            clock.now = t
            recorder.frame(track: "a", rtpTimestamp: UInt32(t * 48000), keyFrame: true, data: [0xFC], arrival: t)
            recorder.tick()
            t += 0.02
        }
        recorder.addTrack(id: "v", kind: .video, codec: .h264, clockRate: 90000)
        feed(recorder, clock, video: "v", audio: "a", from: t, seconds: 4, codecPrivate: avcC)
        recorder.finish()
        let written = try files(dir)
        XCTAssertEqual(written.map { URL(fileURLWithPath: $0).pathExtension }.sorted(), ["mkv", "webm"], "\(written)")
    }
}
