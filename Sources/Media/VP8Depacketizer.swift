/// Reassembles VP8 frames from RTP payloads (RFC 7741 §4): reads the payload descriptor,
/// starts a frame at S=1/PID=0, ends it at the marker bit, and after any gap waits for the
/// next key frame (a delta frame whose reference is missing cannot decode). Feed packets in
/// sequence order with `discontinuity` set when packets were lost before this one.
public struct VP8Depacketizer: Sendable {
    public struct Frame: Sendable, Equatable {
        public var data: [UInt8]
        public var timestamp: UInt32
        public var isKeyFrame: Bool
        /// From the key frame header (RFC 6386 §9.1); nil for delta frames.
        public var width: Int?
        public var height: Int?
    }

    /// Where one payload's VP8 data starts, and its S / PID bits.
    public struct Descriptor: Sendable, Equatable {
        public var startOfPartition: Bool
        public var partitionIndex: UInt8
        public var pictureID: UInt16?
        public var headerSize: Int
    }

    private var parts: [UInt8] = []
    private var timestamp: UInt32?
    private var frameBroken = false
    /// PictureID of the last frame handed out, to notice whole frames that never arrived.
    private var lastPictureID: UInt16?
    private var framePictureID: UInt16?
    public private(set) var waitingForKeyFrame = true
    public private(set) var framesDropped = 0
    /// Frames dropped for growing past `maxFrameSize` (also counted in `framesDropped`).
    public private(set) var oversizedFrames = 0

    /// Largest frame reassembled. A 4K VP8 key frame is well under 1 MiB; packets that keep one
    /// timestamp without ever setting the marker would otherwise grow the frame without bound.
    public static let maxFrameSize = 4 << 20

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

    /// Adds one packet; returns a frame when this packet completes one that can be decoded.
    public mutating func add(_ payload: ArraySlice<UInt8>, timestamp packetTimestamp: UInt32, marker: Bool,
                             discontinuity: Bool) -> Frame? {
        if discontinuity {
            // Something before this packet is gone: the frame in progress is incomplete, and
            // every frame until the next key frame references what was lost.
            if timestamp != nil { framesDropped += 1 }
            reset()
            waitingForKeyFrame = true
        }
        guard let descriptor = Self.descriptor(payload) else {
            frameBroken = true
            return nil
        }
        let data = payload.dropFirst(descriptor.headerSize)
        if timestamp != packetTimestamp {
            if timestamp != nil { framesDropped += 1 }  // previous frame never got its marker
            reset()
            timestamp = packetTimestamp
            framePictureID = descriptor.pictureID
            // A frame must start with the first packet of partition 0.
            frameBroken = !(descriptor.startOfPartition && descriptor.partitionIndex == 0)
        }
        if !frameBroken {
            if parts.count + data.count > Self.maxFrameSize {
                // Give the memory back now; the marker (or the next timestamp) counts the drop.
                oversizedFrames += 1
                frameBroken = true
                waitingForKeyFrame = true
                parts = []
            } else {
                parts.append(contentsOf: data)
            }
        }
        guard marker else { return nil }
        defer { reset() }
        guard !frameBroken, let first = parts.first else {
            framesDropped += 1
            return nil
        }
        let isKeyFrame = first & 0x01 == 0  // P bit of the frame tag: 0 = key frame
        // A PictureID jump means a whole frame is missing even if no sequence gap showed
        // (RFC 7741 §4.2): what follows references it.
        if let last = lastPictureID, let current = framePictureID, !isKeyFrame {
            let step = (current &- last) & (current > 0x7F || last > 0x7F ? 0x7FFF : 0x7F)
            if step != 1 { waitingForKeyFrame = true }
        }
        lastPictureID = framePictureID
        if waitingForKeyFrame && !isKeyFrame {
            framesDropped += 1
            return nil
        }
        waitingForKeyFrame = false
        var frame = Frame(data: parts, timestamp: packetTimestamp, isKeyFrame: isKeyFrame)
        if isKeyFrame, parts.count >= 10, parts[3] == 0x9D, parts[4] == 0x01, parts[5] == 0x2A {
            frame.width = Int(UInt16(parts[6]) | UInt16(parts[7]) << 8) & 0x3FFF
            frame.height = Int(UInt16(parts[8]) | UInt16(parts[9]) << 8) & 0x3FFF
        }
        return frame
    }

    private mutating func reset() {
        parts.removeAll(keepingCapacity: true)
        timestamp = nil
        frameBroken = false
    }
}
