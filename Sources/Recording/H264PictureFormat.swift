import Media

/// What of an H264 stream a Matroska track describes and a decoder is set up for: the first SPS
/// of the track's avcC (CodecPrivate) less what may change within a file -- its id, the
/// constraint flags and the reference frame count -- so profile, level, chroma format (and
/// separate colour planes), bit depths, frame/field coding and the picture size after cropping.
/// Everything else in the parameter sets (a PPS, VUI timing) may change within a file too:
/// every key frame carries its SPS and PPS in band (`withParameterSets`), which ffmpeg and
/// other readers apply as they come, whatever the CodecPrivate says.
struct H264PictureFormat: Equatable {
    private let sequence: H264SequenceParameterSet

    /// nil when the record or its first SPS does not parse.
    init?(codecPrivate: [UInt8]) {
        guard let record = try? AVCDecoderConfiguration(parsing: codecPrivate[...]), let first = record.sequenceParameterSets.first,
              var sps = try? H264SequenceParameterSet(parsing: first[...]) else { return nil }
        sps.id = 0
        sps.constraintFlags = 0
        sps.maxNumRefFrames = 0
        sequence = sps
    }

    /// Whether a track written with `old` as CodecPrivate needs a new file for `new`: a new
    /// picture format, or (records that do not parse) any other bytes.
    static func changes(from old: [UInt8], to new: [UInt8]) -> Bool {
        guard old != new else { return false }
        guard let before = H264PictureFormat(codecPrivate: old), let after = H264PictureFormat(codecPrivate: new) else { return true }
        return before != after
    }

    /// An AVC sample (4-byte lengths, what `H264Depacketizer` writes) with the SPS and PPS of
    /// `codecPrivate` in front, unless the sample has them already. A key frame that carries
    /// its parameter sets decodes in a file whose CodecPrivate holds others.
    static func withParameterSets(_ data: [UInt8], codecPrivate: [UInt8]) -> [UInt8] {
        guard let record = try? AVCDecoderConfiguration(parsing: codecPrivate[...]) else { return data }
        var present: [ArraySlice<UInt8>] = []
        var offset = 0
        while offset + 4 <= data.count {
            let length = Int(data[offset]) << 24 | Int(data[offset + 1]) << 16 | Int(data[offset + 2]) << 8 | Int(data[offset + 3])
            guard length <= data.count - offset - 4 else { break }
            let unit = data[(offset + 4)..<(offset + 4 + length)]
            if let header = unit.first, [H264NALUnit.sps, H264NALUnit.pps].contains(header & 0x1F) { present.append(unit) }
            offset += 4 + length
        }
        let missing = (record.sequenceParameterSets + record.pictureParameterSets).filter { set in
            !present.contains { $0.elementsEqual(set) }
        }
        guard !missing.isEmpty else { return data }
        var out: [UInt8] = []
        out.reserveCapacity(data.count + missing.reduce(0) { $0 + 4 + $1.count })
        for unit in missing {
            out += [UInt8(truncatingIfNeeded: unit.count >> 24), UInt8(truncatingIfNeeded: unit.count >> 16),
                    UInt8(truncatingIfNeeded: unit.count >> 8), UInt8(truncatingIfNeeded: unit.count)]
            out += unit
        }
        return out + data
    }
}
