import Bytes

/// The start of an H.264 picture parameter set (§7.3.2.2): its id and the SPS it refers to,
/// which is what tells whether a slice can be decoded (slice → PPS → SPS).
public struct H264PictureParameterSet: Sendable, Equatable {
    public var id: UInt32
    public var sequenceParameterSetId: UInt32

    /// Parses a whole PPS NAL unit, header byte included.
    public init(parsing unit: ArraySlice<UInt8>) throws {
        guard let header = unit.first else { throw MalformedPacket("H264 PPS: empty") }
        guard H264NALUnit(header: header).type == H264NALUnit.pps else {
            throw MalformedPacket("H264 PPS: NAL unit type \(header & 0x1F), expected 8")
        }
        let rbsp = H264NALUnit.rbsp(unit, limit: 16)
        var r = BitReader(rbsp[...], what: "H264 PPS")
        id = try r.ue("pic_parameter_set_id")
        sequenceParameterSetId = try r.ue("seq_parameter_set_id")
        guard id <= 255, sequenceParameterSetId <= 31 else {
            throw MalformedPacket("H264 PPS: pic_parameter_set_id \(id) / seq_parameter_set_id \(sequenceParameterSetId) out of range")
        }
    }

    /// The PPS id a slice NAL unit (types 1 and 5) uses: third field of its header (§7.3.3).
    public static func referenced(bySlice unit: ArraySlice<UInt8>) throws -> UInt32 {
        let rbsp = H264NALUnit.rbsp(unit, limit: 16)
        var r = BitReader(rbsp[...], what: "H264 slice header")
        _ = try r.ue("first_mb_in_slice")
        let sliceType = try r.ue("slice_type")
        guard sliceType <= 9 else { throw MalformedPacket("H264 slice header: slice_type \(sliceType)") }
        let id = try r.ue("pic_parameter_set_id")
        guard id <= 255 else { throw MalformedPacket("H264 slice header: pic_parameter_set_id \(id)") }
        return id
    }
}
