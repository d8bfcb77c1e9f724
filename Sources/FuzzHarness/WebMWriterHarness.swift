import Foundation
import Recording

/// Sequences of frames into `WebMWriter`, the way a recorder drives it: tracks listed at the
/// start and joining later, fuzzed timestamps (backwards, standing still, huge jumps), key and
/// delta frames, sizes up to the cluster limit, the wall clock moving or not; then `finish`.
/// The file is read back with an independent reader.
///
/// Input: a first byte (bit 0: Matroska rather than WebM; bits 1-2: tracks listed at the
/// start, 0-3), then operations (op byte % 4):
///   0  a frame: track u8 (of those listed), signed 16-bit time step in ms, key flag u8,
///      size u16 (payload bytes; the first byte is the frame's index)
///   1  a track joins: codec u8 (VP8, VP9, Opus, H264)
///   2  the wall clock moves: u8 × 100 ms, then `flushIfDue`
///   3  a big time jump: u32 ms forward or back (bit 31)
/// Invariants: the file is one EBML header and one Segment whose size is the rest of the file;
/// every top-level element and cluster child is whole; Tracks lists exactly the tracks added;
/// every block names a listed track; each track's block times strictly increase; video tracks
/// start with a key frame; the blocks are the frames written (a frame is dropped only while
/// a video track waits for a key frame, which happens only after a failed write, so never
/// here) in order and with their payloads; Info's duration covers the last block.
public enum WebMWriterHarness {
    static let directory = ScratchFolder.make("webm")

    struct Written: Equatable {
        var track: Int
        var firstByte: UInt8?
        var size: Int
        var keyFrame: Bool
    }

    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let first = input.u8()
        let matroska = first & 1 == 1
        let codecs: [WebMWriter.Codec] = [.vp8(width: 320, height: 240), .vp9(width: 640, height: 360), .opus(channels: 2),
                                          .h264(width: 160, height: 120, avcC: [1, 0x42, 0xC0, 0x1F, 0xFF, 0xE0, 0, 1, 0])]
        var tracks: [WebMWriter.Track] = []
        for n in 0..<Int((first >> 1) & 3) where matroska || codecs[n].isWebM {
            tracks.append(WebMWriter.Track(number: UInt8(tracks.count + 1), codec: codecs[n]))
        }
        let path = directory + "/run.webm"
        unlink(path)
        let clock = SettableClock(0)  // the writer's wall-time cluster limit
        let writer: WebMWriter
        do {
            writer = try WebMWriter(path: path, tracks: tracks, title: "fuzz", overwrite: true, tracksReserve: 512,
                                    matroska: matroska, clock: clock.function)
        } catch {
            require(false, "cannot create \(path): \(error)")
            return
        }
        var time: Int64 = 0
        var written: [Written] = []
        var started = Set<Int>()  // video tracks that had their key frame
        var index: UInt8 = 0
        while !input.isAtEnd {
            switch input.u8() % 4 {
            case 0:
                let choice = Int(input.u8())
                time += Int64(Int16(bitPattern: input.u16()))
                let key = input.bool()
                let size = Int(input.u16())
                guard !tracks.isEmpty else { continue }
                let track = tracks[choice % tracks.count]
                // A recorder hands a video track nothing before its first key frame.
                if track.codec.isVideo, !key, !started.contains(Int(track.number)) { continue }
                if track.codec.isVideo { started.insert(Int(track.number)) }
                index &+= 1
                var payload = [UInt8](repeating: 0xA5, count: size)
                if size > 0 { payload[0] = index }
                do {
                    try writer.write(track: track.number, timestampMs: time, keyFrame: key, data: payload)
                } catch {
                    require(false, "write failed on a working disk: \(error)")
                }
                written.append(Written(track: Int(track.number), firstByte: size > 0 ? index : nil, size: size,
                                       keyFrame: key || !track.codec.isVideo))
            case 1:
                let codec = codecs[Int(input.u8()) % codecs.count]
                guard tracks.count < 8 else { continue }
                let track = WebMWriter.Track(number: UInt8(tracks.count + 1), codec: codec)
                do {
                    if try writer.addTrack(track) { tracks.append(track) }
                } catch {
                    require(false, "addTrack failed on a working disk: \(error)")
                }
                require(matroska || codec.isWebM || !tracks.contains(track), "H264 joined a WebM file")
            case 2:
                clock.now += Double(input.u8()) / 10
                do { try writer.flushIfDue() } catch { require(false, "flush failed on a working disk: \(error)") }
            default:
                let jump = input.u32()
                time += Int64(jump & 0x7FFF_FFFF) * (jump & 0x8000_0000 == 0 ? 1 : -1)
            }
        }
        do { try writer.finish() } catch { require(false, "finish failed on a working disk: \(error)") }
        guard let bytes = FileManager.default.contents(atPath: path) else {
            require(false, "no file at \(path)")
            return
        }
        unlink(path)
        check(Array(bytes), tracks: tracks, written: written, matroska: matroska)
    }

    static func check(_ bytes: [UInt8], tracks: [WebMWriter.Track], written: [Written], matroska: Bool) {
        var reader = MatroskaReader(bytes: bytes)
        let file: MatroskaReader.File
        do { file = try reader.read() } catch { return require(false, "unreadable file: \(error)") }
        require(file.docType == (matroska ? "matroska" : "webm"), "DocType \(file.docType)")
        require(file.trackNumbers == Set(tracks.map { Int($0.number) }),
                "Tracks lists \(file.trackNumbers.sorted()), added \(tracks.map(\.number))")
        var last: [Int: Int64] = [:]
        for block in file.blocks {
            require(file.trackNumbers.contains(block.track), "a block of unlisted track \(block.track)")
            if let previous = last[block.track] {
                require(block.time > previous, "track \(block.track): block at \(block.time) ms after \(previous) ms")
            }
            last[block.track] = block.time
        }
        let read = file.blocks.map { Written(track: $0.track, firstByte: $0.firstByte, size: $0.size, keyFrame: $0.keyFrame) }
        require(read == written, "blocks differ from the frames written (\(read.count) read, \(written.count) written)")
        if let end = last.values.max() {
            require(file.durationMs.map { $0 >= Double(end) } ?? false, "duration \(file.durationMs ?? -1) before the last block \(end)")
        }
    }

    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        func frame(_ w: inout FuzzInputWriter, track: UInt8, step: Int16, key: Bool, size: UInt16) {
            w.u8(0)
            w.u8(track)
            w.u16(UInt16(bitPattern: step))
            w.u8(key ? 1 : 0)
            w.u16(size)
        }
        var av = FuzzInputWriter()
        av.u8(3 << 1)  // WebM listing VP8, VP9 and Opus
        for n in 0..<60 {
            frame(&av, track: UInt8(n % 3), step: n % 3 == 0 ? 20 : 0, key: n % 30 < 3, size: UInt16(200 + n * 7))
        }
        var late = FuzzInputWriter()
        late.u8(2 << 1)  // WebM listing VP8 and VP9
        for n in 0..<20 { frame(&late, track: UInt8(n % 2), step: 33, key: n < 2, size: 100) }
        late.u8(1)
        late.u8(2)  // Opus joins
        for _ in 0..<20 { frame(&late, track: 2, step: 20, key: true, size: 80) }
        var backwards = FuzzInputWriter()
        backwards.u8(1 | 3 << 1)  // Matroska listing VP8, VP9 and Opus
        backwards.u8(1)
        backwards.u8(3)  // H264 joins
        for n in 0..<30 {
            frame(&backwards, track: UInt8(n % 4), step: n % 5 == 0 ? -500 : 40, key: n % 4 == 3 || n < 4, size: 50)
        }
        backwards.u8(3)
        backwards.u32(0x8000_1000)
        frame(&backwards, track: 2, step: 0, key: true, size: 10)
        var stalled = FuzzInputWriter()
        stalled.u8(1 << 1)  // WebM listing VP8; its clock runs while its time stands still
        for _ in 0..<10 {
            frame(&stalled, track: 0, step: 0, key: true, size: 4000)
            stalled.u8(2)
            stalled.u8(15)
        }
        return [av.bytes, late.bytes, backwards.bytes, stalled.bytes]
    }
}

/// Just enough of a Matroska reader to check what `WebMWriter` wrote, written apart from it
/// (its own EBML decoding): the header's DocType, Info's duration, track numbers, and every
/// SimpleBlock in file order.
struct MatroskaReader {
    struct Block {
        var track: Int
        var time: Int64
        var keyFrame: Bool
        var size: Int
        var firstByte: UInt8?
    }

    struct File {
        var docType = ""
        var durationMs: Double?
        var trackNumbers = Set<Int>()
        var blocks: [Block] = []
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    let bytes: [UInt8]

    mutating func read() throws -> File {
        var file = File()
        var position = 0
        let header = try element(at: &position, within: bytes.count)
        guard header.id == 0x1A45_DFA3 else { throw Malformed(description: "no EBML header") }
        for child in try children(header.body) where child.id == 0x4282 {
            file.docType = String(decoding: bytes[child.body], as: UTF8.self)
        }
        position = header.body.upperBound
        let segment = try element(at: &position, within: bytes.count)
        guard segment.id == 0x1853_8067 else { throw Malformed(description: "no Segment") }
        guard segment.body.upperBound == bytes.count else {
            throw Malformed(description: "Segment ends at \(segment.body.upperBound), the file at \(bytes.count)")
        }
        for top in try children(segment.body) {
            switch top.id {
            case 0x1549_A966:  // Info
                for child in try children(top.body) where child.id == 0x4489 && child.body.count == 8 {
                    file.durationMs = Double(bitPattern: bytes[child.body].reduce(0) { $0 << 8 | UInt64($1) })
                }
            case 0x1654_AE6B:  // Tracks
                for entry in try children(top.body) where entry.id == 0xAE {
                    for field in try children(entry.body) where field.id == 0xD7 {
                        let number = bytes[field.body].reduce(0) { $0 << 8 | Int($1) }
                        guard file.trackNumbers.insert(number).inserted else { throw Malformed(description: "track \(number) twice") }
                    }
                }
            case 0x1F43_B675:  // Cluster
                var timecode: Int64?
                for child in try children(top.body) {
                    switch child.id {
                    case 0xE7: timecode = Int64(bytes[child.body].reduce(0) { $0 << 8 | UInt64($1) })
                    case 0xA3:
                        guard let timecode else { throw Malformed(description: "SimpleBlock before the cluster's Timecode") }
                        var at = child.body.lowerBound
                        let track = try vint(at: &at, within: child.body.upperBound, keepMarker: false)
                        guard at + 3 <= child.body.upperBound else { throw Malformed(description: "short SimpleBlock") }
                        let relative = Int16(bitPattern: UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]))
                        let payload = (at + 3)..<child.body.upperBound
                        file.blocks.append(Block(track: Int(track.value), time: timecode + Int64(relative),
                                                 keyFrame: bytes[at + 2] & 0x80 != 0, size: payload.count,
                                                 firstByte: payload.isEmpty ? nil : bytes[payload.lowerBound]))
                    default:
                        throw Malformed(description: "unexpected cluster child \(String(child.id, radix: 16))")
                    }
                }
            case 0x114D_9B74, 0xEC, 0x1C53_BB6B:  // SeekHead, Void, Cues
                break
            default:
                throw Malformed(description: "unexpected top-level element \(String(top.id, radix: 16))")
            }
        }
        return file
    }

    private func vint(at position: inout Int, within end: Int, keepMarker: Bool) throws -> (value: UInt64, allOnes: Bool) {
        guard position < end, bytes[position] != 0 else { throw Malformed(description: "bad EBML integer at \(position)") }
        let first = bytes[position]
        let length = first.leadingZeroBitCount + 1
        guard position + length <= end else { throw Malformed(description: "EBML integer overruns at \(position)") }
        let mask: UInt8 = 0xFF >> length
        var value = UInt64(keepMarker ? first : first & mask)
        var allOnes = first & mask == mask
        for i in 1..<length {
            value = value << 8 | UInt64(bytes[position + i])
            allOnes = allOnes && bytes[position + i] == 0xFF
        }
        position += length
        return (value, allOnes)
    }

    private func element(at position: inout Int, within end: Int) throws -> (id: UInt32, body: Range<Int>) {
        let start = position
        let id = UInt32(try vint(at: &position, within: end, keepMarker: true).value)
        let size = try vint(at: &position, within: end, keepMarker: false)
        guard !size.allOnes else { throw Malformed(description: "element \(String(id, radix: 16)) at \(start) has an unknown size") }
        guard size.value <= UInt64(end - position) else {
            throw Malformed(description: "element \(String(id, radix: 16)) at \(start) overruns")
        }
        let body = position..<(position + Int(size.value))
        position = body.upperBound
        return (id, body)
    }

    private func children(_ range: Range<Int>) throws -> [(id: UInt32, body: Range<Int>)] {
        var out: [(id: UInt32, body: Range<Int>)] = []
        var position = range.lowerBound
        while position < range.upperBound { out.append(try element(at: &position, within: range.upperBound)) }
        return out
    }
}
