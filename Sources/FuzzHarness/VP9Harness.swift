import Bytes
import Media

/// VP9 RTP payloads (RFC 9628 descriptor, then VP9 data) into `VP9Depacketizer`, cut into
/// packets with fuzzed marker, timestamp and discontinuity bits; every descriptor, the
/// pictures' frames and superframes through their own parsers.
///
/// Input: a first byte (bits 0-2: the highest spatial layer kept, 7 for all), then packets
/// until the end, each a flags byte (bit 0: marker, bit 1: discontinuity, bit 2: next
/// picture's timestamp, bit 3: flush first) and a length-prefixed payload.
/// Invariants: a descriptor is no longer than its payload, its fields within their ranges,
/// and what the packetizer can write of it reads back the same; a picture has data under the
/// size cap, a key picture a size and a key frame header in layer 0; spatial layers between 1
/// and 8; a superframe's frames are whole and rebuild into a superframe with the same frames.
public enum VP9Harness {
    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let top = Int(input.u8() & 7)
        var assembler = FrameAssembler(VP9Depacketizer(maxSpatialLayer: top == 7 ? nil : top))
        FuzzedPacket.assemble(&input, into: &assembler, inspect: { packet in
            if let descriptor = try? VP9PayloadDescriptor(parsing: packet.payload[...]) { check(descriptor, packet.payload) }
        }, check: check)
    }

    static func check(_ descriptor: VP9PayloadDescriptor, _ payload: [UInt8]) {
        require(descriptor.size >= 1 && descriptor.size <= payload.count, "descriptor of \(descriptor.size) bytes in \(payload.count)")
        if let pictureID = descriptor.pictureID {
            require(pictureID <= (descriptor.extendedPictureID ? 0x7FFF : 0x7F), "picture ID \(pictureID)")
        }
        if let spatialID = descriptor.spatialID { require(spatialID <= 7, "spatial ID \(spatialID)") }
        if let temporalID = descriptor.temporalID { require(temporalID <= 7, "temporal ID \(temporalID)") }
        require(descriptor.referenceDiffs.count <= 3, "\(descriptor.referenceDiffs.count) P_DIFFs")
        if let ss = descriptor.scalabilityStructure {
            require((1...8).contains(ss.spatialLayers), "SS of \(ss.spatialLayers) layers")
            require(ss.resolutions.map { $0.count == ss.spatialLayers } ?? true, "SS resolutions for another layer count")
        }
        // The packetizer's half writes non-flexible descriptors with a 15-bit picture ID: those read back.
        guard !descriptor.flexibleMode, descriptor.pictureID == nil || descriptor.extendedPictureID else { return }
        let layer = descriptor.spatialID.map { spatialID in
            (temporalID: descriptor.temporalID ?? 0, switchingUpPoint: descriptor.switchingUpPoint, spatialID: spatialID,
             interLayerDependency: descriptor.interLayerDependency, tl0PictureIndex: descriptor.tl0PictureIndex ?? 0)
        }
        guard layer == nil || descriptor.tl0PictureIndex != nil else { return }
        let written = VP9PayloadDescriptor.serialize(pictureID: descriptor.pictureID, interPicturePredicted: descriptor.interPicturePredicted,
                                                     startOfFrame: descriptor.startOfFrame, endOfFrame: descriptor.endOfFrame, layer: layer,
                                                     scalabilityStructure: descriptor.scalabilityStructure)
        guard let again = try? VP9PayloadDescriptor(parsing: written[...]) else { return require(false, "a written descriptor does not parse") }
        require(again.pictureID == descriptor.pictureID && again.startOfFrame == descriptor.startOfFrame
                    && again.endOfFrame == descriptor.endOfFrame && again.interPicturePredicted == descriptor.interPicturePredicted
                    && again.spatialID == descriptor.spatialID && again.temporalID == descriptor.temporalID
                    && again.tl0PictureIndex == descriptor.tl0PictureIndex && again.scalabilityStructure == descriptor.scalabilityStructure,
                "descriptor does not read back as written")
        require(again.size == written.count, "descriptor size \(again.size), written \(written.count)")
    }

    static func check(_ frame: VP9Depacketizer.Frame) {
        check(data: frame.data, isKeyFrame: frame.isKeyFrame, width: frame.width, height: frame.height)
        require((1...8).contains(frame.details.spatialLayers), "\(frame.details.spatialLayers) spatial layers")
        require((0...3).contains(frame.details.profile), "profile \(frame.details.profile)")
    }

    static func check(data: [UInt8], isKeyFrame: Bool, width: Int?, height: Int?) {
        require(!data.isEmpty, "empty VP9 picture")
        require(data.count <= VP9Depacketizer.maxFrameSize + 2 + 4 * 8, "picture of \(data.count) bytes")
        let frames = VP9Superframe.frames(in: data[...]) ?? [data[...]]
        require(frames.allSatisfy { !$0.isEmpty }, "an empty frame in a superframe")
        if frames.count > 1 {
            let rebuilt = VP9Superframe.build(frames.map(Array.init))
            require(VP9Superframe.frames(in: rebuilt[...])?.map(Array.init) == frames.map(Array.init), "superframe does not rebuild")
        }
        for frame in frames { _ = try? VP9FrameHeader(parsing: frame) }
        if isKeyFrame {
            guard let header = try? VP9FrameHeader(parsing: frames[0]) else { return require(false, "a key picture whose first frame does not parse") }
            require(header.isKeyFrame, "a key picture whose first frame is no key frame")
            guard let width, let height else { return require(false, "a key picture without a size") }
            require(width > 0 && height > 0 && width <= 65536 && height <= 65536, "key picture \(width)x\(height)")
        }
    }

    /// An input for `run`: all layers, then (payload, marker, discontinuity, new timestamp) per packet.
    public static func input(_ packets: [(payload: [UInt8], marker: Bool, discontinuity: Bool, newTimestamp: Bool)]) -> [UInt8] {
        var writer = FuzzInputWriter()
        writer.u8(7)
        FuzzedPacket.write(packets, into: &writer)
        return writer.bytes
    }
}
