import Bytes

/// The one-byte header of an H.264 NAL unit (H.264 §7.3.1, RFC 6184 §1.3) and the unit types
/// nacho cares about, plus the RBSP of a unit (emulation prevention bytes removed, §7.4.1).
public struct H264NALUnit: Sendable, Equatable {
    public static let nonIDRSlice: UInt8 = 1
    public static let idrSlice: UInt8 = 5
    public static let sei: UInt8 = 6
    public static let sps: UInt8 = 7
    public static let pps: UInt8 = 8
    public static let accessUnitDelimiter: UInt8 = 9

    /// forbidden_zero_bit: 1 means the unit is damaged (RFC 6184 §5.3).
    public var forbiddenBit: Bool
    /// nal_ref_idc: 0 means no other picture uses this one.
    public var nri: UInt8
    public var type: UInt8

    public init(header: UInt8) {
        forbiddenBit = header & 0x80 != 0
        nri = header >> 5 & 0x03
        type = header & 0x1F
    }

    public var header: UInt8 { (forbiddenBit ? 0x80 : 0) | nri << 5 | type }
    /// Slices (§7.4.1.2.3: types 1 to 5 carry coded picture data).
    public var isSlice: Bool { (1...5).contains(type) }

    /// The RBSP of a NAL unit without its header: every 0x000003 loses its 03 (§7.4.1).
    /// `limit` stops after that many output bytes (slice headers need only the first few).
    public static func rbsp(_ unit: ArraySlice<UInt8>, limit: Int = .max) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(min(unit.count, limit))
        var zeros = 0
        for byte in unit.dropFirst() {
            if out.count >= limit { break }
            if zeros >= 2 && byte == 0x03 {
                zeros = 0
                continue
            }
            zeros = byte == 0 ? zeros + 1 : 0
            out.append(byte)
        }
        return out
    }
}
