/// VP8 RTP payloads (RFC 7741 §4.2): each packet starts with a payload descriptor carrying
/// a 15-bit PictureID (X=1, I=1, M=1); S=1 and PID=0 on the first packet of a frame. The
/// marker bit goes on the last packet of the frame. With `layerFields` (simulcast) the
/// descriptor also carries TL0PICIDX and TID (L=1, T=1), which an SFU needs to rewrite picture
/// ids continuously when it switches a consumer between layers.
public struct VP8Packetizer: Sendable {
    /// The payload descriptor of one packet: `count` bytes of `bytes`.
    public struct Descriptor: Sendable {
        public var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
        public var count: Int

        public var array: [UInt8] {
            [bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5].prefix(count).map { $0 }
        }

        /// Appends the descriptor's `count` bytes to a packet being built, without an array of
        /// its own (the send path and the load source write one per packet).
        public func append(to buffer: inout [UInt8]) {
            buffer.append(bytes.0)
            buffer.append(bytes.1)
            buffer.append(bytes.2)
            buffer.append(bytes.3)
            if count == 6 {
                buffer.append(bytes.4)
                buffer.append(bytes.5)
            }
        }
    }

    public private(set) var pictureID: UInt16
    public private(set) var tl0PictureIndex: UInt8
    public let layerFields: Bool

    public init(pictureID: UInt16 = UInt16.random(in: 0...0x7FFF), layerFields: Bool = false,
                tl0PictureIndex: UInt8 = UInt8.random(in: 0...255)) {
        self.pictureID = pictureID & 0x7FFF
        self.layerFields = layerFields
        self.tl0PictureIndex = tl0PictureIndex
    }

    /// Splits one encoded frame into payloads of at most `maxPayloadSize` bytes (descriptor
    /// included), as evenly as possible so no packet is much smaller than the others; hands
    /// each descriptor and its part of the frame to `body`, without copying.
    public mutating func forEachPayload(_ frame: [UInt8], maxPayloadSize: Int,
                                        _ body: (_ descriptor: Descriptor, _ part: ArraySlice<UInt8>, _ last: Bool) -> Void) {
        let descriptorSize = layerFields ? 6 : 4
        let room = max(maxPayloadSize - descriptorSize, 1)
        let count = max(1, (frame.count + room - 1) / room)
        let base = frame.count / count
        let extra = frame.count % count
        var offset = 0
        for index in 0..<count {
            let size = base + (index < extra ? 1 : 0)
            // X=1 and S on the first packet, PID 0; I=1 (and L, T); M=1: 15-bit PictureID;
            // TL0PICIDX; TID 0 with Y=1 (every frame is on the base temporal layer).
            let descriptor = Descriptor(
                bytes: (index == 0 ? 0x90 : 0x80, layerFields ? 0xE0 : 0x80, 0x80 | UInt8(pictureID >> 8),
                        UInt8(truncatingIfNeeded: pictureID), tl0PictureIndex, 0x20),
                count: descriptorSize)
            body(descriptor, frame[offset..<(offset + size)], index == count - 1)
            offset += size
        }
        pictureID = (pictureID + 1) & 0x7FFF
        tl0PictureIndex &+= 1
    }

    /// The payloads of one frame as arrays (allocates: for tests and tools).
    public mutating func packetize(_ frame: [UInt8], maxPayloadSize: Int) -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        forEachPayload(frame, maxPayloadSize: maxPayloadSize) { descriptor, part, _ in
            payloads.append(descriptor.array + part)
        }
        return payloads
    }
}
