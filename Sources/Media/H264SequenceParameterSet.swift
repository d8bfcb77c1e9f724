import Bytes

/// The fields of an H.264 sequence parameter set (§7.3.2.1.1) that a recorder needs: profile
/// and level (for the avcC), chroma format and bit depth, and the picture size after frame
/// cropping (§7.4.2.1.1). VUI and what follows it are not read.
public struct H264SequenceParameterSet: Sendable, Equatable {
    public var profileIdc: UInt8
    /// constraint_set0..5 flags and the 2 reserved bits, as the second byte of profile-level-id.
    public var constraintFlags: UInt8
    public var levelIdc: UInt8
    public var id: UInt32
    /// 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    public var chromaFormatIdc: UInt32
    public var separateColourPlane: Bool
    public var bitDepthLuma: Int
    public var bitDepthChroma: Int
    public var maxNumRefFrames: UInt32
    public var frameMbsOnly: Bool
    public var width: Int
    public var height: Int

    /// profile_idc values whose SPS carries chroma format, bit depths and scaling lists.
    static let highProfiles: Set<UInt8> = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]

    /// The six hex digits of profile-level-id this SPS declares (RFC 6184 §8.1).
    public var profileLevelId: String {
        [profileIdc, constraintFlags, levelIdc].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Parses a whole SPS NAL unit, header byte included.
    public init(parsing unit: ArraySlice<UInt8>) throws {
        guard let header = unit.first else { throw MalformedPacket("H264 SPS: empty") }
        guard H264NALUnit(header: header).type == H264NALUnit.sps else {
            throw MalformedPacket("H264 SPS: NAL unit type \(header & 0x1F), expected 7")
        }
        let rbsp = H264NALUnit.rbsp(unit)
        var r = BitReader(rbsp[...], what: "H264 SPS")
        profileIdc = UInt8(try r.bits(8, "profile_idc"))
        constraintFlags = UInt8(try r.bits(8, "constraint flags"))
        levelIdc = UInt8(try r.bits(8, "level_idc"))
        id = try r.ue("seq_parameter_set_id")
        guard id <= 31 else { throw MalformedPacket("H264 SPS: seq_parameter_set_id \(id) above 31") }
        chromaFormatIdc = 1
        separateColourPlane = false
        bitDepthLuma = 8
        bitDepthChroma = 8
        if Self.highProfiles.contains(profileIdc) {
            chromaFormatIdc = try r.ue("chroma_format_idc")
            guard chromaFormatIdc <= 3 else { throw MalformedPacket("H264 SPS: chroma_format_idc \(chromaFormatIdc)") }
            if chromaFormatIdc == 3 { separateColourPlane = try r.bit("separate_colour_plane_flag") }
            let lumaMinus8 = try r.ue("bit_depth_luma_minus8")
            let chromaMinus8 = try r.ue("bit_depth_chroma_minus8")
            guard lumaMinus8 <= 6, chromaMinus8 <= 6 else { throw MalformedPacket("H264 SPS: bit depth above 14") }
            bitDepthLuma = 8 + Int(lumaMinus8)
            bitDepthChroma = 8 + Int(chromaMinus8)
            _ = try r.bit("qpprime_y_zero_transform_bypass_flag")
            if try r.bit("seq_scaling_matrix_present_flag") {
                for list in 0..<(chromaFormatIdc == 3 ? 12 : 8) {
                    if try r.bit("seq_scaling_list_present_flag") { try Self.skipScalingList(&r, size: list < 6 ? 16 : 64) }
                }
            }
        }
        let log2MaxFrameNumMinus4 = try r.ue("log2_max_frame_num_minus4")
        guard log2MaxFrameNumMinus4 <= 12 else { throw MalformedPacket("H264 SPS: log2_max_frame_num_minus4 \(log2MaxFrameNumMinus4)") }
        let pocType = try r.ue("pic_order_cnt_type")
        switch pocType {
        case 0:
            guard try r.ue("log2_max_pic_order_cnt_lsb_minus4") <= 12 else { throw MalformedPacket("H264 SPS: log2_max_pic_order_cnt_lsb_minus4 above 12") }
        case 1:
            _ = try r.bit("delta_pic_order_always_zero_flag")
            _ = try r.se("offset_for_non_ref_pic")
            _ = try r.se("offset_for_top_to_bottom_field")
            let cycle = try r.ue("num_ref_frames_in_pic_order_cnt_cycle")
            guard cycle <= 255 else { throw MalformedPacket("H264 SPS: num_ref_frames_in_pic_order_cnt_cycle \(cycle)") }
            for _ in 0..<cycle { _ = try r.se("offset_for_ref_frame") }
        case 2:
            break
        default:
            throw MalformedPacket("H264 SPS: pic_order_cnt_type \(pocType)")
        }
        maxNumRefFrames = try r.ue("max_num_ref_frames")
        _ = try r.bit("gaps_in_frame_num_value_allowed_flag")
        let widthInMbs = try r.ue("pic_width_in_mbs_minus1") + 1
        let heightInMapUnits = try r.ue("pic_height_in_map_units_minus1") + 1
        frameMbsOnly = try r.bit("frame_mbs_only_flag")
        if !frameMbsOnly { _ = try r.bit("mb_adaptive_frame_field_flag") }
        _ = try r.bit("direct_8x8_inference_flag")
        // Level 6.2 allows 139264 macroblocks a frame: anything beyond 2^16 per side is noise.
        guard widthInMbs <= 1024, heightInMapUnits <= 1024 else {
            throw MalformedPacket("H264 SPS: picture of \(widthInMbs)x\(heightInMapUnits) macroblocks")
        }
        let fieldFactor = frameMbsOnly ? 1 : 2
        let codedWidth = Int(widthInMbs) * 16
        let codedHeight = fieldFactor * Int(heightInMapUnits) * 16
        // §7.4.2.1.1: crop units depend on the chroma sampling (ChromaArrayType).
        let chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc
        let cropUnitX = chromaArrayType == 0 ? 1 : (chromaArrayType == 3 ? 1 : 2)
        let cropUnitY = (chromaArrayType == 1 ? 2 : 1) * fieldFactor
        var cropLeft = 0, cropRight = 0, cropTop = 0, cropBottom = 0
        if try r.bit("frame_cropping_flag") {
            let offsets = try (0..<4).map { _ in try r.ue("frame_crop_offset") }
            guard offsets.allSatisfy({ $0 <= 8192 }) else { throw MalformedPacket("H264 SPS: frame cropping out of range") }
            cropLeft = Int(offsets[0]) * cropUnitX
            cropRight = Int(offsets[1]) * cropUnitX
            cropTop = Int(offsets[2]) * cropUnitY
            cropBottom = Int(offsets[3]) * cropUnitY
        }
        width = codedWidth - cropLeft - cropRight
        height = codedHeight - cropTop - cropBottom
        guard width > 0, height > 0 else { throw MalformedPacket("H264 SPS: cropping leaves \(width)x\(height)") }
    }

    /// scaling_list() (§7.3.2.1.1.1): only its length matters here.
    private static func skipScalingList(_ r: inout BitReader, size: Int) throws {
        var last: Int32 = 8
        var next: Int32 = 8
        for _ in 0..<size {
            if next != 0 {
                let delta = try r.se("delta_scale")
                guard (-128...127).contains(delta) else { throw MalformedPacket("H264 SPS: delta_scale \(delta)") }
                next = (last + delta + 256) % 256
            }
            if next != 0 { last = next }
        }
    }
}
