import Bytes

/// The start of a VP9 frame's uncompressed header (VP9 bitstream spec §6.2, §7.2): profile,
/// frame type, and on key frames (and intra-only frames, and inter frames that give their
/// size outright) the colour configuration and the frame size.
public struct VP9FrameHeader: Sendable, Equatable {
    public var profile: Int
    /// A one-byte frame that only repeats a decoded frame (no new picture data).
    public var showExistingFrame: Bool
    public var isKeyFrame: Bool
    public var showFrame: Bool
    public var errorResilient: Bool
    public var intraOnly: Bool
    public var bitDepth: Int?
    /// 0 unknown, 1 BT.601, 2 BT.709, ... 7 sRGB (§7.2.2).
    public var colorSpace: Int?
    public var subsamplingX: Bool?
    public var subsamplingY: Bool?
    /// nil when the frame takes its size from a reference frame.
    public var width: Int?
    public var height: Int?

    public init(parsing frame: ArraySlice<UInt8>) throws {
        var r = BitReader(frame, what: "VP9 uncompressed header")
        guard try r.bits(2, "frame_marker") == 2 else { throw MalformedPacket("VP9 uncompressed header: frame_marker is not 2") }
        let low = try r.bits(1, "profile_low_bit")
        let high = try r.bits(1, "profile_high_bit")
        profile = Int(high << 1 | low)
        if profile == 3 { guard try !r.bit("reserved_zero") else { throw MalformedPacket("VP9 uncompressed header: reserved bit set") } }
        showExistingFrame = try r.bit("show_existing_frame")
        isKeyFrame = false
        showFrame = true
        errorResilient = false
        intraOnly = false
        if showExistingFrame {
            _ = try r.bits(3, "frame_to_show_map_idx")
            return
        }
        isKeyFrame = try !r.bit("frame_type")  // 0 = KEY_FRAME
        showFrame = try r.bit("show_frame")
        errorResilient = try r.bit("error_resilient_mode")
        if isKeyFrame {
            try Self.syncCode(&r)
            try readColorConfig(&r)
            try readFrameSize(&r)
            return
        }
        intraOnly = try showFrame ? false : r.bit("intra_only")
        if !errorResilient { _ = try r.bits(2, "reset_frame_context") }
        if intraOnly {
            try Self.syncCode(&r)
            if profile > 0 {
                try readColorConfig(&r)
            } else {
                bitDepth = 8
                colorSpace = 1  // CS_BT_601
                subsamplingX = true
                subsamplingY = true
            }
            _ = try r.bits(8, "refresh_frame_flags")
            try readFrameSize(&r)
            return
        }
        _ = try r.bits(8, "refresh_frame_flags")
        for _ in 0..<3 { _ = try r.bits(4, "ref_frame_idx and sign bias") }
        // frame_size_with_refs(): found_ref takes the size of a reference frame.
        for _ in 0..<3 {
            if try r.bit("found_ref") { return }
        }
        try readFrameSize(&r)
    }

    private static func syncCode(_ r: inout BitReader) throws {
        guard try r.bits(24, "frame_sync_code") == 0x49_83_42 else { throw MalformedPacket("VP9 uncompressed header: no sync code 49 83 42") }
    }

    /// §6.2.2 color_config().
    private mutating func readColorConfig(_ r: inout BitReader) throws {
        bitDepth = try profile >= 2 ? (r.bit("ten_or_twelve_bit") ? 12 : 10) : 8
        let space = Int(try r.bits(3, "color_space"))
        colorSpace = space
        if space != 7 {  // not CS_RGB
            _ = try r.bit("color_range")
            if profile == 1 || profile == 3 {
                subsamplingX = try r.bit("subsampling_x")
                subsamplingY = try r.bit("subsampling_y")
                _ = try r.bit("reserved_zero")
            } else {
                subsamplingX = true
                subsamplingY = true
            }
        } else {
            // RGB is 4:4:4, which only profiles 1 and 3 carry.
            guard profile == 1 || profile == 3 else { throw MalformedPacket("VP9 uncompressed header: RGB in profile \(profile)") }
            subsamplingX = false
            subsamplingY = false
            _ = try r.bit("reserved_zero")
        }
    }

    /// §6.2.5 frame_size(): 16 bits each, minus one.
    private mutating func readFrameSize(_ r: inout BitReader) throws {
        width = Int(try r.bits(16, "frame_width_minus_1")) + 1
        height = Int(try r.bits(16, "frame_height_minus_1")) + 1
    }
}
