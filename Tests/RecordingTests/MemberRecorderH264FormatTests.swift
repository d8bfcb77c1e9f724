import Foundation
import Logging
@testable import Recording
import TestSupport
import XCTest

/// A sender that changes its H264 parameter sets at every key frame must not make a file per
/// key frame: only a new picture format starts a file, at most once per
/// `minFileAgeForFormatChange`, and every key frame carries its SPS and PPS in band so the
/// file decodes across the changes.
final class MemberRecorderH264FormatTests: XCTestCase {
    private let logger = Logger(label: "test")
    /// Baseline 320x240 (the captured mediasoup stream's SPS) and Main 1280x720.
    static let sps320 = [UInt8](hexString: "6742c01fda0507ec0440000003004000000f23c60ca8")
    static let sps720 = [UInt8](hexString: "674d401feca02802dd8088000003000800000301e078c18cb0")
    /// PPS id 0 and the same with id 1 (both refer to SPS 0).
    static let pps0: [UInt8] = [0x68, 0xCE, 0x3C, 0x80]
    static let pps1: [UInt8] = [0x68, 0x53, 0x8F, 0x20]

    /// An avcC record (ISO 14496-15 §5.3.3.1) for one SPS and one PPS, 4-byte lengths.
    static func avcC(_ sps: [UInt8], _ pps: [UInt8]) -> [UInt8] {
        [1, sps[1], sps[2], sps[3], 0xFF, 0xE1, UInt8(sps.count >> 8), UInt8(sps.count & 0xFF)] + sps
            + [1, UInt8(pps.count >> 8), UInt8(pps.count & 0xFF)] + pps
    }

    static func sample(_ units: [[UInt8]]) -> [UInt8] {
        units.flatMap { unit in [0, 0, UInt8(unit.count >> 8), UInt8(unit.count & 0xFF)] + unit }
    }

    private func recorder(_ dir: URL, _ clock: ManualClock) -> MemberRecorder {
        let recorder = MemberRecorder(member: "m", room: "r", directory: dir, overwrite: false, logger: logger, clock: clock.function)
        recorder.addTrack(id: "a", kind: .audio, codec: .opus, clockRate: 48000)
        recorder.addTrack(id: "v", kind: .video, codec: .h264, clockRate: 90000)
        return recorder
    }

    /// Audio every 20 ms; video every 40 ms, a key frame every `keyEvery` frames with the
    /// codecPrivate `configuration(n)` for the n-th key frame (and its size).
    private func feed(_ recorder: MemberRecorder, _ clock: ManualClock, seconds: Double, keyEvery: Int,
                      configuration: (Int) -> (avcC: [UInt8], width: Int, height: Int), keyData: [UInt8] = [0, 0, 0, 2, 0x65, 0x88]) {
        let start = clock.now
        var step = 0
        var keys = 0
        while clock.now < start + seconds {
            let t = clock.now
            recorder.frame(track: "a", rtpTimestamp: UInt32(t * 48000), keyFrame: true, data: [0xFC, 1, 2], arrival: t)
            if step % 2 == 0 {
                let frame = step / 2
                if frame % keyEvery == 0 {
                    let (avcC, width, height) = configuration(keys)
                    keys += 1
                    recorder.frame(track: "v", rtpTimestamp: UInt32(t * 90000), keyFrame: true, data: keyData, arrival: t, width: width,
                                   height: height, codecPrivate: avcC)
                } else {
                    recorder.frame(track: "v", rtpTimestamp: UInt32(t * 90000), keyFrame: false, data: [0, 0, 0, 2, 0x41, 0x9A], arrival: t)
                }
            }
            step += 1
            if step % 5 == 0 { recorder.tick() }
            clock.now = t + 0.02
        }
        recorder.tick()
    }

    private func files(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map { dir.appendingPathComponent($0).path }
    }

    /// Alternating PPS ids (or the same sets again) at every key frame: one file, and every key
    /// frame carries the SPS and PPS it uses.
    func testParameterSetChangesThatKeepThePictureFormatKeepTheFile() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        let first = Self.avcC(Self.sps320, Self.pps0), second = Self.avcC(Self.sps320, Self.pps1)
        XCTAssertNotNil(H264PictureFormat(codecPrivate: first))
        XCTAssertFalse(H264PictureFormat.changes(from: first, to: second), "a PPS is no picture format")
        feed(recorder, clock, seconds: 70, keyEvery: 3) { n in (n % 2 == 0 ? first : second, 320, 240) }
        recorder.finish()
        let written = try files(dir)
        XCTAssertEqual(written.count, 1, "\(written)")
        let mkv = try MKVFile(path: try XCTUnwrap(written.first))
        let keys = mkv.blocks(track: 1).filter(\.keyFrame)
        XCTAssertGreaterThan(keys.count, 500)
        // [len][SPS 22][len][PPS 4][len][IDR 2]: the sets in band before the slice.
        XCTAssertTrue(keys.allSatisfy { $0.size == 4 + 22 + 4 + 4 + 6 }, "\(Set(keys.map(\.size)))")
        XCTAssertTrue(mkv.blocks(track: 1).filter { !$0.keyFrame }.allSatisfy { $0.size == 6 }, "delta frames as they came")
    }

    /// High 4:4:4 320x240 with separate colour planes, and the same coded as one: the
    /// decoder's configuration differs (ChromaArrayType 0 or 3), so the format does; its id and
    /// reference frame count may change within a file.
    func testPictureFormatIsTheSPSLessWhatMayChangeWithinAFile() throws {
        let separate = [UInt8](hexString: "67f4001e93968141f9"), joint = [UInt8](hexString: "67f4001e91968141f9")
        // `joint` with seq_parameter_set_id 1, and with max_num_ref_frames 2.
        let otherID = [UInt8](hexString: "67f4001e4465a0507e40"), moreReferences = [UInt8](hexString: "67f4001e9196c141f9")
        for sps in [separate, joint, otherID, moreReferences] {
            XCTAssertNotNil(H264PictureFormat(codecPrivate: Self.avcC(sps, Self.pps0)), "\(sps)")
        }
        XCTAssertTrue(H264PictureFormat.changes(from: Self.avcC(joint, Self.pps0), to: Self.avcC(separate, Self.pps0)))
        XCTAssertFalse(H264PictureFormat.changes(from: Self.avcC(joint, Self.pps0), to: Self.avcC(otherID, Self.pps0)))
        XCTAssertFalse(H264PictureFormat.changes(from: Self.avcC(joint, Self.pps0), to: Self.avcC(moreReferences, Self.pps0)))
        XCTAssertTrue(H264PictureFormat.changes(from: Self.avcC(Self.sps320, Self.pps0), to: Self.avcC(joint, Self.pps0)))
    }

    /// A sender alternating two picture formats at every key frame (30 a second would be 30
    /// files a second): one new file per `minFileAgeForFormatChange` at most, the claimed
    /// names stay few, and a key frame whose sets are in band is not given them twice.
    func testPictureFormatChangesStartAtMostOneFilePerInterval() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        let small = Self.avcC(Self.sps320, Self.pps0), large = Self.avcC(Self.sps720, Self.pps0)
        XCTAssertTrue(H264PictureFormat.changes(from: small, to: large))
        let inBand = Self.sample([Self.sps320, Self.pps0, [0x65, 0x88]])
        let seconds = 2 * MemberRecorder.minFileAgeForFormatChange + 10
        feed(recorder, clock, seconds: seconds, keyEvery: 1, configuration: { n in n % 2 == 0 ? (small, 320, 240) : (large, 1280, 720) },
             keyData: inBand)
        recorder.finish()
        let written = try files(dir)
        XCTAssertGreaterThanOrEqual(written.count, 2, "a new format does start a new file")
        XCTAssertLessThanOrEqual(written.count, 3, "\(written.count) files in \(seconds) s")
        for path in written {
            let mkv = try MKVFile(path: path)
            XCTAssertEqual(mkv.tracks.map(\.codec), ["V_MPEG4/ISO/AVC", "A_OPUS"])
            let sizes = Set(mkv.blocks(track: 1).filter(\.keyFrame).map(\.size))
            // The 320x240 key frames carry their own sets; the 1280x720 ones get theirs (25 bytes).
            XCTAssertEqual(sizes, [inBand.count, 4 + 25 + inBand.count], path)
        }
    }

    /// What the recorder writes across format and parameter-set changes within one file
    /// decodes in ffmpeg: real x264 key frames of two sizes, given without their parameter
    /// sets (as a sender that sent them in an earlier packet), alternating in one file.
    func testFileWithFormatChangesDecodesInFFmpeg() throws {
        let ffmpeg = try ExternalReaders.tool("ffmpeg")
        let dir = try temporaryDirectory()
        var streams: [(avcC: [UInt8], idr: [UInt8], width: Int, height: Int)] = []
        for (width, height) in [(320, 240), (640, 360)] {
            let out = dir.appendingPathComponent("\(width).h264").path
            let made = try ExternalReaders.run(ffmpeg, ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=\(width)x\(height):rate=30",
                                                        "-frames:v", "1", "-c:v", "libx264", "-threads", "1", "-f", "h264", out])
            guard made.status == 0 else { throw TestEnvironment.missing("ffmpeg cannot encode H264 here: \(made.err)") }
            let units = Self.annexB([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
            let sps = try XCTUnwrap(units.first { $0.first.map { $0 & 0x1F == 7 } ?? false })
            let pps = try XCTUnwrap(units.first { $0.first.map { $0 & 0x1F == 8 } ?? false })
            let idr = try XCTUnwrap(units.first { $0.first.map { $0 & 0x1F == 5 } ?? false })
            streams.append((Self.avcC(sps, pps), Self.sample([idr]), width, height))
            try FileManager.default.removeItem(atPath: out)
        }
        XCTAssertTrue(H264PictureFormat.changes(from: streams[0].avcC, to: streams[1].avcC))
        let clock = ManualClock()
        let recorder = MemberRecorder(member: "m", room: "r", directory: dir, overwrite: false, logger: logger, clock: clock.function)
        recorder.addTrack(id: "v", kind: .video, codec: .h264, clockRate: 90000)
        let count = 12
        for n in 0..<count {
            let stream = streams[n % 2]
            let t = clock.now
            recorder.frame(track: "v", rtpTimestamp: UInt32(t * 90000), keyFrame: true, data: stream.idr, arrival: t, width: stream.width,
                           height: stream.height, codecPrivate: stream.avcC)
            clock.now = t + 0.5
            recorder.tick()
        }
        recorder.finish()
        let written = try files(dir)
        XCTAssertEqual(written.count, 1, "within the interval: one file")
        let path = try XCTUnwrap(written.first)
        let decoded = try ExternalReaders.run(ffmpeg, ["-v", "error", "-i", path, "-f", "framemd5", "-"])
        XCTAssertEqual(decoded.status, 0, decoded.err)
        XCTAssertEqual(decoded.err, "", "ffmpeg decodes without a message")
        let frames = String(decoding: decoded.out, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertEqual(frames.count, count, "every key frame decodes")
    }

    /// NAL units of an Annex B byte stream (start codes 00 00 01 or 00 00 00 01).
    static func annexB(_ bytes: [UInt8]) -> [[UInt8]] {
        var starts: [(code: Int, unit: Int)] = []
        var index = 0
        while index + 3 <= bytes.count {
            if bytes[index] == 0, bytes[index + 1] == 0, bytes[index + 2] == 1 {
                let code = index > 0 && bytes[index - 1] == 0 ? index - 1 : index
                starts.append((code, index + 3))
                index += 3
            } else {
                index += 1
            }
        }
        return starts.indices.map { n in Array(bytes[starts[n].unit..<(n + 1 < starts.count ? starts[n + 1].code : bytes.count)]) }
    }
}

extension [UInt8] {
    init(hexString: String) {
        var bytes: [UInt8] = []
        var text = Substring(hexString)
        while text.count >= 2 {
            bytes.append(UInt8(text.prefix(2), radix: 16) ?? 0)
            text = text.dropFirst(2)
        }
        self = bytes
    }
}
