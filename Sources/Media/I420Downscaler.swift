/// Shrinks I420 frames by an integer factor (each output pixel the mean of a factor × factor
/// block), into a buffer it keeps: the small layers of a simulcast producer cost no
/// allocation per frame. Sizes are rounded down to even numbers, as I420 wants.
public struct I420Downscaler: Sendable {
    public let factor: Int
    public let width: Int
    public let height: Int
    private var buffer: [UInt8]

    public init(sourceWidth: Int, sourceHeight: Int, factor: Int) {
        self.factor = max(1, factor)
        width = max(2, (sourceWidth / self.factor) & ~1)
        height = max(2, (sourceHeight / self.factor) & ~1)
        buffer = [UInt8](repeating: 128, count: VideoFrame.byteCount(width: width, height: height))
    }

    public mutating func scale(_ frame: VideoFrame) -> VideoFrame {
        guard factor > 1 else { return frame }
        let (sw, sh, f) = (frame.width, frame.height, factor)
        let (w, h) = (width, height)
        frame.data.withUnsafeBufferPointer { source in
            buffer.withUnsafeMutableBufferPointer { out in
                Self.plane(source.baseAddress!, width: sw, height: sh, into: out.baseAddress!, width: w, height: h, factor: f)
                let (scw, sch) = ((sw + 1) / 2, (sh + 1) / 2)
                let (cw, ch) = ((w + 1) / 2, (h + 1) / 2)
                Self.plane(source.baseAddress! + sw * sh, width: scw, height: sch, into: out.baseAddress! + w * h,
                           width: cw, height: ch, factor: f)
                Self.plane(source.baseAddress! + sw * sh + scw * sch, width: scw, height: sch,
                           into: out.baseAddress! + w * h + cw * ch, width: cw, height: ch, factor: f)
            }
        }
        return VideoFrame(width: w, height: h, data: buffer, captureTime: frame.captureTime)
    }

    private static func plane(_ source: UnsafePointer<UInt8>, width sw: Int, height sh: Int, into out: UnsafeMutablePointer<UInt8>,
                              width w: Int, height h: Int, factor f: Int) {
        let area = f * f
        for y in 0..<h {
            for x in 0..<w {
                var sum = 0
                for dy in 0..<f {
                    let row = min(y * f + dy, sh - 1) * sw
                    for dx in 0..<f { sum += Int(source[row + min(x * f + dx, sw - 1)]) }
                }
                out[y * w + x] = UInt8(truncatingIfNeeded: (sum + area / 2) / area)
            }
        }
    }
}
