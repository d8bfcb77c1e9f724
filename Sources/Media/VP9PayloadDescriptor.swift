import Bytes

/// The VP9 RTP payload descriptor (RFC 9628 §4.2):
///
///     |I|P|L|F|B|E|V|Z|              required
///     |M| PICTURE ID  | [EXTENDED]   I=1: 7 or 15 bits (M)
///     |  T  |U|  S  |D| [TL0PICIDX]  L=1: layer indices; TL0PICIDX in non-flexible mode (F=0)
///     | P_DIFF      |N|              F=1 and P=1: 1 to 3 reference differences
///     | SS ...        |              V=1: scalability structure (§4.2.1)
///
/// ffmpeg sends only the first byte; browsers (libwebrtc) send picture IDs, layer indices,
/// TL0PICIDX and an SS on key frames.
public struct VP9PayloadDescriptor: Sendable, Equatable {
    /// The scalability structure (§4.2.1): spatial layer count, their sizes, the picture group.
    public struct ScalabilityStructure: Sendable, Equatable {
        public struct Picture: Sendable, Equatable {
            public var temporalID: UInt8
            public var switchingUpPoint: Bool
            public var referenceDiffs: [UInt8]

            public init(temporalID: UInt8, switchingUpPoint: Bool, referenceDiffs: [UInt8]) {
                self.temporalID = temporalID
                self.switchingUpPoint = switchingUpPoint
                self.referenceDiffs = referenceDiffs
            }
        }

        public var spatialLayers: Int
        /// Y=1: width and height of each spatial layer, lowest first.
        public var resolutions: [(width: Int, height: Int)]?
        /// G=1: the pictures of the group.
        public var pictureGroup: [Picture]?

        public init(spatialLayers: Int, resolutions: [(width: Int, height: Int)]?, pictureGroup: [Picture]?) {
            self.spatialLayers = spatialLayers
            self.resolutions = resolutions
            self.pictureGroup = pictureGroup
        }

        public static func == (a: Self, b: Self) -> Bool {
            a.spatialLayers == b.spatialLayers && a.pictureGroup == b.pictureGroup
                && a.resolutions?.map { [$0.width, $0.height] } == b.resolutions?.map { [$0.width, $0.height] }
        }
    }

    public var pictureID: UInt16?
    /// M=1: the picture ID has 15 bits (else 7).
    public var extendedPictureID: Bool
    /// P: inter-picture predicted (0 on key frames and on the upper layers of a key picture).
    public var interPicturePredicted: Bool
    public var flexibleMode: Bool
    /// B and E: first and last packet of a layer frame.
    public var startOfFrame: Bool
    public var endOfFrame: Bool
    /// Z: not used as a reference by the upper spatial layers.
    public var notReferenceForUpperLayers: Bool
    /// L=1 only (else nil).
    public var temporalID: UInt8?
    public var switchingUpPoint: Bool
    public var spatialID: UInt8?
    /// D: inter-layer dependency (this layer frame uses the lower spatial layer).
    public var interLayerDependency: Bool
    /// Non-flexible mode with L=1.
    public var tl0PictureIndex: UInt8?
    /// Flexible mode with P=1: the picture ID differences of the references.
    public var referenceDiffs: [UInt8]
    public var scalabilityStructure: ScalabilityStructure?
    /// Bytes before the VP9 data.
    public var size: Int

    public init(parsing payload: ArraySlice<UInt8>) throws {
        var r = ByteReader(payload, what: "VP9 payload descriptor")
        let first = try r.u8("the first byte")
        let hasPictureID = first & 0x80 != 0
        interPicturePredicted = first & 0x40 != 0
        let hasLayers = first & 0x20 != 0
        flexibleMode = first & 0x10 != 0
        startOfFrame = first & 0x08 != 0
        endOfFrame = first & 0x04 != 0
        let hasStructure = first & 0x02 != 0
        notReferenceForUpperLayers = first & 0x01 != 0
        pictureID = nil
        extendedPictureID = false
        if hasPictureID {
            let high = try r.u8("the picture ID")
            if high & 0x80 != 0 {
                extendedPictureID = true
                pictureID = UInt16(high & 0x7F) << 8 | UInt16(try r.u8("the extended picture ID"))
            } else {
                pictureID = UInt16(high)
            }
        }
        temporalID = nil
        switchingUpPoint = false
        spatialID = nil
        interLayerDependency = false
        tl0PictureIndex = nil
        if hasLayers {
            let layers = try r.u8("the layer indices")
            temporalID = layers >> 5
            switchingUpPoint = layers & 0x10 != 0
            spatialID = layers >> 1 & 0x07
            interLayerDependency = layers & 0x01 != 0
            if !flexibleMode { tl0PictureIndex = try r.u8("TL0PICIDX") }
        }
        referenceDiffs = []
        if flexibleMode && interPicturePredicted {
            // §4.2: up to 3 P_DIFF bytes, N=1 when another follows.
            while true {
                let byte = try r.u8("a P_DIFF")
                let diff = byte >> 1
                guard diff != 0 else { throw MalformedPacket("VP9 payload descriptor: P_DIFF of 0 (a picture cannot reference itself)") }
                referenceDiffs.append(diff)
                if byte & 0x01 == 0 { break }
                guard referenceDiffs.count < 3 else { throw MalformedPacket("VP9 payload descriptor: more than 3 P_DIFF") }
            }
        }
        scalabilityStructure = hasStructure ? try Self.scalabilityStructure(&r) : nil
        size = r.consumed
    }

    /// §4.2.1: |N_S|Y|G|-|-|-|, N_S+1 resolutions when Y, N_G picture descriptions when G.
    private static func scalabilityStructure(_ r: inout ByteReader) throws -> ScalabilityStructure {
        let header = try r.u8("the scalability structure")
        let spatialLayers = Int(header >> 5) + 1
        var resolutions: [(width: Int, height: Int)]?
        if header & 0x10 != 0 {
            resolutions = try (0..<spatialLayers).map { _ in
                (Int(try r.u16("a spatial layer width")), Int(try r.u16("a spatial layer height")))
            }
        }
        var group: [ScalabilityStructure.Picture]?
        if header & 0x08 != 0 {
            let count = Int(try r.u8("N_G"))
            group = try (0..<count).map { _ in
                let byte = try r.u8("a picture group entry")
                let diffs = try (0..<Int(byte >> 2 & 0x03)).map { _ in try r.u8("a picture group P_DIFF") }
                return .init(temporalID: byte >> 5, switchingUpPoint: byte & 0x10 != 0, referenceDiffs: diffs)
            }
        }
        return ScalabilityStructure(spatialLayers: spatialLayers, resolutions: resolutions, pictureGroup: group)
    }

    /// Writes a descriptor (the packetizer's half): the fields set here, in §4.2's order.
    public static func serialize(pictureID: UInt16?, interPicturePredicted: Bool, startOfFrame: Bool, endOfFrame: Bool,
                                 layer: (temporalID: UInt8, switchingUpPoint: Bool, spatialID: UInt8, interLayerDependency: Bool, tl0PictureIndex: UInt8)?,
                                 scalabilityStructure: ScalabilityStructure?) -> [UInt8] {
        var w = ByteWriter(capacity: 16)
        var first: UInt8 = 0
        if pictureID != nil { first |= 0x80 }
        if interPicturePredicted { first |= 0x40 }
        if layer != nil { first |= 0x20 }
        if startOfFrame { first |= 0x08 }
        if endOfFrame { first |= 0x04 }
        if scalabilityStructure != nil { first |= 0x02 }
        w.u8(first)
        if let pictureID { w.u16(0x8000 | pictureID & 0x7FFF) }  // always the 15-bit form (M=1)
        if let layer {
            w.u8(layer.temporalID << 5 | (layer.switchingUpPoint ? 0x10 : 0) | (layer.spatialID & 0x07) << 1 | (layer.interLayerDependency ? 1 : 0))
            w.u8(layer.tl0PictureIndex)
        }
        if let ss = scalabilityStructure {
            w.u8(UInt8(truncatingIfNeeded: ss.spatialLayers - 1) << 5 | (ss.resolutions != nil ? 0x10 : 0) | (ss.pictureGroup != nil ? 0x08 : 0))
            for resolution in ss.resolutions ?? [] {
                w.u16(UInt16(truncatingIfNeeded: resolution.width))
                w.u16(UInt16(truncatingIfNeeded: resolution.height))
            }
            if let group = ss.pictureGroup {
                w.u8(UInt8(truncatingIfNeeded: group.count))
                for picture in group {
                    w.u8(picture.temporalID << 5 | (picture.switchingUpPoint ? 0x10 : 0) | UInt8(truncatingIfNeeded: picture.referenceDiffs.count) << 2)
                    for diff in picture.referenceDiffs { w.u8(diff) }
                }
            }
        }
        return w.bytes
    }
}
