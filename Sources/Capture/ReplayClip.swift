import Foundation
import Media
import Synchronization

/// A pre-encoded clip for `replay:PATH` sources, loaded once into memory: VP8 or VP9 in IVF,
/// Opus in Ogg. Immutable and shared: every publisher of a process sends the same frames
/// (`[UInt8]` is copy-on-write, so handing `frames[i].data` to a packetizer copies nothing);
/// `shared(contentsOf:)` makes sure a path is read once whatever the number of publishers.
/// Which frame each publisher sends when is `ReplaySchedule`'s business.
public final class ReplayClip: Sendable {
    public enum Kind: Sendable, Equatable { case audio, video }

    public struct Frame: Sendable, Equatable {
        public var data: [UInt8]
        /// Seconds until the next frame (the last frame's runs until the clip loops).
        public var duration: Double
        /// Video: decodable on its own. Audio: false (every Opus packet is, but nothing asks).
        public var isKeyFrame: Bool
        /// Video: the picture size in force (the last key frame's); 0 for audio.
        public var width: Int
        public var height: Int
    }

    /// Clips larger than this are refused rather than read into memory.
    public static let maxFileSize = 1 << 30

    public let path: String
    public let kind: Kind
    /// The RTP MIME type: video/VP8, video/VP9 or audio/opus.
    public let codec: String
    public let frames: [Frame]
    /// Video: the indices of the key frames, ascending; the first frame is one (frames before
    /// a file's first key frame are dropped). Audio: empty.
    public let keyFrameIndices: [Int]
    /// Video: the size of the first frame (a key frame). Audio: 0.
    public let width: Int
    public let height: Int
    /// Audio: 1 or 2. Video: 0.
    public let channels: Int
    /// VP9: the profile (0 is what WebRTC offers without a profile-id). nil otherwise.
    public let vp9Profile: Int?
    /// One loop, in seconds (> 0).
    public let duration: Double

    /// Reads and parses a clip: the signature decides (DKIF: IVF, OggS: Ogg Opus), the
    /// extension only shapes the error. Errors are `MediaError.source("replay:PATH: what is
    /// wrong")`.
    public convenience init(contentsOf path: String) throws {
        func fail(_ why: String) -> MediaError { MediaError.source("replay:\(path): \(why)") }
        let contents: Contents
        do {
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            guard size <= Self.maxFileSize else { throw fail("\(size) bytes is too large for a clip held in memory") }
            contents = try Self.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), path: path)
        } catch let error as MediaError {
            throw error
        } catch let error as ReplayFormatError {
            throw fail(error.reason)
        } catch {
            throw fail("cannot read it (\((error as NSError).localizedDescription))")
        }
        self.init(contents, path: path)
    }

    /// Parses a clip already in memory; `path` names it and, for a file that is neither IVF
    /// nor Ogg, chooses what it is said not to be. Throws `ReplayFormatError`.
    public convenience init(parsing bytes: [UInt8], path: String) throws {
        self.init(try Self.parse(bytes, path: path), path: path)
    }

    private struct Contents {
        var kind: Kind
        var codec: String
        var frames: [Frame]
        var keyFrameIndices: [Int] = []
        var width = 0
        var height = 0
        var channels = 0
        var vp9Profile: Int?
    }

    private init(_ contents: Contents, path: String) {
        self.path = path
        kind = contents.kind
        codec = contents.codec
        frames = contents.frames
        keyFrameIndices = contents.keyFrameIndices
        width = contents.width
        height = contents.height
        channels = contents.channels
        vp9Profile = contents.vp9Profile
        duration = frames.reduce(0) { $0 + $1.duration }
    }

    private static func parse(_ bytes: [UInt8], path: String) throws -> Contents {
        let contents: Contents
        if bytes.starts(with: "DKIF".utf8) {
            contents = try video(IVFReader(parsing: bytes))
        } else if bytes.starts(with: "OggS".utf8) {
            let ogg = try OggOpusReader(parsing: bytes)
            contents = Contents(kind: .audio, codec: "audio/opus",
                                frames: ogg.packets.map { Frame(data: $0.data, duration: $0.duration, isKeyFrame: false, width: 0, height: 0) },
                                channels: ogg.channels)
        } else {
            switch path.split(separator: "/").last?.split(separator: ".").last?.lowercased() {
            case "ivf": throw ReplayFormatError("not an IVF file (no DKIF signature)")
            case "ogg", "opus", "oga": throw ReplayFormatError("not an Ogg file (no OggS signature)")
            default:
                throw ReplayFormatError("neither IVF (VP8, VP9) nor Ogg Opus; make one with ffmpeg -i IN -c:v libvpx -g 30 -f ivf OUT.ivf, or ffmpeg -i IN -c:a libopus OUT.ogg")
            }
        }
        guard contents.frames.reduce(0, { $0 + $1.duration }) > 0 else {
            throw ReplayFormatError("the clip lasts 0 s (every frame has the same pts)")
        }
        return contents
    }

    /// Frame durations from the pts; the picture size carried forward from each key frame.
    /// Frames before the first key frame are dropped: they refer to pictures the file does not
    /// have, and after a loop they would be decoded against the clip's last frames.
    private static func video(_ ivf: IVFReader) throws -> Contents {
        guard let firstKey = ivf.frames.firstIndex(where: \.isKeyFrame) else { throw ReplayFormatError("IVF file without a key frame") }
        let source = ivf.frames[firstKey...]
        let keys = source.indices.filter { source[$0].isKeyFrame }.map { $0 - firstKey }
        let tick = ivf.secondsPerTick
        var frames: [Frame] = []
        frames.reserveCapacity(source.count)
        var size = (width: ivf.width, height: ivf.height)
        for (index, frame) in source.enumerated() {
            if let width = frame.width, let height = frame.height { size = (width, height) }
            let duration: Double
            if index + 1 < source.count {
                duration = Double(source[firstKey + index + 1].pts - frame.pts) * tick
            } else if !frames.isEmpty {
                // The last frame lasts as long as the last one before it that lasted at all.
                duration = frames.last(where: { $0.duration > 0 })?.duration ?? 0
            } else {
                duration = min(max(tick, 1.0 / 60), 1)  // a lone frame: one tick, within reason
            }
            guard duration <= 10 else { throw ReplayFormatError("frame \(index) lasts \(duration) s (a gap in the pts)") }
            frames.append(Frame(data: frame.data, duration: duration, isKeyFrame: frame.isKeyFrame, width: size.width, height: size.height))
        }
        return Contents(kind: .video, codec: ivf.codec == .vp8 ? "video/VP8" : "video/VP9", frames: frames, keyFrameIndices: keys,
                        width: frames[0].width, height: frames[0].height, vp9Profile: ivf.vp9Profile)
    }

    /// A line for logs.
    public var summary: String {
        let length = String(format: "%.2f s", duration)
        switch kind {
        case .video: return "replay \(path) \(codec) \(width)x\(height), \(frames.count) frames (\(keyFrameIndices.count) key) in \(length), looping"
        case .audio: return "replay \(path) \(codec) \(channels) channel\(channels == 1 ? "" : "s"), \(frames.count) packets in \(length), looping"
        }
    }

    private static let cache = Mutex<[String: ReplayClip]>([:])

    /// The clip at `path`, read on first use and kept for the life of the process, so that
    /// however many publishers replay a file it is in memory once. Concurrent first uses of one
    /// path may both parse it; one copy is kept.
    public static func shared(contentsOf path: String) throws -> ReplayClip {
        let key = URL(fileURLWithPath: path).standardizedFileURL.path
        if let clip = cache.withLock({ $0[key] }) { return clip }
        let clip = try ReplayClip(contentsOf: path)
        return cache.withLock { cache in
            if let existing = cache[key] { return existing }
            cache[key] = clip
            return clip
        }
    }
}
