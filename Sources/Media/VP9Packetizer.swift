/// VP9 RTP payloads (RFC 9628 §4.2) for a single-layer stream, in non-flexible mode the way
/// libwebrtc writes it, because libwebrtc receivers need it: a 15-bit picture ID (I=1, M=1),
/// layer indices (L=1: T=0, S=0) with TL0PICIDX counting pictures (a non-flexible frame
/// without TL0PICIDX is dropped by libwebrtc's reference finder), P=1 on inter frames
/// (mediasoup takes P=0 with B=1 for a key frame), B on the first and E on the last packet of
/// the frame, and on key frames a scalability structure (V=1: one layer, its size, a picture
/// group of one picture referencing the previous one; libwebrtc drops key frames without
/// it). The marker bit goes on the last packet.
public struct VP9Packetizer: Sendable {
    public private(set) var pictureID: UInt16
    public private(set) var tl0PictureIndex: UInt8

    public init(pictureID: UInt16 = UInt16.random(in: 0...0x7FFF), tl0PictureIndex: UInt8 = UInt8.random(in: 0...255)) {
        self.pictureID = pictureID & 0x7FFF
        self.tl0PictureIndex = tl0PictureIndex
    }

    /// Splits one encoded frame into payloads of at most `maxPayloadSize` bytes (descriptor
    /// included), as evenly as the descriptors allow.
    public mutating func packetize(_ frame: [UInt8], isKeyFrame: Bool, width: Int, height: Int, maxPayloadSize: Int) -> [[UInt8]] {
        let structure = isKeyFrame ? VP9PayloadDescriptor.ScalabilityStructure(
            spatialLayers: 1, resolutions: [(width, height)],
            pictureGroup: [.init(temporalID: 0, switchingUpPoint: false, referenceDiffs: [1])]) : nil
        func descriptor(first: Bool, last: Bool) -> [UInt8] {
            VP9PayloadDescriptor.serialize(
                pictureID: pictureID, interPicturePredicted: !isKeyFrame, startOfFrame: first, endOfFrame: last,
                layer: (temporalID: 0, switchingUpPoint: false, spatialID: 0, interLayerDependency: false, tl0PictureIndex: tl0PictureIndex),
                scalabilityStructure: first ? structure : nil)
        }
        let firstOverhead = descriptor(first: true, last: false).count
        let otherOverhead = descriptor(first: false, last: false).count
        let firstRoom = max(maxPayloadSize - firstOverhead, 1)
        let otherRoom = max(maxPayloadSize - otherOverhead, 1)
        let count = frame.count <= firstRoom ? 1 : 1 + (frame.count - firstRoom + otherRoom - 1) / otherRoom
        // Even shares; the first packet takes less when its descriptor is larger.
        var shares = (0..<count).map { frame.count / count + ($0 < frame.count % count ? 1 : 0) }
        if count > 1, shares[0] > firstRoom {
            shares[0] = firstRoom
            let rest = frame.count - firstRoom
            for index in 1..<count { shares[index] = rest / (count - 1) + (index - 1 < rest % (count - 1) ? 1 : 0) }
        }
        var payloads: [[UInt8]] = []
        payloads.reserveCapacity(count)
        var offset = 0
        for (index, share) in shares.enumerated() {
            var payload = descriptor(first: index == 0, last: index == count - 1)
            payload.append(contentsOf: frame[offset..<(offset + share)])
            offset += share
            payloads.append(payload)
        }
        pictureID = (pictureID + 1) & 0x7FFF
        tl0PictureIndex &+= 1  // every picture is on temporal layer 0
        return payloads
    }
}
