import Media

/// H264 RTP payloads (RFC 6184: single NAL units, STAP-A, FU-A) into `H264Depacketizer`, with
/// its parameter-set learning, cut into packets with fuzzed marker, timestamp and
/// discontinuity bits; each key frame's sets into the avcC a recorder writes.
///
/// Input: packets until the end, each a flags byte (bit 0: marker, bit 1: discontinuity,
/// bit 2: next frame's timestamp, bit 3: flush first) and a length-prefixed payload.
/// Invariants: a frame is whole AVC samples (4-byte lengths that add up, no empty unit) whose
/// types are `nalUnitTypes`, under the size cap, with a slice; key frames have an IDR slice,
/// their SPS and PPS (each within `maxParameterSetSize`), a size, and an avcC that parses back
/// to itself; delta frames have none of these; the parameter sets kept stay within 288 caps.
public enum H264Harness {
    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        var assembler = FrameAssembler(H264Depacketizer())
        FuzzedPacket.assemble(&input, into: &assembler, inspect: { _ = try? H264Payload(parsing: $0.payload[...]) }, check: check)
        let bound = (32 + 256) * H264Depacketizer.maxParameterSetSize
        let kept = assembler.depacketizer.parameterSetBytes
        require(kept <= bound, "\(kept) bytes of parameter sets kept")
    }

    static func check(_ frame: H264Depacketizer.Frame) {
        require(!frame.data.isEmpty, "empty H264 frame")
        require(frame.data.count <= H264Depacketizer.maxFrameSize, "frame of \(frame.data.count) bytes")
        var types: [UInt8] = []
        var offset = 0
        while offset < frame.data.count {
            require(offset + 4 <= frame.data.count, "a NAL unit length cut at \(offset)")
            let length = frame.data[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            require(length > 0 && length <= frame.data.count - offset - 4, "NAL unit length \(length) at \(offset)")
            types.append(frame.data[offset + 4] & 0x1F)
            offset += 4 + length
        }
        require(types == frame.details.nalUnitTypes, "unit types \(types), frame says \(frame.details.nalUnitTypes)")
        require(types.contains { (1...5).contains($0) }, "a frame without a slice: \(types)")
        if frame.isKeyFrame {
            require(types.contains(H264NALUnit.idrSlice), "a key frame without an IDR slice: \(types)")
            guard let sps = frame.details.sps, let pps = frame.details.pps, let width = frame.width, let height = frame.height else {
                return require(false, "a key frame without its parameter sets or size")
            }
            require(width > 0 && height > 0 && width <= 16384 && height <= 32768, "key frame \(width)x\(height)")
            require(sps.count <= H264Depacketizer.maxParameterSetSize && pps.count <= H264Depacketizer.maxParameterSetSize,
                    "parameter sets of \(sps.count) and \(pps.count) bytes")
            let parsed = try? H264SequenceParameterSet(parsing: sps[...])
            require(parsed?.width == width && parsed?.height == height, "the frame's size is not its SPS's")
            guard let configuration = try? AVCDecoderConfiguration(sps: sps, pps: pps) else {
                return require(false, "the parameter sets of a key frame make no avcC")
            }
            H264ParameterSetHarness.checkRoundTrip(configuration)
        } else {
            require(frame.details.sps == nil && frame.details.pps == nil && frame.width == nil && !frame.details.parameterSetsChanged,
                    "a delta frame with key frame fields")
        }
    }

    /// An input for `run`: (payload, marker, discontinuity, new timestamp) per packet.
    public static func input(_ packets: [(payload: [UInt8], marker: Bool, discontinuity: Bool, newTimestamp: Bool)]) -> [UInt8] {
        var writer = FuzzInputWriter()
        FuzzedPacket.write(packets, into: &writer)
        return writer.bytes
    }
}
