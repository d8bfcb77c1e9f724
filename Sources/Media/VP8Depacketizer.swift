import Bytes

/// Reads VP8 RTP payloads (RFC 7741 §4) into frames (with `FrameAssembler`): reads the payload
/// descriptor, starts a frame at S=1/PID=0 and ends it at the marker bit; a frame whose
/// PictureID skips one references a frame that never arrived, and waits for a key frame as
/// after a loss.
public struct VP8Depacketizer: RTPDepacketizer {
    /// VP8 frames say nothing beyond the common fields; the size comes from the key frame
    /// header (RFC 6386 §9.1), nil for delta frames.
    public struct Details: FrameDetails {}

    /// Where one payload's VP8 data starts, and its S / PID bits.
    public struct Descriptor: Sendable, Equatable {
        public var startOfPartition: Bool
        public var partitionIndex: UInt8
        public var pictureID: UInt16?
        public var headerSize: Int
    }

    /// A frame whose marker was lost is dropped: VP8 has no other sign that it ended whole.
    public static var completesFrameWithoutMarker: Bool { false }

    private var parts: [UInt8] = []
    /// PictureID of the last frame handed out, to notice whole frames that never arrived.
    private var lastPictureID: UInt16?
    private var framePictureID: UInt16?
    /// Frames dropped for growing past `maxFrameSize` (also counted in `framesDropped`).
    public private(set) var oversizedFrames = 0

    public init() {}

    /// Bytes of the frame in progress.
    public var bufferedBytes: Int { parts.count }

    public static func descriptor(_ payload: ArraySlice<UInt8>) -> Descriptor? {
        var i = payload.startIndex
        guard i < payload.endIndex else { return nil }
        let first = payload[i]
        i += 1
        var pictureID: UInt16?
        if first & 0x80 != 0 {  // X: extension byte
            guard i < payload.endIndex else { return nil }
            let ext = payload[i]
            i += 1
            if ext & 0x80 != 0 {  // I: PictureID
                guard i < payload.endIndex else { return nil }
                if payload[i] & 0x80 != 0 {
                    guard i + 1 < payload.endIndex else { return nil }
                    pictureID = UInt16(payload[i] & 0x7F) << 8 | UInt16(payload[i + 1])
                    i += 2
                } else {
                    pictureID = UInt16(payload[i])
                    i += 1
                }
            }
            if ext & 0x40 != 0 { i += 1 }  // L: TL0PICIDX
            if ext & 0x30 != 0 { i += 1 }  // T or K: TID / KEYIDX
        }
        guard i <= payload.endIndex else { return nil }
        return Descriptor(startOfPartition: first & 0x10 != 0, partitionIndex: first & 0x07, pictureID: pictureID,
                          headerSize: i - payload.startIndex)
    }

    public mutating func append(_ payload: ArraySlice<UInt8>, startsFrame: Bool, frameLost: inout Bool) throws {
        guard let descriptor = Self.descriptor(payload) else { throw MalformedPacket("VP8 payload descriptor truncated") }
        if startsFrame {
            framePictureID = descriptor.pictureID
            // A frame must start with the first packet of partition 0.
            if !(descriptor.startOfPartition && descriptor.partitionIndex == 0) { frameLost = true }
        }
        guard !frameLost else { return }
        let data = payload.dropFirst(descriptor.headerSize)
        guard parts.count + data.count <= Self.maxFrameSize else {
            // Give the memory back now; the marker (or the next timestamp) counts the drop.
            oversizedFrames += 1
            frameLost = true
            parts = []
            return
        }
        parts.append(contentsOf: data)
    }

    public mutating func complete(timestamp: UInt32, waitingForKeyFrame: Bool) -> FrameCompletion<Details> {
        guard let first = parts.first else { return .dropped(awaitsKeyFrame: false) }
        let isKeyFrame = first & 0x01 == 0  // P bit of the frame tag: 0 = key frame
        // A PictureID jump means a whole frame is missing even if no sequence gap showed
        // (RFC 7741 §4.2): what follows references it.
        var referenceMissing = false
        if let last = lastPictureID, let current = framePictureID, !isKeyFrame {
            let step = (current &- last) & (current > 0x7F || last > 0x7F ? 0x7FFF : 0x7F)
            referenceMissing = step != 1
        }
        lastPictureID = framePictureID
        if (waitingForKeyFrame || referenceMissing) && !isKeyFrame { return .dropped(awaitsKeyFrame: true) }
        var frame = Frame(data: parts, timestamp: timestamp, isKeyFrame: isKeyFrame, details: Details())
        if isKeyFrame, parts.count >= 10, parts[3] == 0x9D, parts[4] == 0x01, parts[5] == 0x2A {
            frame.width = Int(UInt16(parts[6]) | UInt16(parts[7]) << 8) & 0x3FFF
            frame.height = Int(UInt16(parts[8]) | UInt16(parts[9]) << 8) & 0x3FFF
        }
        return .frame(frame)
    }

    public mutating func discardFrame() {
        // The buffer is kept for the next frame: when the frame handed out is already gone (a
        // bot's, which is dropped at once) this costs no allocation. Letting it go with the frame
        // saved a largest frame's bytes per video stream between frames but cost one allocation
        // per frame (Benchmarks' ReceivePath: 8,169 to 8,458 mallocs a pass).
        parts.removeAll(keepingCapacity: true)
    }
}
