import Bytes

/// VP9 superframes (VP9 bitstream spec Annex B): several frames in one chunk, followed by an
/// index of their sizes. An encoder puts a hidden frame (alt-ref) and the shown frame in one,
/// and spatial layers of one picture travel as one; WebM stores the whole chunk as one block.
public enum VP9Superframe {
    /// The frames of a chunk that ends with a valid superframe index, or nil when it has
    /// none (then the chunk is one frame).
    public static func frames(in chunk: ArraySlice<UInt8>) -> [ArraySlice<UInt8>]? {
        guard let last = chunk.last, last & 0xE0 == 0xC0 else { return nil }  // superframe_marker 0b110
        let count = Int(last & 0x07) + 1
        let bytesPerSize = Int(last >> 3 & 0x03) + 1
        let indexSize = 2 + bytesPerSize * count
        guard chunk.count > indexSize, chunk[chunk.endIndex - indexSize] == last else { return nil }
        var frames: [ArraySlice<UInt8>] = []
        var sizeAt = chunk.endIndex - indexSize + 1
        var start = chunk.startIndex
        let dataEnd = chunk.endIndex - indexSize
        for _ in 0..<count {
            var size = 0
            for byte in 0..<bytesPerSize { size |= Int(chunk[sizeAt + byte]) << (8 * byte) }  // little-endian
            sizeAt += bytesPerSize
            guard size > 0, size <= dataEnd - start else { return nil }
            frames.append(chunk[start..<(start + size)])
            start += size
        }
        return frames
    }

    /// One chunk of `frames` with its index (Annex B); a single frame is returned as it is.
    public static func build(_ frames: [[UInt8]]) -> [UInt8] {
        guard frames.count > 1 else { return frames.first ?? [] }
        precondition(frames.count <= 8, "a superframe holds at most 8 frames")
        let largest = frames.map(\.count).max() ?? 0
        let bytesPerSize = largest < 1 << 8 ? 1 : largest < 1 << 16 ? 2 : largest < 1 << 24 ? 3 : 4
        let marker = 0xC0 | UInt8(bytesPerSize - 1) << 3 | UInt8(frames.count - 1)
        var out = frames.flatMap { $0 }
        out.append(marker)
        for frame in frames {
            for byte in 0..<bytesPerSize { out.append(UInt8(truncatingIfNeeded: frame.count >> (8 * byte))) }
        }
        out.append(marker)
        return out
    }
}
