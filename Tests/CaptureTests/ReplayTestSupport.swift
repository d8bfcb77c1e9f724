@testable import Capture
import Foundation
import Synchronization
import TestSupport
import XCTest

/// Clips made with the installed ffmpeg on first use (never downloaded, never committed), in a
/// directory of this test process. A missing ffmpeg is `TestEnvironment.missing`; an ffmpeg
/// that cannot make a clip fails the test (it would hide a broken recipe or install).
enum ReplayFixtures {
    static let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-replay-\(getpid())").path

    /// name → ffmpeg arguments after the input.
    private static let recipes: [String: [String]] = [
        "vp8.ivf": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15", "-t", "3", "-c:v", "libvpx", "-g", "15", "-f", "ivf"],
        "vp9.ivf": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15", "-t", "3", "-c:v", "libvpx-vp9", "-g", "15", "-f", "ivf"],
        "sine.ogg": ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "3", "-c:a", "libopus", "-b:a", "32k"],
    ]
    private static let made = Mutex<Set<String>>([])

    /// The path of a generated clip; the directory goes when the test process exits.
    static func clip(_ name: String) throws -> String {
        let path = "\(directory)/\(name)"
        if made.withLock({ $0.contains(name) }) { return path }
        if made.withLock({ $0.isEmpty }) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            atexit { try? FileManager.default.removeItem(atPath: ReplayFixtures.directory) }
        }
        let result = try run("ffmpeg", ["-v", "error", "-y"] + recipes[name]! + [path])
        guard result.status == 0 else { throw EnvironmentFailure("ffmpeg cannot make \(name) (\(result.stderr.prefix(300)))") }
        made.withLock { _ = $0.insert(name) }
        return path
    }

    static func tool(_ name: String) throws -> String { try ExternalTool.path(name) }

    /// Runs a tool to completion (TestSupport).
    static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try ExternalTool.run(name, arguments)
        return (result.status, String(decoding: result.stdout, as: UTF8.self), result.stderr)
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
}

/// Builders of small IVF and Ogg files for the malformed-input tables.
enum ReplayBuilder {
    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    /// A VP8 key frame: tag (key, shown, first partition of `partition` bytes), start code, size.
    static func vp8KeyFrame(width: Int = 320, height: Int = 240, partition: Int = 4) -> [UInt8] {
        let tag = UInt32(partition) << 5 | 1 << 4  // frame type 0 (key), version 0, show_frame
        return [UInt8(tag & 0xFF), UInt8(tag >> 8 & 0xFF), UInt8(tag >> 16 & 0xFF), 0x9D, 0x01, 0x2A]
            + le16(width) + le16(height) + [UInt8](repeating: 0xAA, count: partition)
    }

    static func vp8InterFrame(partition: Int = 4) -> [UInt8] {
        let tag = UInt32(partition) << 5 | 1 << 4 | 1
        return [UInt8(tag & 0xFF), UInt8(tag >> 8 & 0xFF), UInt8(tag >> 16 & 0xFF)] + [UInt8](repeating: 0x55, count: partition)
    }

    static func ivfHeader(fourcc: String = "VP80", rate: UInt32 = 30, scale: UInt32 = 1, frames: Int = 0) -> [UInt8] {
        Array("DKIF".utf8) + le16(0) + le16(32) + Array(fourcc.utf8) + le16(320) + le16(240)
            + le32(rate) + le32(scale) + le32(UInt32(frames)) + le32(0)
    }

    static func ivf(_ frames: [(pts: UInt64, data: [UInt8])], fourcc: String = "VP80", rate: UInt32 = 30) -> [UInt8] {
        frames.reduce(ivfHeader(fourcc: fourcc, rate: rate, frames: frames.count)) { $0 + le32(UInt32($1.data.count)) + le64($1.pts) + $1.data }
    }

    /// One Ogg page with a correct CRC; `lacing` overrides the segment table made from `packets`
    /// (the last packet left open when `openEnd`).
    static func oggPage(_ packets: [[UInt8]], flags: UInt8 = 0, granule: UInt64 = 0, serial: UInt32 = 0x1234, sequence: UInt32,
                        openEnd: Bool = false, lacing: [UInt8]? = nil) -> [UInt8] {
        var table: [UInt8] = []
        for (index, packet) in packets.enumerated() {
            table += [UInt8](repeating: 255, count: packet.count / 255)
            if !(openEnd && index == packets.count - 1) { table.append(UInt8(packet.count % 255)) }
        }
        let segments = lacing ?? table
        var page = Array("OggS".utf8) + [0, flags] + le64(granule) + le32(serial) + le32(sequence) + le32(0) + [UInt8(segments.count)] + segments
        page += packets.flatMap { $0 }
        let crc = OggOpusReader.crc(page)
        page.replaceSubrange(22..<26, with: le32(crc))
        return page
    }

    /// Packets laid out over pages of `segmentsPerPage` lacing values each, flagged continued
    /// when a page starts inside a packet, the last page ending the stream.
    static func oggPages(_ packets: [[UInt8]], segmentsPerPage: Int, firstSequence: UInt32) -> [UInt8] {
        var segments: [(lacing: UInt8, bytes: ArraySlice<UInt8>)] = []
        for packet in packets {
            var start = 0
            while packet.count - start >= 255 {
                segments.append((255, packet[start..<(start + 255)]))
                start += 255
            }
            segments.append((UInt8(packet.count - start), packet[start...]))
        }
        var out: [UInt8] = []
        var sequence = firstSequence
        var continued = false
        for first in Swift.stride(from: 0, to: segments.count, by: segmentsPerPage) {
            let page = segments[first..<min(first + segmentsPerPage, segments.count)]
            let last = page.endIndex == segments.count
            out += oggPage([page.flatMap(\.bytes)], flags: (continued ? 1 : 0) | (last ? 4 : 0), sequence: sequence,
                           lacing: page.map(\.lacing))
            continued = page.last!.lacing == 255
            sequence += 1
        }
        return out
    }

    static func opusHead(channels: UInt8 = 1, family: UInt8 = 0, tail: [UInt8] = []) -> [UInt8] {
        Array("OpusHead".utf8) + [1, channels] + le16(312) + le32(48000) + le16(0) + [family] + tail
    }

    static let opusTags: [UInt8] = Array("OpusTags".utf8) + le32(4) + Array("test".utf8) + le32(0)

    /// A 20 ms CELT packet (config 31, code 0).
    static let opus20ms: [UInt8] = [31 << 3, 0xFF, 0xFE]

    /// A whole Ogg Opus file: head page, tags page, then the audio packets on one page.
    static func oggOpus(_ audio: [[UInt8]]) -> [UInt8] {
        oggPage([opusHead()], flags: 2, sequence: 0) + oggPage([opusTags], sequence: 1)
            + oggPage(audio, flags: 4, granule: UInt64(audio.count * 960), sequence: 2)
    }
}
