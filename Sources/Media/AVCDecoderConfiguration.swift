import Bytes

/// The AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1, the `avcC` box body) that a
/// Matroska V_MPEG4/ISO/AVC track carries as CodecPrivate: profile and level from the SPS,
/// 4-byte NAL unit lengths in the samples (what `H264Depacketizer` writes), the SPS and PPS
/// units, and for the High profiles 100/110/122/144 the chroma format and bit depths.
public struct AVCDecoderConfiguration: Sendable, Equatable {
    public var profileIndication: UInt8
    public var profileCompatibility: UInt8
    public var levelIndication: UInt8
    /// Bytes of the length before each NAL unit in a sample: 1, 2 or 4.
    public var lengthSize: Int
    public var sequenceParameterSets: [[UInt8]]
    public var pictureParameterSets: [[UInt8]]
    /// Present for the High profiles (100, 110, 122, 144).
    public var chromaFormat: UInt8?
    public var bitDepthLumaMinus8: UInt8?
    public var bitDepthChromaMinus8: UInt8?

    static let profilesWithExtension: Set<UInt8> = [100, 110, 122, 144]

    /// From whole SPS and PPS NAL units (header byte included); the first SPS gives profile,
    /// level and chroma format.
    public init(sequenceParameterSets: [[UInt8]], pictureParameterSets: [[UInt8]]) throws {
        guard let first = sequenceParameterSets.first else { throw MalformedPacket("avcC: no SPS") }
        guard !pictureParameterSets.isEmpty else { throw MalformedPacket("avcC: no PPS") }
        guard sequenceParameterSets.count <= 31, pictureParameterSets.count <= 255 else { throw MalformedPacket("avcC: too many parameter sets") }
        for unit in sequenceParameterSets + pictureParameterSets where unit.count > 0xFFFF {
            throw MalformedPacket("avcC: a parameter set of \(unit.count) bytes")
        }
        let sps = try H264SequenceParameterSet(parsing: first[...])
        for unit in pictureParameterSets { _ = try H264PictureParameterSet(parsing: unit[...]) }
        profileIndication = sps.profileIdc
        profileCompatibility = sps.constraintFlags
        levelIndication = sps.levelIdc
        lengthSize = 4
        self.sequenceParameterSets = sequenceParameterSets
        self.pictureParameterSets = pictureParameterSets
        if Self.profilesWithExtension.contains(sps.profileIdc) {
            chromaFormat = UInt8(sps.chromaFormatIdc)
            bitDepthLumaMinus8 = UInt8(sps.bitDepthLuma - 8)
            bitDepthChromaMinus8 = UInt8(sps.bitDepthChroma - 8)
        }
    }

    public init(sps: [UInt8], pps: [UInt8]) throws {
        try self.init(sequenceParameterSets: [sps], pictureParameterSets: [pps])
    }

    /// Reads a record (as found in an MP4 `avcC` box or a Matroska CodecPrivate).
    public init(parsing bytes: ArraySlice<UInt8>) throws {
        var r = ByteReader(bytes, what: "avcC")
        guard try r.u8("configurationVersion") == 1 else { throw MalformedPacket("avcC: configurationVersion is not 1") }
        profileIndication = try r.u8("AVCProfileIndication")
        profileCompatibility = try r.u8("profile_compatibility")
        levelIndication = try r.u8("AVCLevelIndication")
        let lengthByte = try r.u8("lengthSizeMinusOne")
        lengthSize = Int(lengthByte & 0x03) + 1
        guard lengthSize != 3 else { throw MalformedPacket("avcC: NAL unit length of 3 bytes") }
        let spsCount = Int(try r.u8("numOfSequenceParameterSets") & 0x1F)
        sequenceParameterSets = try (0..<spsCount).map { _ in Array(try r.take(Int(try r.u16("an SPS length")), "an SPS")) }
        let ppsCount = Int(try r.u8("numOfPictureParameterSets"))
        pictureParameterSets = try (0..<ppsCount).map { _ in Array(try r.take(Int(try r.u16("a PPS length")), "a PPS")) }
        if Self.profilesWithExtension.contains(profileIndication) && !r.isAtEnd {
            chromaFormat = try r.u8("chroma_format") & 0x03
            bitDepthLumaMinus8 = try r.u8("bit_depth_luma_minus8") & 0x07
            bitDepthChromaMinus8 = try r.u8("bit_depth_chroma_minus8") & 0x07
            let extCount = Int(try r.u8("numOfSequenceParameterSetExt"))
            for _ in 0..<extCount { _ = try r.take(Int(try r.u16("an SPS extension length")), "an SPS extension") }
        }
    }

    public var bytes: [UInt8] {
        var w = ByteWriter(capacity: 16 + (sequenceParameterSets + pictureParameterSets).reduce(0) { $0 + $1.count + 2 })
        w.u8(1)  // configurationVersion
        w.u8(profileIndication)
        w.u8(profileCompatibility)
        w.u8(levelIndication)
        w.u8(0xFC | UInt8(truncatingIfNeeded: lengthSize - 1) & 0x03)  // 6 reserved bits set
        w.u8(0xE0 | UInt8(truncatingIfNeeded: sequenceParameterSets.count) & 0x1F)  // 3 reserved bits set
        for unit in sequenceParameterSets {
            w.u16(UInt16(truncatingIfNeeded: unit.count))
            w.append(unit)
        }
        w.u8(UInt8(truncatingIfNeeded: pictureParameterSets.count))
        for unit in pictureParameterSets {
            w.u16(UInt16(truncatingIfNeeded: unit.count))
            w.append(unit)
        }
        if let chromaFormat, let bitDepthLumaMinus8, let bitDepthChromaMinus8 {
            w.u8(0xFC | chromaFormat & 0x03)
            w.u8(0xF8 | bitDepthLumaMinus8 & 0x07)
            w.u8(0xF8 | bitDepthChromaMinus8 & 0x07)
            w.u8(0)  // numOfSequenceParameterSetExt
        }
        return w.bytes
    }
}
