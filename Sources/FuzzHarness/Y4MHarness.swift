import Capture
import Media

/// The start of a YUV4MPEG2 file into `Y4MHeader`.
///
/// Input: the file's first bytes.
/// Invariants: malformed input throws `SourceFileFormatError`; a header read has an even size
/// within `maxDimension` a side, 1 to `maxFrameRate` fps, a 4:2:0 colour space and ends within
/// `maxLength` bytes; its frame size is the I420 size of its picture (no overflow).
public enum Y4MHarness {
    public static func run(_ data: [UInt8]) {
        guard let header = parsedOrRefused(refusing: SourceFileFormatError.self, { try Y4MHeader(parsing: data) }) else { return }
        for side in [header.width, header.height] {
            require(side >= 2 && side <= Y4MHeader.maxDimension && side % 2 == 0, "size \(header.width)x\(header.height)")
        }
        require((1...Y4MHeader.maxFrameRate).contains(header.fps), "\(header.fps) fps")
        require(header.colorspace.hasPrefix("420"), "colour space \(header.colorspace)")
        require(header.length > 10 && header.length <= min(Y4MHeader.maxLength, data.count) && data[header.length - 1] == 0x0A,
                "header of \(header.length) bytes")
        require(header.frameByteCount == header.width * header.height * 3 / 2, "frame of \(header.frameByteCount) bytes")
    }

    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        [
            Array("YUV4MPEG2 W64 H48 F30000:1001 Ip A1:1 C420jpeg XYSCSS=420JPEG\nFRAME\n".utf8) + [UInt8](repeating: 0x80, count: 64 * 48 * 3 / 2),
            Array("YUV4MPEG2 W4 H2 F100:1 C420mpeg2\n".utf8),
            Array("YUV4MPEG2 W8192 H8192 F1:1\n".utf8),
        ]
    }
}
