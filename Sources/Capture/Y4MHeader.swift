import Media

/// The stream header of a YUV4MPEG2 file: "YUV4MPEG2" then space-separated fields up to a
/// newline (W width, H height, F rate as N:D, C colour space; others are ignored). Only 8-bit
/// 4:2:0 with an even size is accepted. Sizes and rates are bounded before any arithmetic on
/// them, so no header can make the frame size overflow or a rate conversion trap.
public struct Y4MHeader: Sendable, Equatable {
    /// A header must end within this many bytes.
    public static let maxLength = 256
    /// Per side: 8K, a frame of 96 MiB (each frame is read whole into memory).
    public static let maxDimension = 8192
    public static let maxFrameRate = 1000

    public var width: Int
    public var height: Int
    /// Frames per second, rounded, at least 1 (the file's rate when it has an F field, else 30).
    public var fps: Int
    public var colorspace: String
    /// Bytes up to and including the newline: where the first frame starts.
    public var length: Int

    /// Parses the start of a file (at least the header; more is ignored).
    public init(parsing bytes: [UInt8]) throws {
        let head = bytes.prefix(Self.maxLength)
        guard head.starts(with: "YUV4MPEG2 ".utf8), let newline = head.firstIndex(of: 0x0A) else {
            throw SourceFileFormatError("not a YUV4MPEG2 (.y4m) file")
        }
        var width: Int?, height: Int?, fps = 30
        var colorspace = "420jpeg"
        for field in head[..<newline].split(separator: 0x20).dropFirst() {
            let value = String(decoding: field.dropFirst(), as: UTF8.self)
            switch field.first {
            case UInt8(ascii: "W"): width = Int(value)
            case UInt8(ascii: "H"): height = Int(value)
            case UInt8(ascii: "F"): fps = try Self.frameRate(value)
            case UInt8(ascii: "C"): colorspace = value
            default: break
            }
        }
        guard let width, let height, (2...Self.maxDimension).contains(width), (2...Self.maxDimension).contains(height),
              width % 2 == 0, height % 2 == 0 else {
            throw SourceFileFormatError("missing, odd or out-of-range frame size in the header (even, 2 to \(Self.maxDimension) a side)")
        }
        guard colorspace.hasPrefix("420") else {
            throw SourceFileFormatError("colour space C\(colorspace) is not 4:2:0; convert with: ffmpeg -i IN -pix_fmt yuv420p OUT.y4m")
        }
        self.width = width
        self.height = height
        self.fps = fps
        self.colorspace = colorspace
        length = newline + 1
    }

    /// "N:D", integers as the format has them; the ratio is checked before it becomes an Int.
    private static func frameRate(_ value: String) throws -> Int {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let numerator = Int(parts[0]), let denominator = Int(parts[1]), numerator > 0, denominator > 0 else {
            throw SourceFileFormatError("frame rate F\(value) is not N:D with positive integers")
        }
        let rate = Double(numerator) / Double(denominator)
        guard rate <= Double(maxFrameRate) else { throw SourceFileFormatError("frame rate F\(value) is over \(maxFrameRate) fps") }
        return max(1, Int(rate.rounded()))
    }

    /// The size of one frame's planes.
    public var frameByteCount: Int { VideoFrame.byteCount(width: width, height: height) }
}
