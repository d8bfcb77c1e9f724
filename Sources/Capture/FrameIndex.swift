/// What a `FrameIndex` hands out: a frame's (or packet's) bytes with what the index keeps of it.
public protocol IndexedFrame: Sendable {
    /// What the index keeps per frame besides where its bytes are (pts, duration, key frame…).
    associatedtype Info: Sendable
    var data: [UInt8] { get }
    init(data: [UInt8], info: Info)
}

/// Frames (or packets) as ranges of one buffer: one allocation for a file however many frames
/// it has, plus a small entry a frame. Subscripting makes a `Frame`, copying its bytes;
/// `data(at:)` and `info(at:)` copy nothing. Built by the readers of this module, which check
/// that every range lies in the buffer.
public struct FrameIndex<Frame: IndexedFrame>: RandomAccessCollection, Sendable {
    struct Entry: Sendable {
        var start: UInt32
        var size: UInt32
        var info: Frame.Info
    }

    let bytes: [UInt8]
    let entries: [Entry]

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    public subscript(index: Int) -> Frame { Frame(data: Array(data(at: index)), info: entries[index].info) }

    public func data(at index: Int) -> ArraySlice<UInt8> {
        let start = Int(entries[index].start)
        return bytes[start..<(start + Int(entries[index].size))]
    }

    public func info(at index: Int) -> Frame.Info { entries[index].info }

    /// Bytes held: the buffer and the bookkeeping, before the allocator's rounding.
    public var memoryFootprint: Int { bytes.count + entries.count * MemoryLayout<Entry>.stride }
}

/// What an index keeps of a video frame's picture (12 bytes): whether it decodes on its own,
/// and a size (0 when it has none).
public struct PictureInfo: Sendable {
    public var isKeyFrame = false
    var width: UInt32 = 0
    var height: UInt32 = 0
}
