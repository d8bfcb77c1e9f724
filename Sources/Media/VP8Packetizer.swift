/// VP8 RTP payloads (RFC 7741 §4.2): each packet starts with a payload descriptor carrying
/// a 15-bit PictureID (X=1, I=1, M=1); S=1 and PID=0 on the first packet of a frame. The
/// marker bit goes on the last packet of the frame.
public struct VP8Packetizer: Sendable {
    public private(set) var pictureID: UInt16

    public init(pictureID: UInt16 = UInt16.random(in: 0...0x7FFF)) {
        self.pictureID = pictureID & 0x7FFF
    }

    /// Splits one encoded frame into payloads of at most `maxPayloadSize` bytes (descriptor
    /// included), as evenly as possible so no packet is much smaller than the others.
    public mutating func packetize(_ frame: [UInt8], maxPayloadSize: Int) -> [[UInt8]] {
        let descriptorSize = 4
        let room = max(maxPayloadSize - descriptorSize, 1)
        let count = max(1, (frame.count + room - 1) / room)
        let base = frame.count / count
        let extra = frame.count % count
        var payloads: [[UInt8]] = []
        payloads.reserveCapacity(count)
        var offset = 0
        for index in 0..<count {
            let size = base + (index < extra ? 1 : 0)
            var payload = [UInt8]()
            payload.reserveCapacity(descriptorSize + size)
            payload.append(index == 0 ? 0x90 : 0x80)  // X=1, S on the first, PID 0
            payload.append(0x80)  // I=1: PictureID present
            payload.append(0x80 | UInt8(pictureID >> 8))  // M=1: 15-bit PictureID
            payload.append(UInt8(truncatingIfNeeded: pictureID))
            payload.append(contentsOf: frame[offset..<(offset + size)])
            offset += size
            payloads.append(payload)
        }
        pictureID = (pictureID + 1) & 0x7FFF
        return payloads
    }
}
