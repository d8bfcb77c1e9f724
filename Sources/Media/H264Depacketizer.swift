import Bytes

/// Reads H264 RTP payloads (RFC 6184, packetization mode 1) into access units (with
/// `FrameAssembler`) in the AVC form Matroska's V_MPEG4/ISO/AVC stores: every NAL unit preceded
/// by its length in 4 bytes (ISO 14496-15 §5.3.4, lengthSizeMinusOne 3). A frame ends at the
/// marker bit (§5.1), or at a new timestamp if the sender left the marker out; whole frames
/// only: an unfinished FU-A or a slice whose parameter sets never arrived drops the frame and
/// every frame until the next decodable IDR.
///
/// Key frames are IDR access units whose SPS and PPS are known, in the frame or earlier (a
/// receiver may join after the sender's STAP-A). The parameter sets are tracked by id; a key
/// frame carries the SPS/PPS it uses, so a recorder can write the avcC, and says when they
/// differ from the previous key frame's: the recorder must start a new file then (a Matroska
/// track has one CodecPrivate). In-band SPS/PPS stay in the frame data as well.
public struct H264Depacketizer: RTPDepacketizer {
    public struct Details: FrameDetails {
        /// Key frames: the parameter sets the IDR slices use, whole NAL units with header.
        public var sps: [UInt8]?
        public var pps: [UInt8]?
        /// Key frames: SPS or PPS differ from the previous key frame's (false on the first).
        public var parameterSetsChanged: Bool
        /// The NAL unit types of the frame in order (for logs and tests).
        public var nalUnitTypes: [UInt8]

        /// The avcC record (ISO 14496-15) a Matroska track needs.
        public var codecPrivate: [UInt8]? {
            guard let sps, let pps else { return nil }
            return try? AVCDecoderConfiguration(sps: sps, pps: pps).bytes
        }

        public var parametersChanged: Bool { parameterSetsChanged }
    }

    /// A parameter set larger than this is not learnt (and counted in `oversizeParameterSets`):
    /// the tables hold 32 SPS and 256 PPS, and an FU-A unit may be 4 MiB. A real SPS is tens
    /// of bytes and stays under 2 KiB even with every scaling list (12 lists of 64 deltas of up
    /// to 17 bits) and VUI with HRD; a PPS is smaller unless it maps slice groups per macroblock
    /// (FMO, which no WebRTC profile uses and ffmpeg cannot decode). 4 KiB keeps every real set
    /// and bounds the tables at 288 × 4 KiB = 1.1 MiB, under the frame buffer's own cap.
    public static let maxParameterSetSize = 4096

    /// A frame may end without its marker: H264 has no other end-of-frame sign (RFC 6184 §5.1).
    public static var completesFrameWithoutMarker: Bool { true }

    /// AVC samples of the frame in progress: [4-byte big-endian length][NAL unit] repeated.
    private var data: [UInt8] = []
    private var nalUnitTypes: [UInt8] = []
    /// Where the 4-byte length of an open FU-A unit is, while its fragments come in.
    private var openFragmentStart: Int?
    private var spsByID: [UInt32: (unit: [UInt8], parsed: H264SequenceParameterSet)] = [:]
    private var ppsByID: [UInt32: (unit: [UInt8], parsed: H264PictureParameterSet)] = [:]
    private var lastKeyFrameSets: (sps: [UInt8], pps: [UInt8])?
    /// SPS or PPS units above `maxParameterSetSize`, not learnt: slices that use them are
    /// dropped as slices without parameter sets. For the receiver to report (not per packet).
    public private(set) var oversizeParameterSets = 0

    public init() {}

    /// Bytes of the parameter sets kept (at most 288 × `maxParameterSetSize`): for checks.
    public var parameterSetBytes: Int {
        spsByID.values.reduce(0) { $0 + $1.unit.count } + ppsByID.values.reduce(0) { $0 + $1.unit.count }
    }

    public mutating func append(_ payload: ArraySlice<UInt8>, startsFrame: Bool, frameLost: inout Bool) throws {
        try append(H264Payload(parsing: payload), frameLost: &frameLost)
    }

    private mutating func append(_ payload: H264Payload, frameLost: inout Bool) throws {
        switch payload {
        case .single(let unit):
            try closeOpenFragment()
            appendUnit(unit, frameLost: &frameLost)
        case .aggregation(let units):
            try closeOpenFragment()
            for unit in units { appendUnit(unit, frameLost: &frameLost) }
        case .fragment(let fragment):
            guard !frameLost else { return }  // the frame is lost already; keep nothing
            if fragment.start {
                try closeOpenFragment()
                guard reserve(5 + fragment.data.count, frameLost: &frameLost) else { return }
                openFragmentStart = data.count
                data.append(contentsOf: [0, 0, 0, 0, fragment.unitHeader])
                nalUnitTypes.append(fragment.unitHeader & 0x1F)
            } else {
                guard let start = openFragmentStart, data[start + 4] & 0x1F == fragment.unitHeader & 0x1F else {
                    // Its start was lost (or belongs to another unit): the frame is incomplete.
                    frameLost = true
                    return
                }
                guard reserve(fragment.data.count, frameLost: &frameLost) else { return }
            }
            data.append(contentsOf: fragment.data)
            if fragment.end, let start = openFragmentStart {
                openFragmentStart = nil
                writeLength(data.count - start - 4, at: start)
                learnParameterSet(data[(start + 4)...])
            }
        case .ignored:
            break
        }
    }

    /// A new unit while an FU-A is open means the FU-A lost its end.
    private mutating func closeOpenFragment() throws {
        guard openFragmentStart == nil else {
            openFragmentStart = nil
            throw MalformedPacket("H264 FU-A: a new NAL unit before the end fragment")
        }
    }

    private mutating func appendUnit(_ unit: ArraySlice<UInt8>, frameLost: inout Bool) {
        learnParameterSet(unit)
        guard !frameLost, reserve(4 + unit.count, frameLost: &frameLost) else { return }
        data.append(contentsOf: [0, 0, 0, 0])
        writeLength(unit.count, at: data.count - 4)
        data.append(contentsOf: unit)
        nalUnitTypes.append(unit[unit.startIndex] & 0x1F)
    }

    /// Room for `count` more bytes under the cap; past it the frame is dropped and its data freed.
    private mutating func reserve(_ count: Int, frameLost: inout Bool) -> Bool {
        guard data.count + count <= Self.maxFrameSize else {
            frameLost = true
            data = []
            openFragmentStart = nil
            return false
        }
        return true
    }

    private mutating func writeLength(_ length: Int, at offset: Int) {
        for index in 0..<4 { data[offset + index] = UInt8(truncatingIfNeeded: length >> (24 - 8 * index)) }
    }

    /// Whole SPS and PPS units update the tables as soon as they arrive (even in a frame that
    /// breaks later: the unit itself is intact).
    private mutating func learnParameterSet(_ unit: ArraySlice<UInt8>) {
        guard let header = unit.first else { return }
        let type = header & 0x1F
        guard type == H264NALUnit.sps || type == H264NALUnit.pps else { return }
        guard unit.count <= Self.maxParameterSetSize else {
            oversizeParameterSets += 1
            return
        }
        switch type {
        case H264NALUnit.sps:
            if let parsed = try? H264SequenceParameterSet(parsing: unit) { spsByID[parsed.id] = (Array(unit), parsed) }
        case H264NALUnit.pps:
            if let parsed = try? H264PictureParameterSet(parsing: unit) { ppsByID[parsed.id] = (Array(unit), parsed) }
        default:
            break
        }
    }

    public mutating func complete(timestamp: UInt32, waitingForKeyFrame: Bool) -> FrameCompletion<Details> {
        guard openFragmentStart == nil else { return .dropped(awaitsKeyFrame: true) }
        // Every slice must name a PPS whose SPS is known, or the frame cannot be decoded.
        var isIDR = false
        var sets: (sps: (unit: [UInt8], parsed: H264SequenceParameterSet), pps: [UInt8])?
        var offset = 0
        while offset + 4 <= data.count {
            let length = Int(data[offset]) << 24 | Int(data[offset + 1]) << 16 | Int(data[offset + 2]) << 8 | Int(data[offset + 3])
            let unit = data[(offset + 4)..<min(offset + 4 + length, data.count)]
            offset += 4 + length
            guard let header = unit.first, H264NALUnit(header: header).isSlice else { continue }
            guard let ppsID = try? H264PictureParameterSet.referenced(bySlice: unit), let pps = ppsByID[ppsID],
                  let sps = spsByID[pps.parsed.sequenceParameterSetId] else {
                return .dropped(awaitsKeyFrame: true)
            }
            if header & 0x1F == H264NALUnit.idrSlice {
                isIDR = true
                if sets == nil { sets = (sps, pps.unit) }
            }
        }
        guard nalUnitTypes.contains(where: { (1...5).contains($0) }) else {
            // Parameter sets or SEI alone are no picture (they were learnt already).
            return .nothing
        }
        if waitingForKeyFrame && !isIDR { return .dropped(awaitsKeyFrame: true) }
        var frame = Frame(data: data, timestamp: timestamp, isKeyFrame: isIDR,
                          details: Details(parameterSetsChanged: false, nalUnitTypes: nalUnitTypes))
        if isIDR, let sets {
            frame.width = sets.sps.parsed.width
            frame.height = sets.sps.parsed.height
            frame.details.sps = sets.sps.unit
            frame.details.pps = sets.pps
            if let last = lastKeyFrameSets, last.sps != sets.sps.unit || last.pps != sets.pps {
                frame.details.parameterSetsChanged = true
            }
            lastKeyFrameSets = (sets.sps.unit, sets.pps)
        }
        return .frame(frame)
    }

    public mutating func discardFrame() {
        data.removeAll(keepingCapacity: true)
        nalUnitTypes.removeAll(keepingCapacity: true)
        openFragmentStart = nil
    }
}
