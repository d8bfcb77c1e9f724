import Media

/// A RIFF WAVE file of 16-bit PCM at 48 kHz, mono or stereo, parsed from memory: the chunks
/// are walked (a data chunk whose size runs past the end, as streaming writers leave it, is
/// read to the end), the format checked, the samples decoded. Malformed input throws
/// `SourceFileFormatError`, never traps.
public struct WAVFile: Sendable, Equatable {
    /// Files larger than this are refused rather than read into memory (three hours of mono,
    /// an hour and a half of stereo).
    public static let maxFileSize = 1 << 30

    public var channels: Int
    /// Interleaved.
    public var samples: [Int16]

    public init(parsing bytes: [UInt8]) throws {
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else {
            throw SourceFileFormatError("not a WAV file")
        }
        var offset = 12
        var format: (channels: Int, rate: Int, bits: Int, tag: Int)?
        var pcm: ArraySlice<UInt8>?
        // Chunk sizes are at most 2^32 - 1 and offsets at most the file's size: no sum below overflows.
        while bytes.count - offset >= 8 {
            let id = bytes[offset..<(offset + 4)]
            let size = u32(offset + 4)
            let body = offset + 8
            let isData = id.elementsEqual("data".utf8)
            guard size <= bytes.count - body || isData else { break }
            if id.elementsEqual("fmt ".utf8), size >= 16 {
                format = (u16(body + 2), u32(body + 4), u16(body + 14), u16(body))
            } else if isData {
                pcm = bytes[body..<(body + min(size, bytes.count - body))]
            }
            offset = body + size + (size & 1)
        }
        guard let format, let pcm else { throw SourceFileFormatError("WAV without fmt or data chunk") }
        guard format.tag == 1 || format.tag == 0xFFFE, format.bits == 16, format.rate == AudioFrame.sampleRate, (1...2).contains(format.channels) else {
            throw SourceFileFormatError("needs 16-bit PCM at 48000 Hz, mono or stereo (has \(format.bits)-bit, \(format.rate) Hz, \(format.channels) channels); convert it with: ffmpeg -i IN -ar 48000 -ac 1 -c:a pcm_s16le OUT.wav")
        }
        channels = format.channels
        samples = stride(from: pcm.startIndex, to: pcm.endIndex - 1, by: 2).map { Int16(bitPattern: UInt16(pcm[$0]) | UInt16(pcm[$0 + 1]) << 8) }
        guard samples.count >= AudioFrame.samplesPerChannel * channels else {
            throw SourceFileFormatError("shorter than one 20 ms frame")
        }
    }
}
