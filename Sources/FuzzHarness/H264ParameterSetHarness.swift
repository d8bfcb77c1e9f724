import Bytes
import Media

/// The H264 parameter-set parsers and what consumes them: `BitReader` (fixed fields and
/// exp-Golomb codes), SPS, PPS, a slice header's PPS id, the avcC record (parse, build from
/// SPS/PPS, serialize).
///
/// Input: a mode byte, then by mode (its value mod 5):
///   0  an SPS NAL unit (the rest); what parses goes into an avcC with a known PPS
///   1  a PPS NAL unit; what parses goes into an avcC with a known SPS
///   2  a slice NAL unit: the PPS id it names
///   3  an avcC record
///   4  a BitReader script: a length-prefixed bit string, then reads (op byte: bits 0-1 the
///      kind -- fixed field of (op >> 2) % 33 bits, ue, se, skip of op >> 2 bits)
/// Invariants: parsed fields within the ranges the parsers promise (SPS id ≤ 31, chroma ≤ 3,
/// bit depths 8...14, a positive size within 16384 × 32768; PPS id ≤ 255); an avcC parsed or
/// built serializes and parses back to itself; a BitReader never reads past its end, and
/// bits read and left always add up to the input.
public enum H264ParameterSetHarness {
    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let mode = input.u8() % 5
        switch mode {
        case 0:
            let unit = input.rest()
            guard let sps = try? H264SequenceParameterSet(parsing: unit[...]) else { return }
            require(sps.id <= 31 && sps.chromaFormatIdc <= 3, "SPS id \(sps.id), chroma_format_idc \(sps.chromaFormatIdc)")
            require((8...14).contains(sps.bitDepthLuma) && (8...14).contains(sps.bitDepthChroma), "bit depths \(sps.bitDepthLuma)/\(sps.bitDepthChroma)")
            require(sps.width > 0 && sps.height > 0 && sps.width <= 16384 && sps.height <= 32768, "SPS size \(sps.width)x\(sps.height)")
            require(sps.profileLevelId.count == 6, "profile-level-id \(sps.profileLevelId)")
            if unit.count <= 0xFFFF {
                guard let configuration = try? AVCDecoderConfiguration(sps: unit, pps: H264Samples.pps0) else {
                    return require(false, "an SPS that parses makes no avcC")
                }
                require(configuration.profileIndication == sps.profileIdc && configuration.levelIndication == sps.levelIdc, "avcC profile/level")
                checkRoundTrip(configuration)
            }
        case 1:
            let unit = input.rest()
            guard let pps = try? H264PictureParameterSet(parsing: unit[...]) else { return }
            require(pps.id <= 255 && pps.sequenceParameterSetId <= 31, "PPS ids \(pps.id)/\(pps.sequenceParameterSetId)")
            if unit.count <= 0xFFFF, let configuration = try? AVCDecoderConfiguration(sps: H264Samples.sps320, pps: unit) {
                checkRoundTrip(configuration)
            } else if unit.count <= 0xFFFF {
                require(false, "a PPS that parses makes no avcC")
            }
        case 2:
            let unit = input.rest()
            if let id = try? H264PictureParameterSet.referenced(bySlice: unit[...]) { require(id <= 255, "slice names PPS \(id)") }
        case 3:
            let record = input.rest()
            guard let configuration = try? AVCDecoderConfiguration(parsing: record[...]) else { return }
            require([1, 2, 4].contains(configuration.lengthSize), "NAL unit length size \(configuration.lengthSize)")
            checkRoundTrip(configuration)
        default:
            bitReader(&input)
        }
    }

    /// Serialized and parsed back, a record is itself, and serializes to the same bytes.
    static func checkRoundTrip(_ configuration: AVCDecoderConfiguration) {
        let bytes = configuration.bytes
        guard let again = try? AVCDecoderConfiguration(parsing: bytes[...]) else {
            return require(false, "an avcC nacho wrote does not parse")
        }
        require(again == configuration, "avcC does not read back as written")
        require(again.bytes == bytes, "avcC serializes differently the second time")
    }

    private static func bitReader(_ input: inout FuzzInput) {
        let bits = input.chunk()
        var reader = BitReader(bits[...], what: "fuzz")
        let total = bits.count * 8
        while !input.isAtEnd {
            let op = input.u8()
            let before = reader.bitsRead
            do {
                switch op & 3 {
                case 0:
                    let count = Int(op >> 2) % 33
                    let value = try reader.bits(count)
                    require(count == 32 || value >> UInt32(count) == 0, "\(count) bits read as \(value)")
                    require(reader.bitsRead == before + count, "bits(\(count)) moved \(reader.bitsRead - before)")
                case 1:
                    _ = try reader.ue()
                case 2:
                    _ = try reader.se()
                default:
                    try reader.skip(Int(op >> 2))
                }
            } catch {
                require(error is MalformedPacket, "BitReader threw \(error)")
            }
            require(reader.bitsRead + reader.bitsLeft == total && reader.bitsLeft >= 0, "bits read \(reader.bitsRead), left \(reader.bitsLeft) of \(total)")
        }
    }
}
