import Bytes

/// One H264 RTP payload as RFC 6184 packetization mode 1 (non-interleaved, §6.3) allows it:
/// a single NAL unit (§5.6), a STAP-A of whole units (§5.7.1) or an FU-A fragment (§5.8).
/// STAP-B, MTAP16/24 and FU-B belong to the interleaved mode and are refused; types 0, 30
/// and 31 are undefined and ignored (§5.4).
public enum H264Payload: Sendable, Equatable {
    /// A whole NAL unit, header included.
    case single(ArraySlice<UInt8>)
    /// The NAL units of a STAP-A, each whole with its header.
    case aggregation([ArraySlice<UInt8>])
    case fragment(FragmentationUnit)
    case ignored(type: UInt8)

    public struct FragmentationUnit: Sendable, Equatable {
        public var start: Bool
        public var end: Bool
        /// The header of the fragmented unit: F and NRI of the FU indicator, type of the FU header.
        public var unitHeader: UInt8
        public var data: ArraySlice<UInt8>
    }

    public init(parsing payload: ArraySlice<UInt8>) throws {
        guard let first = payload.first else { throw MalformedPacket("H264 RTP payload: empty") }
        let header = H264NALUnit(header: first)
        // F=1 marks a unit a network element found damaged (§5.3): nothing in it can be trusted.
        guard !header.forbiddenBit else { throw MalformedPacket("H264 RTP payload: forbidden_zero_bit set (type \(header.type))") }
        switch header.type {
        case 1...23:
            self = .single(payload)
        case 24:
            var reader = ByteReader(payload.dropFirst(), what: "H264 STAP-A")
            var units: [ArraySlice<UInt8>] = []
            while !reader.isAtEnd {
                let size = Int(try reader.u16("a NAL unit size"))
                guard size > 0 else { throw MalformedPacket("H264 STAP-A: NAL unit of size 0") }
                let unit = try reader.take(size, "a NAL unit of \(size) bytes")
                let inner = H264NALUnit(header: unit[unit.startIndex])
                guard !inner.forbiddenBit, (1...23).contains(inner.type) else {
                    throw MalformedPacket("H264 STAP-A: aggregated NAL unit of type \(inner.type)\(inner.forbiddenBit ? " with F=1" : "")")
                }
                units.append(unit)
            }
            guard !units.isEmpty else { throw MalformedPacket("H264 STAP-A: no NAL unit") }
            self = .aggregation(units)
        case 28:
            guard payload.count >= 3 else { throw MalformedPacket("H264 FU-A: \(payload.count) bytes, needs a header and data") }
            let fuHeader = payload[payload.startIndex + 1]
            let start = fuHeader & 0x80 != 0
            let end = fuHeader & 0x40 != 0
            let type = fuHeader & 0x1F
            guard !(start && end) else { throw MalformedPacket("H264 FU-A: start and end bit both set (§5.8 forbids it)") }
            guard (1...23).contains(type) else { throw MalformedPacket("H264 FU-A: fragment of NAL unit type \(type)") }
            self = .fragment(FragmentationUnit(start: start, end: end, unitHeader: first & 0xE0 | type,
                                               data: payload.dropFirst(2)))
        case 25, 26, 27, 29:
            let name = [25: "STAP-B", 26: "MTAP16", 27: "MTAP24", 29: "FU-B"][Int(header.type)] ?? "?"
            throw MalformedPacket("H264 RTP payload: \(name) (type \(header.type)) is interleaved mode only; packetization-mode 1 allows single NAL units, STAP-A and FU-A")
        default:
            self = .ignored(type: header.type)
        }
    }
}
