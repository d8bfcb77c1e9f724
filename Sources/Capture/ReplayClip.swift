import Foundation
import Media
import Synchronization
import MediaFormat

/// A pre-encoded clip for `replay:PATH` sources, loaded once into memory: VP8 or VP9 in IVF,
/// Opus in Ogg. Immutable and shared: every publisher of a process sends the same frames, and
/// `shared(contentsOf:)` makes sure a path is read once whatever the number of publishers.
/// The frames' bytes are one buffer (the IVF file itself, or the Ogg file's packets end to
/// end), so a clip takes about its file's size plus 32 bytes a frame, with at most
/// `ReplayLimits.maxFrameCount` frames. Which frame each publisher sends when is
/// `ReplaySchedule`'s business.
public final class ReplayClip: Sendable {

    public struct Frame: IndexedFrame, Equatable {
        public var data: [UInt8]
        /// Seconds until the next frame (the last frame's runs until the clip loops).
        public var duration: Double
        /// Video: decodable on its own. Audio: false (every Opus packet is, but nothing asks).
        public var isKeyFrame: Bool
        /// Video: the picture size in force (the last key frame's); 0 for audio.
        public var width: Int
        public var height: Int

        /// What the index keeps of a frame (32 bytes a frame with its range).
        public struct Info: Sendable {
            public var duration: Double
            /// Its size is the one in force (the last key frame's).
            public var picture: PictureInfo
        }
    }

    /// The frames as ranges of one buffer (the IVF file, or the Ogg file's packets end to end).
    /// Subscripting makes a `Frame`, copying its bytes (what a packetizer takes); `data(at:)`
    /// and the other accessors copy nothing.
    public typealias Frames = FrameIndex<Frame>

    /// Clips larger than this are refused rather than read into memory.
    public static let maxFileSize = ReplayLimits.maxFileSize

    public let path: String
    /// What the file holds, as parsed.
    private let contents: Contents
    public var kind: MediaKind { contents.kind }
    /// VP8, VP9 or Opus.
    public var codec: MediaCodec { contents.codec }
    public var frames: Frames { contents.frames }
    /// Video: the indices of the key frames, ascending; the first frame is one (frames before
    /// a file's first key frame are dropped). Audio: empty.
    public var keyFrameIndices: [Int] { contents.keyFrameIndices }
    /// Video: the size of the first frame (a key frame). Audio: 0.
    public var width: Int { contents.width }
    public var height: Int { contents.height }
    /// Audio: 1 or 2. Video: 0.
    public var channels: Int { contents.channels }
    /// VP9: the profile (0 is what WebRTC offers without a profile-id). nil otherwise.
    public var vp9Profile: Int? { contents.vp9Profile }
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

    private struct Contents: Sendable {
        var kind: MediaKind
        var codec: MediaCodec
        var frames: Frames
        var keyFrameIndices: [Int] = []
        var width = 0
        var height = 0
        var channels = 0
        var vp9Profile: Int?
    }

    private init(_ contents: Contents, path: String) {
        self.path = path
        self.contents = contents
        duration = contents.frames.entries.reduce(0) { $0 + $1.info.duration }
    }

    private static func parse(_ bytes: [UInt8], path: String) throws -> Contents {
        let contents: Contents
        if bytes.starts(with: "DKIF".utf8) {
            contents = try video(IVFReader(parsing: bytes))
        } else if bytes.starts(with: "OggS".utf8) {
            let ogg = try OggOpusReader(parsing: bytes)
            let entries = ogg.packets.entries.map {
                Frames.Entry(start: $0.start, size: $0.size,
                             info: Frame.Info(duration: Double($0.info) / 48000, picture: PictureInfo()))
            }
            contents = Contents(kind: .audio, codec: .opus, frames: Frames(bytes: ogg.packets.bytes, entries: entries),
                                channels: ogg.channels)
        } else {
            switch path.split(separator: "/").last?.split(separator: ".").last?.lowercased() {
            case "ivf": throw ReplayFormatError("not an IVF file (no DKIF signature)")
            case "ogg", "opus", "oga": throw ReplayFormatError("not an Ogg file (no OggS signature)")
            default:
                throw ReplayFormatError("neither IVF (VP8, VP9) nor Ogg Opus; make one with ffmpeg -i IN -c:v libvpx -g 30 -f ivf OUT.ivf, or ffmpeg -i IN -c:a libopus OUT.ogg")
            }
        }
        guard contents.frames.entries.reduce(0, { $0 + $1.info.duration }) > 0 else {
            throw ReplayFormatError("the clip lasts 0 s (every frame has the same pts)")
        }
        return contents
    }

    /// Frame durations from the pts; the picture size carried forward from each key frame.
    /// Frames before the first key frame are dropped: they refer to pictures the file does not
    /// have, and after a loop they would be decoded against the clip's last frames.
    ///
    /// Frames that share a pts (an encoder may write a hidden alt-ref frame with the pts of the
    /// frame it precedes) share the interval to the next pts evenly: each gets its own capture
    /// time, so its own RTP timestamp (two frames under one timestamp look like one frame to a
    /// receiver), and the loop keeps its length. A frame that ends up shorter than
    /// `ReplayLimits.minFrameDuration` is refused rather than sent in a burst with the others.
    /// (A pts going back is refused by `IVFReader`.)
    private static func video(_ ivf: IVFReader) throws -> Contents {
        let all = ivf.frames
        guard let firstKey = all.indices.first(where: { all.info(at: $0).picture.isKeyFrame }) else { throw ReplayFormatError("IVF file without a key frame") }
        let count = all.count - firstKey
        let tick = ivf.secondsPerTick
        var entries: [Frames.Entry] = []
        entries.reserveCapacity(count)
        var keys: [Int] = []
        var size = PictureInfo(width: UInt32(clamping: ivf.width), height: UInt32(clamping: ivf.height))
        var previousInterval: Double?
        var run = firstKey  // the first frame of the run of equal pts being laid out
        while run < all.count {
            let pts = all.info(at: run).pts
            var end = run + 1
            while end < all.count, all.info(at: end).pts == pts { end += 1 }
            let interval: Double
            if end < all.count {
                interval = Double(all.info(at: end).pts - pts) * tick
            } else if let previousInterval {
                // The last frames last as long as the interval before them.
                interval = previousInterval
            } else if end - run == 1 {
                interval = min(max(tick, 1.0 / 60), 1)  // a lone frame: one tick, within reason
            } else {
                throw ReplayFormatError("the clip lasts 0 s (every frame has the same pts)")
            }
            let first = run - firstKey, last = end - 1 - firstKey
            let frameNames = end - run == 1 ? "frame \(first) lasts" : "frames \(first) to \(last) (pts \(pts)) last"
            guard interval <= 10 else { throw ReplayFormatError("\(frameNames) \(interval) s (a gap in the pts)") }
            let duration = interval / Double(end - run)
            guard duration >= ReplayLimits.minFrameDuration else {
                let milliseconds = { (seconds: Double) in String(format: "%.4g ms", seconds * 1000) }
                throw ReplayFormatError("\(frameNames) \(milliseconds(duration))\(end - run == 1 ? "" : " each"), under the \(milliseconds(ReplayLimits.minFrameDuration)) a frame may last (over \(Int(1 / ReplayLimits.minFrameDuration)) frames a second)")
            }
            for index in run..<end {
                let entry = all.entries[index]
                var picture = entry.info.picture
                if picture.isKeyFrame {
                    size = picture
                    keys.append(index - firstKey)
                } else {
                    (picture.width, picture.height) = (size.width, size.height)
                }
                let info = Frame.Info(duration: duration, picture: picture)
                entries.append(Frames.Entry(start: entry.start, size: entry.size, info: info))
            }
            previousInterval = interval
            run = end
        }
        return Contents(kind: .video, codec: ivf.codec, frames: Frames(bytes: all.bytes, entries: entries),
                        keyFrameIndices: keys, width: Int(entries[0].info.picture.width), height: Int(entries[0].info.picture.height),
                        vp9Profile: ivf.vp9Profile)
    }

    /// A line for logs.
    public var summary: String {
        let length = String(format: "%.2f s", duration)
        switch kind {
        case .video: return "replay \(path) \(codec.mimeType) \(width)x\(height), \(frames.count) frames (\(keyFrameIndices.count) key) in \(length), looping"
        case .audio: return "replay \(path) \(codec.mimeType) \(channels) channel\(channels == 1 ? "" : "s"), \(frames.count) packets in \(length), looping"
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

extension ReplayClip.Frame {
    public init(data: [UInt8], info: Info) {
        let picture = info.picture
        self.init(data: data, duration: info.duration, isKeyFrame: picture.isKeyFrame, width: Int(picture.width), height: Int(picture.height))
    }
}

extension FrameIndex where Frame == ReplayClip.Frame {
    public func duration(at index: Int) -> Double { info(at: index).duration }
    public func isKeyFrame(at index: Int) -> Bool { info(at: index).picture.isKeyFrame }
    public var durations: [Double] { entries.map(\.info.duration) }
}
