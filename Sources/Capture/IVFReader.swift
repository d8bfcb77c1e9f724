import Media
import MediaFormat

/// An IVF file (the container libvpx and `ffmpeg -f ivf` write): a 32-byte header
///
///     0  "DKIF"   4  version (u16, 0)   6  header size (u16)   8  fourcc ("VP80", "VP90")
///     12 width (u16)   14 height (u16)   16 timebase rate (u32)   20 timebase scale (u32)
///     24 frame count (u32)   28 unused
///
/// then per frame a 12-byte header, size (u32) and pts (u64) in timebase units (scale/rate
/// seconds), and the frame. All little-endian. Every frame is classified (key frame, picture
/// size) and kept as a range of the file's bytes; malformed input, and files with more frames
/// than `ReplayLimits` allows, throw `ReplayFormatError`, never trap.
public struct IVFReader: Sendable {

    public struct Frame: IndexedFrame, Equatable {
        /// The frame as the encoder wrote it (for VP9 possibly a superframe: a hidden frame and
        /// the shown one, which travel together as one picture).
        public var data: [UInt8]
        /// In timebase units.
        public var pts: UInt64
        /// Decodable on its own: every reference is reset (VP8 frame tag, VP9 frame_type of the
        /// first frame of the chunk).
        public var isKeyFrame: Bool
        /// The picture size a key frame carries; nil on other frames.
        public var width: Int?
        public var height: Int?

        /// What the index keeps of a frame (32 bytes a frame with its range).
        public struct Info: Sendable {
            public var pts: UInt64
            /// Its size only when it carries one (a key frame).
            public var picture: PictureInfo
        }
    }

    /// The frames as ranges of the file's bytes.
    public typealias Frames = FrameIndex<Frame>

    /// Frames larger than this are taken for garbage rather than video.
    public static let maxFrameSize = 16 << 20

    /// VP8 (fourcc VP80) or VP9 (VP90).
    public let codec: MediaCodec
    /// The size the file header announces (key frames carry the real one).
    public let width: Int
    public let height: Int
    /// A pts unit is `timebaseScale / timebaseRate` seconds.
    public let timebaseRate: UInt32
    public let timebaseScale: UInt32
    /// What the header says; writers do not always fill it in, so `frames.count` is the truth.
    public let declaredFrameCount: Int
    public let frames: Frames
    /// VP9: the profile of the first frame (0 is 8-bit 4:2:0, the one WebRTC offers by default).
    public let vp9Profile: Int?

    public init(parsing bytes: [UInt8]) throws {
        func fail(_ why: String) -> ReplayFormatError { ReplayFormatError(why) }
        guard bytes.count >= 4, bytes[0..<4].elementsEqual("DKIF".utf8) else { throw fail("not an IVF file (no DKIF signature)") }
        guard bytes.count >= 32 else { throw fail("IVF header truncated (\(bytes.count) of 32 bytes)") }
        let version = LittleEndian.u16(bytes, 4)
        guard version == 0 else { throw fail("IVF version \(version) is not supported (only 0)") }
        let headerSize = Int(LittleEndian.u16(bytes, 6))
        guard headerSize >= 32 else { throw fail("IVF header size \(headerSize) is below 32") }
        guard headerSize <= bytes.count else { throw fail("IVF header size \(headerSize) runs past the end of the file (\(bytes.count) bytes)") }
        let fourcc = String(decoding: bytes[8..<12], as: UTF8.self)
        guard let codec: MediaCodec = fourcc == "VP80" ? .vp8 : fourcc == "VP90" ? .vp9 : nil else {
            throw fail("IVF codec \(fourcc.debugDescription) is not supported (VP80 or VP90)")
        }
        self.codec = codec
        width = Int(LittleEndian.u16(bytes, 12))
        height = Int(LittleEndian.u16(bytes, 14))
        timebaseRate = LittleEndian.u32(bytes, 16)
        timebaseScale = LittleEndian.u32(bytes, 20)
        guard timebaseRate > 0, timebaseScale > 0 else {
            throw fail("IVF timebase \(timebaseScale)/\(timebaseRate) has a zero in it")
        }
        declaredFrameCount = Int(LittleEndian.u32(bytes, 24))
        guard bytes.count <= ReplayLimits.maxFileSize else {
            throw fail("IVF file of \(bytes.count) bytes is larger than a clip may be (\(ReplayLimits.maxFileSize) bytes)")
        }

        var frames: [Frames.Entry] = []
        var offset = headerSize
        var profile: Int?
        while offset < bytes.count {
            let index = frames.count
            guard bytes.count - offset >= 12 else {
                throw fail("frame \(index): header truncated at byte \(offset) (\(bytes.count - offset) of 12 bytes)")
            }
            let size = Int(LittleEndian.u32(bytes, offset))
            let pts = LittleEndian.u64(bytes, offset + 4)
            let start = offset + 12
            guard size > 0 else { throw fail("frame \(index) at byte \(offset) is empty") }
            guard size <= Self.maxFrameSize else { throw fail("frame \(index) at byte \(offset): absurd size \(size) bytes") }
            guard size <= bytes.count - start else {
                throw fail("frame \(index) at byte \(offset): size \(size) runs past the end of the file (\(bytes.count - start) bytes left)")
            }
            if let last = frames.last, pts < last.info.pts {
                throw fail("frame \(index): pts \(pts) goes back (the frame before has \(last.info.pts))")
            }
            guard index < ReplayLimits.maxFrameCount else {
                throw fail("more than \(ReplayLimits.maxFrameCount) frames (frame \(index) at byte \(offset)), more than a clip may hold")
            }
            // The file size is checked above: offsets and sizes fit in 32 bits.
            var picture = PictureInfo()
            do {
                let data = bytes[start..<(start + size)]
                switch codec {
                case .vp8: try Self.classifyVP8(data, &picture)
                case .vp9: try Self.classifyVP9(data, &picture, profile: &profile)
                case .opus, .h264: break  // not in IVF: refused with the fourcc above
                }
            } catch let error as ReplayFormatError {
                throw fail("frame \(index): \(error.reason)")
            }
            frames.append(Frames.Entry(start: UInt32(start), size: UInt32(size), info: Frame.Info(pts: pts, picture: picture)))
            offset = start + size
        }
        guard !frames.isEmpty else { throw fail("IVF file without frames") }
        self.frames = Frames(bytes: bytes, entries: frames)
        vp9Profile = profile
    }

    /// Seconds per pts unit.
    public var secondsPerTick: Double { Double(timebaseScale) / Double(timebaseRate) }

    /// RFC 6386 §9.1: a 3-byte frame tag (bit 0: 0 for a key frame; then version, show_frame,
    /// the first partition's size in 19 bits); a key frame follows it with the start code
    /// 9d 01 2a and its size (14 bits each, with 2 bits of scaling above).
    private static func classifyVP8(_ data: ArraySlice<UInt8>, _ picture: inout PictureInfo) throws {
        let b = data.startIndex
        guard data.count >= 3 else { throw ReplayFormatError("\(data.count) bytes is too short for a VP8 frame tag") }
        let tag = UInt32(data[b]) | UInt32(data[b + 1]) << 8 | UInt32(data[b + 2]) << 16
        let key = tag & 1 == 0
        let firstPartition = Int(tag >> 5)
        let headerSize = key ? 10 : 3
        guard data.count >= headerSize else { throw ReplayFormatError("VP8 key frame of \(data.count) bytes has no room for its size") }
        guard firstPartition <= data.count - headerSize else {
            throw ReplayFormatError("VP8 first partition of \(firstPartition) bytes runs past the frame (\(data.count) bytes)")
        }
        guard key else { return }
        guard data[b + 3] == 0x9D, data[b + 4] == 0x01, data[b + 5] == 0x2A else {
            throw ReplayFormatError("VP8 key frame without the start code 9d 01 2a")
        }
        let width = Int(data[b + 6]) | Int(data[b + 7] & 0x3F) << 8
        let height = Int(data[b + 8]) | Int(data[b + 9] & 0x3F) << 8
        guard width > 0, height > 0 else { throw ReplayFormatError("VP8 key frame of size \(width)x\(height)") }
        picture = PictureInfo(isKeyFrame: true, width: UInt32(width), height: UInt32(height))
    }

    /// A chunk is one frame or a superframe (Annex B); it is a key frame when its first frame
    /// is one (decoding starts there), and a show_existing_frame chunk never is.
    private static func classifyVP9(_ data: ArraySlice<UInt8>, _ picture: inout PictureInfo, profile: inout Int?) throws {
        let parts = VP9Superframe.frames(in: data) ?? [data]
        let header: VP9FrameHeader
        do {
            header = try VP9FrameHeader(parsing: parts[0])
        } catch {
            throw ReplayFormatError("not a VP9 frame (\(error))")
        }
        if profile == nil { profile = header.profile }
        guard header.isKeyFrame else { return }
        guard let width = header.width, let height = header.height else {
            throw ReplayFormatError("VP9 key frame without a size")
        }
        guard let width32 = UInt32(exactly: width), let height32 = UInt32(exactly: height), width32 > 0, height32 > 0 else {
            throw ReplayFormatError("VP9 key frame of size \(width)x\(height)")
        }
        picture = PictureInfo(isKeyFrame: true, width: width32, height: height32)
    }
}

extension IVFReader.Frame {
    public init(data: [UInt8], info: Info) {
        let picture = info.picture
        self.init(data: data, pts: info.pts, isKeyFrame: picture.isKeyFrame, width: picture.width > 0 ? Int(picture.width) : nil,
                  height: picture.height > 0 ? Int(picture.height) : nil)
    }
}
