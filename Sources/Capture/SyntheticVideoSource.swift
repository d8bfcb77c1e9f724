import Media

/// A moving test pattern with the frame counter drawn twice: as digits a person can read, and
/// as a 24-bit barcode (top row, white = 1, most significant first) a test can read back from
/// a decoded frame; plus the seconds since start. Paced at `fps`.
public final class SyntheticVideoSource: VideoSource {
    public let width: Int
    public let height: Int
    public let fps: Int
    public private(set) var counter = 0
    private var startTime: Double = 0
    private var frame: [UInt8]

    public static let barcodeBits = 24

    public init(width: Int, height: Int, fps: Int) {
        self.width = width & ~1
        self.height = height & ~1
        self.fps = max(1, fps)
        frame = [UInt8](repeating: 128, count: VideoFrame.byteCount(width: width & ~1, height: height & ~1))
    }

    public var summary: String { "synthetic pattern \(width)x\(height) at \(fps) fps" }

    public func start() throws { startTime = MediaClock.now }

    public func nextFrame() throws -> VideoFrame? {
        let due = startTime + Double(counter) / Double(fps)
        Pacer.sleep(until: due)
        draw(counter)
        let captured = VideoFrame(width: width, height: height, data: frame, captureTime: max(due, MediaClock.now - 0.001))
        counter += 1
        return captured
    }

    public func stop() {}

    /// One gradient period wider than a row: each row of a frame is a copy from it, so a frame
    /// costs a few hundred memcpy calls instead of a computation per pixel.
    private lazy var gradient: [UInt8] = (0..<(width + 256)).map { UInt8(truncatingIfNeeded: $0 & 0xFF) / 2 + 40 }

    private func draw(_ n: Int) {
        let gradient = self.gradient
        frame.withUnsafeMutableBufferPointer { buffer in
            let y = buffer.baseAddress!
            // Diagonal gradient moving right: every frame differs everywhere.
            let shift = n * 4
            gradient.withUnsafeBufferPointer { pattern in
                for row in 0..<height {
                    (y + row * width).update(from: pattern.baseAddress! + ((row / 2 + shift) & 0xFF), count: width)
                }
            }
            // Chroma: a slow colour cycle.
            let chroma = y + width * height
            let quarter = (width / 2) * (height / 2)
            let u = UInt8(truncatingIfNeeded: 128 + Int(60 * sin(Double(n) / 30)))
            let v = UInt8(truncatingIfNeeded: 128 + Int(60 * cos(Double(n) / 30)))
            chroma.update(repeating: u, count: quarter)
            (chroma + quarter).update(repeating: v, count: quarter)
            // Barcode of the counter on the top rows.
            let block = max(width / Self.barcodeBits, 4)
            for bit in 0..<Self.barcodeBits {
                let value: UInt8 = (n >> (Self.barcodeBits - 1 - bit)) & 1 == 1 ? 235 : 16
                for row in 0..<min(block, height) {
                    let line = y + row * width
                    for column in (bit * block)..<min((bit + 1) * block, width) { line[column] = value }
                }
            }
            // Digits: frame counter, then seconds.
            let scale = max(2, width / 160)
            let seconds = String(format: "%.2f", Double(n) / Double(fps))
            drawText("\(n)", x: 8, y: block + 8, scale: scale, into: y)
            drawText(seconds, x: 8, y: block + 8 + 7 * scale, scale: scale, into: y)
        }
    }

    /// 3x5 digits (and '.'), a row's bits each: built once, not per frame.
    private static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
        "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
        ".": [0, 0, 0, 0, 2],
    ]

    /// 3x5 digits (and '.') in white on a black box.
    private func drawText(_ text: String, x: Int, y top: Int, scale: Int, into y: UnsafeMutablePointer<UInt8>) {
        var left = x
        for character in text {
            guard let rows = Self.glyphs[character] else { continue }
            for (r, bits) in rows.enumerated() {
                for c in 0..<4 {
                    let on = c < 3 && (bits >> (2 - c)) & 1 == 1
                    for dy in 0..<scale {
                        let row = top + r * scale + dy
                        guard row < height else { continue }
                        for dx in 0..<scale {
                            let column = left + c * scale + dx
                            guard column < width else { continue }
                            y[row * width + column] = on ? 235 : 16
                        }
                    }
                }
            }
            left += 4 * scale
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
