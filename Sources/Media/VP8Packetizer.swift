/// VP8 RTP payloads (RFC 7741 §4.2): each packet starts with a payload descriptor carrying
/// a 15-bit PictureID (X=1, I=1, M=1); S=1 and PID=0 on the first packet of a frame. The
/// marker bit goes on the last packet of the frame.
public struct VP8Packetizer: Sendable {
    /// The 4-byte payload descriptor of one packet.
    public typealias Descriptor = (UInt8, UInt8, UInt8, UInt8)

    public private(set) var pictureID: UInt16

    public init(pictureID: UInt16 = UInt16.random(in: 0...0x7FFF)) {
        self.pictureID = pictureID & 0x7FFF
    }

    /// Splits one encoded frame into payloads of at most `maxPayloadSize` bytes (descriptor
    /// included), as evenly as possible so no packet is much smaller than the others; hands
    /// each descriptor and its part of the frame to `body`, without copying.
    public mutating func forEachPayload(_ frame: [UInt8], maxPayloadSize: Int,
                                        _ body: (_ descriptor: Descriptor, _ part: ArraySlice<UInt8>, _ last: Bool) -> Void) {
        let room = max(maxPayloadSize - 4, 1)
        let count = max(1, (frame.count + room - 1) / room)
        let base = frame.count / count
        let extra = frame.count % count
        var offset = 0
        for index in 0..<count {
            let size = base + (index < extra ? 1 : 0)
            // X=1 and S on the first packet, PID 0; I=1; M=1: 15-bit PictureID.
            let descriptor: Descriptor = (index == 0 ? 0x90 : 0x80, 0x80, 0x80 | UInt8(pictureID >> 8),
                                          UInt8(truncatingIfNeeded: pictureID))
            body(descriptor, frame[offset..<(offset + size)], index == count - 1)
            offset += size
        }
        pictureID = (pictureID + 1) & 0x7FFF
    }

    /// The payloads of one frame as arrays (allocates: for tests and tools).
    public mutating func packetize(_ frame: [UInt8], maxPayloadSize: Int) -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        forEachPayload(frame, maxPayloadSize: maxPayloadSize) { descriptor, part, _ in
            payloads.append([descriptor.0, descriptor.1, descriptor.2, descriptor.3] + part)
        }
        return payloads
    }
}
