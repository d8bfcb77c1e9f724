import Bytes

/// Reads VP9 RTP payloads (RFC 9628) into pictures (with `FrameAssembler`). A layer frame runs
/// from a packet with B=1 to one with E=1; a picture (one RTP timestamp) ends at the marker bit
/// (§4.1), or at a new timestamp if it is whole.
///
/// A picture is handed out only when it can be decoded: whole layer frames, and either a key
/// frame (frame_type 0 in the uncompressed header of spatial layer 0; P=0 alone is not
/// enough, ffmpeg never sets P) or a frame whose references arrived. After a loss it waits
/// for a key frame. References are checked as far as the descriptor tells: P_DIFFs in
/// flexible mode, TL0PICIDX continuity in non-flexible mode with layer indices (mediasoup
/// drops upper temporal layers without rewriting picture IDs, so their gaps are harmless),
/// picture ID continuity when the picture ID is all there is.
///
/// mediasoup forwards one spatial layer to a consumer between key pictures but all layers up
/// to it on key pictures (K-SVC) and always (full SVC), each layer frame a VP9 frame of its
/// own: the layers of a picture are joined into one superframe (Annex B), as libvpx decodes
/// and WebM stores them. `maxSpatialLayer` drops the layers above it (the others do not
/// reference them). A superframe sent whole by the encoder stays one block.
public struct VP9Depacketizer: RTPDepacketizer {
    /// The frame's data is one VP9 frame, or a superframe: what one WebM block holds; its size
    /// is the highest spatial layer's when known (key frames: always).
    public struct Details: FrameDetails {
        public var pictureID: UInt16?
        /// Spatial layers joined in `data`.
        public var spatialLayers: Int
        /// Profile of the first frame (0-3), from its uncompressed header.
        public var profile: Int
    }

    /// A picture whose marker was lost ends at the next timestamp, handed out if its layer
    /// frames are whole (each has its end bit).
    public static var completesFrameWithoutMarker: Bool { true }

    public let maxSpatialLayer: Int?
    private var layers: [(spatialID: Int, data: [UInt8])] = []
    private var open: (spatialID: Int, data: [UInt8])?
    private var size = 0
    /// The descriptor of the picture's first packet, and the SS if one came with it.
    private var first: VP9PayloadDescriptor?
    private var structure: VP9PayloadDescriptor.ScalabilityStructure?
    private var lastPictureID: UInt16?
    private var lastTL0PictureIndex: UInt8?
    /// Picture IDs handed out recently (flexible-mode references point at them).
    private var decoded: [UInt16] = []

    public init(maxSpatialLayer: Int? = nil) {
        self.maxSpatialLayer = maxSpatialLayer
    }

    public mutating func append(_ payload: ArraySlice<UInt8>, startsFrame: Bool, frameLost: inout Bool) throws {
        try append(VP9PayloadDescriptor(parsing: payload), payload, frameLost: &frameLost)
    }

    private mutating func append(_ descriptor: VP9PayloadDescriptor, _ payload: ArraySlice<UInt8>, frameLost: inout Bool) throws {
        if first == nil { first = descriptor }
        if let ss = descriptor.scalabilityStructure { structure = ss }
        guard !frameLost else { return }
        let spatialID = Int(descriptor.spatialID ?? 0)
        if let maxSpatialLayer, spatialID > maxSpatialLayer { return }
        let data = payload.dropFirst(descriptor.size)
        if descriptor.startOfFrame {
            if open != nil {
                frameLost = true  // the previous layer frame lost its end
                return
            }
            if let last = layers.last, last.spatialID >= spatialID {
                throw MalformedPacket("VP9: spatial layer \(spatialID) after layer \(last.spatialID) in one picture")
            }
            open = (spatialID, [])
        } else {
            guard let current = open, current.spatialID == spatialID else {
                frameLost = true  // a continuation whose start was lost
                return
            }
        }
        guard size + data.count <= Self.maxFrameSize else {
            frameLost = true
            layers = []
            open = nil
            return
        }
        size += data.count
        open?.data.append(contentsOf: data)
        if descriptor.endOfFrame, let done = open {
            open = nil
            guard !done.data.isEmpty else { throw MalformedPacket("VP9: a layer frame without data") }
            layers.append(done)
        }
    }

    public mutating func complete(timestamp: UInt32, waitingForKeyFrame: Bool) -> FrameCompletion<Details> {
        guard open == nil, let descriptor = first, let base = layers.first else {
            // A layer frame without its end, or a picture whose every layer frame was lost;
            // with a layer limit, a picture of upper layers only is no loss.
            let lost = open != nil || first != nil && layers.isEmpty && maxSpatialLayer == nil
            return lost ? .dropped(awaitsKeyFrame: true) : .nothing
        }
        // The first frame of the picture decides: a superframe's first frame, or the frame.
        let baseFrame = VP9Superframe.frames(in: base.data[...])?.first ?? base.data[...]
        guard let header = try? VP9FrameHeader(parsing: baseFrame) else { return .malformed }
        let isKeyFrame = header.isKeyFrame && base.spatialID == 0
        if !isKeyFrame {
            guard !waitingForKeyFrame, referencesArrived(descriptor) else { return .dropped(awaitsKeyFrame: true) }
        }
        remember(descriptor, isKeyFrame: isKeyFrame)
        var frame = Frame(data: [], timestamp: timestamp, isKeyFrame: isKeyFrame,
                          details: Details(pictureID: descriptor.pictureID, spatialLayers: layers.count, profile: header.profile))
        if layers.count == 1 {
            frame.data = base.data
        } else {
            // Each layer frame may itself be a superframe: flatten, then one index for all.
            let parts = layers.flatMap { layer in (VP9Superframe.frames(in: layer.data[...]) ?? [layer.data[...]]).map(Array.init) }
            frame.data = parts.count <= 8 ? VP9Superframe.build(parts) : layers.flatMap(\.data)
        }
        // Size of the top layer: the SS says it (unless it says 0); else its own header when
        // explicit; key frames always.
        let top = layers[layers.count - 1]
        if let resolutions = structure?.resolutions, top.spatialID < resolutions.count, resolutions[top.spatialID].width > 0,
           resolutions[top.spatialID].height > 0 {
            frame.width = resolutions[top.spatialID].width
            frame.height = resolutions[top.spatialID].height
        } else if let topHeader = try? VP9FrameHeader(parsing: VP9Superframe.frames(in: top.data[...])?.last ?? top.data[...]),
                  let width = topHeader.width, let height = topHeader.height {
            frame.width = width
            frame.height = height
        } else if isKeyFrame {
            frame.width = header.width
            frame.height = header.height
        }
        return .frame(frame)
    }

    /// Whether what this picture references was handed out (as far as the descriptor says).
    private func referencesArrived(_ descriptor: VP9PayloadDescriptor) -> Bool {
        let modulus: UInt16 = descriptor.extendedPictureID ? 0x8000 : 0x80
        if descriptor.flexibleMode {
            guard let pictureID = descriptor.pictureID else { return true }
            // Intra-layer references; a picture of only inter-layer prediction has none.
            return descriptor.referenceDiffs.allSatisfy { diff in
                let reference = (pictureID &+ modulus &- UInt16(diff)) % modulus
                return decoded.contains { $0 % modulus == reference }
            }
        }
        if let tl0 = descriptor.tl0PictureIndex, let temporalID = descriptor.temporalID, let last = lastTL0PictureIndex {
            // TL0 pictures count up by one; upper layers belong to the last TL0 picture.
            return temporalID == 0 ? tl0 == last &+ 1 : tl0 == last
        }
        if descriptor.temporalID == nil, let pictureID = descriptor.pictureID, let last = lastPictureID {
            return pictureID % modulus == (last &+ 1) % modulus
        }
        return true
    }

    private mutating func remember(_ descriptor: VP9PayloadDescriptor, isKeyFrame: Bool) {
        if let pictureID = descriptor.pictureID {
            lastPictureID = pictureID
            decoded.append(pictureID)
            if decoded.count > 128 { decoded.removeFirst(decoded.count - 128) }
        }
        if let tl0 = descriptor.tl0PictureIndex, descriptor.temporalID == 0 || isKeyFrame { lastTL0PictureIndex = tl0 }
        if isKeyFrame { decoded = descriptor.pictureID.map { [$0] } ?? [] }
    }

    public mutating func discardFrame() {
        layers.removeAll(keepingCapacity: true)
        open = nil
        size = 0
        first = nil
        structure = nil
    }
}
