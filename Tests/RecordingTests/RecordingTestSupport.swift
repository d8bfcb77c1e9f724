import Foundation
import Logging
@testable import Recording
import TestSupport
import XCTest

/// A clock the test moves by hand (seconds, like the caller's arrival times). Unchecked because
/// `value` is a var; sound because it is read and written only under `lock`.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Double

    init(_ start: Double = 1000) { value = start }

    var now: Double {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }

    var function: @Sendable () -> Double { { [self] in self.now } }
}

/// Tiny frames that are structurally VP8 (frame tag, start code, size on key frames) and Opus
/// (one 20 ms CELT frame). Readers that look at packets accept them; nothing decodes them.
enum SyntheticMedia {
    static func vp8(key: Bool, width: Int = 160, height: Int = 120, size: Int = 40) -> [UInt8] {
        var frame: [UInt8] = key ? [0x30, 0x00, 0x00, 0x9D, 0x01, 0x2A, UInt8(width & 0xFF), UInt8(width >> 8),
                                    UInt8(height & 0xFF), UInt8(height >> 8)]
            : [0x31, 0x00, 0x00]
        frame += [UInt8](repeating: 0x55, count: max(0, size - frame.count))
        return frame
    }

    static let opus: [UInt8] = [0xFC, 0xFF, 0xFE]
}

/// A reader for what nacho writes (and for the damage a bug would leave): walks the EBML
/// elements strictly, so a hole of zeros or a size that does not add up is an error.
struct MKVFile {
    struct TrackEntry: Equatable {
        var number: Int
        var type: Int
        var codec: String
        var width: Int?
        var height: Int?
    }

    struct Block: Equatable {
        var track: Int
        var timeMs: Int64
        var keyFrame: Bool
        var size: Int
    }

    struct Cluster {
        var offset: Int
        var timecode: Int64
        var blocks: [Block]
        var size: Int
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    var bytes: [UInt8]
    var segmentSizeKnown = false
    var topLevel: [(id: UInt32, offset: Int, size: Int)] = []
    var tracks: [TrackEntry] = []
    var clusters: [Cluster] = []
    var hasCues = false
    var durationMs: Double?

    var blocks: [Block] { clusters.flatMap(\.blocks) }
    func blocks(track: Int) -> [Block] { blocks.filter { $0.track == track } }

    init(path: String) throws {
        bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        var position = 0
        let (headerID, headerSize) = try element(at: &position)
        guard headerID == 0x1A45_DFA3, let headerSize else { throw Malformed(description: "no EBML header") }
        position += headerSize
        let (segmentID, segmentSize) = try element(at: &position)
        guard segmentID == 0x1853_8067 else { throw Malformed(description: "no Segment") }
        let end: Int
        if let segmentSize {
            segmentSizeKnown = true
            end = position + segmentSize
            guard end == bytes.count else { throw Malformed(description: "Segment size \(segmentSize) != \(bytes.count - position) bytes") }
        } else {
            end = bytes.count
        }
        while position < end {
            let start = position
            let (id, size) = try element(at: &position)
            guard let size, position + size <= end else { throw Malformed(description: "element \(String(id, radix: 16)) at \(start) overruns") }
            topLevel.append((id, start, position + size - start))
            let body = position..<(position + size)
            switch id {
            case 0x114D_9B74, 0xEC:  // SeekHead, Void
                break
            case 0x1549_A966:  // Info
                for (child, range) in try children(body) where child == 0x4489 {
                    var bits: UInt64 = 0
                    for byte in bytes[range] { bits = bits << 8 | UInt64(byte) }
                    durationMs = range.count == 8 ? Double(bitPattern: bits) : nil
                }
            case 0x1654_AE6B:  // Tracks
                tracks = try children(body).filter { $0.0 == 0xAE }.map { try trackEntry($0.1) }
            case 0x1F43_B675:  // Cluster
                clusters.append(try cluster(body, offset: start))
            case 0x1C53_BB6B:  // Cues
                hasCues = true
            default:
                throw Malformed(description: "unexpected element \(String(id, radix: 16)) at \(start)")
            }
            position += size
        }
    }

    private func vint(at position: inout Int, keepMarker: Bool) throws -> (value: UInt64, allOnes: Bool) {
        guard position < bytes.count else { throw Malformed(description: "truncated at \(position)") }
        let first = bytes[position]
        guard first != 0 else { throw Malformed(description: "invalid EBML integer (zero byte) at \(position)") }
        let length = first.leadingZeroBitCount + 1
        guard position + length <= bytes.count else { throw Malformed(description: "truncated at \(position)") }
        var value = UInt64(keepMarker ? first : first & (0xFF >> length))
        var allOnes = (first & (0xFF >> length)) == (0xFF >> length)
        for i in 1..<length {
            value = value << 8 | UInt64(bytes[position + i])
            allOnes = allOnes && bytes[position + i] == 0xFF
        }
        position += length
        return (value, allOnes)
    }

    /// ID and size (nil for "unknown"); `position` moves to the data.
    private func element(at position: inout Int) throws -> (UInt32, Int?) {
        let id = try vint(at: &position, keepMarker: true).value
        let size = try vint(at: &position, keepMarker: false)
        return (UInt32(id), size.allOnes ? nil : Int(size.value))
    }

    private func children(_ range: Range<Int>) throws -> [(UInt32, Range<Int>)] {
        var out: [(UInt32, Range<Int>)] = []
        var position = range.lowerBound
        while position < range.upperBound {
            let (id, size) = try element(at: &position)
            guard let size, position + size <= range.upperBound else { throw Malformed(description: "child overruns at \(position)") }
            out.append((id, position..<(position + size)))
            position += size
        }
        return out
    }

    private func uint(_ range: Range<Int>) -> Int { bytes[range].reduce(0) { $0 << 8 | Int($1) } }

    private func trackEntry(_ range: Range<Int>) throws -> TrackEntry {
        var entry = TrackEntry(number: 0, type: 0, codec: "")
        for (id, body) in try children(range) {
            switch id {
            case 0xD7: entry.number = uint(body)
            case 0x83: entry.type = uint(body)
            case 0x86: entry.codec = String(decoding: bytes[body], as: UTF8.self)
            case 0xE0:
                for (child, value) in try children(body) {
                    if child == 0xB0 { entry.width = uint(value) }
                    if child == 0xBA { entry.height = uint(value) }
                }
            default: break
            }
        }
        return entry
    }

    private func cluster(_ range: Range<Int>, offset: Int) throws -> Cluster {
        var timecode: Int64?
        var blocks: [Block] = []
        for (id, body) in try children(range) {
            switch id {
            case 0xE7: timecode = Int64(uint(body))
            case 0xA3:
                guard let timecode else { throw Malformed(description: "block before the cluster timecode") }
                var position = body.lowerBound
                let track = Int(try vint(at: &position, keepMarker: false).value)
                let relative = Int16(bitPattern: UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1]))
                let flags = bytes[position + 2]
                blocks.append(Block(track: track, timeMs: timecode + Int64(relative), keyFrame: flags & 0x80 != 0,
                                    size: body.upperBound - position - 3))
            default:
                throw Malformed(description: "unexpected cluster child \(String(id, radix: 16))")
            }
        }
        return Cluster(offset: offset, timecode: timecode ?? -1, blocks: blocks, size: range.upperBound - offset)
    }
}

/// ffprobe and mkvinfo (TestSupport finds and runs them).
enum ExternalReaders {
    static func tool(_ name: String) throws -> String { try ExternalTool.path(name) }

    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, out: Data, err: String) {
        let result = try ExternalTool.run(tool, arguments)
        return (result.status, result.stdout, result.stderr)
    }

    struct Packets {
        /// Stream types in file order ("video", "audio").
        var streams: [String]
        /// Presentation times (seconds) per stream index.
        var times: [Int: [Double]]
        var errors: String

        func times(of type: String) -> [Double] {
            guard let index = streams.firstIndex(of: type) else { return [] }
            return times[index] ?? []
        }
    }

    /// Every packet's stream and time as ffprobe reads them (no decoding).
    static func packets(_ path: String) throws -> Packets {
        let ffprobe = try tool("ffprobe")
        let result = try run(ffprobe, ["-v", "error", "-show_entries", "stream=index,codec_type:packet=stream_index,pts_time",
                                       "-of", "json", path])
        guard result.status == 0 else { throw MKVFile.Malformed(description: "ffprobe: \(result.err)") }
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.out) as? [String: Any])
        let streams = (json["streams"] as? [[String: Any]] ?? []).sorted { ($0["index"] as? Int ?? 0) < ($1["index"] as? Int ?? 0) }
            .map { $0["codec_type"] as? String ?? "?" }
        var times: [Int: [Double]] = [:]
        for packet in json["packets"] as? [[String: Any]] ?? [] {
            guard let index = packet["stream_index"] as? Int, let time = Double(packet["pts_time"] as? String ?? "") else { continue }
            times[index, default: []].append(time)
        }
        return Packets(streams: streams, times: times, errors: result.err)
    }

    /// mkvinfo's text; fails the test when mkvinfo does not accept the file.
    static func mkvinfo(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try run(try tool("mkvinfo"), [path])
        let text = String(decoding: result.out, as: UTF8.self)
        XCTAssertEqual(result.status, 0, "mkvinfo \(path): \(text) \(result.err)", file: file, line: line)
        return text
    }
}

extension XCTestCase {
    /// A recorder of member "m" with audio track "a" and video track "v" and no room left in
    /// its file's track list: the next track that comes ends the file.
    func recorderWithoutTrackRoom(_ dir: URL, _ clock: ManualClock, logger: Logger = Logger(label: "test")) -> MemberRecorder {
        let recorder = MemberRecorder(member: "m", room: "r", directory: dir, overwrite: false, logger: logger, clock: clock.function)
        recorder.tracksReserve = 0
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        recorder.addTrack(id: "v", kind: .video, clockRate: 90000)
        return recorder
    }

    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-rec-unit-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func webmFiles(in dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".webm") }.sorted()
            .map { dir.appendingPathComponent($0).path }
    }
}
