import Capture
import Media

/// A whole WAV file into `WAVFile`.
///
/// Input: the file's bytes.
/// Invariants: malformed input throws `SourceFileFormatError`; a file read is mono or stereo
/// with at least one 20 ms frame of samples, and no more samples than its bytes hold.
public enum WAVHarness {
    public static func run(_ data: [UInt8]) {
        guard let file = parsedOrRefused(refusing: SourceFileFormatError.self, { try WAVFile(parsing: data) }) else { return }
        require((1...2).contains(file.channels), "\(file.channels) channels")
        require(file.samples.count >= AudioFrame.samplesPerChannel * file.channels, "\(file.samples.count) samples")
        require(file.samples.count * 2 <= data.count - 44, "\(file.samples.count) samples from \(data.count) bytes")
    }

    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    static func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }

    /// A WAV file: RIFF header, optional LIST chunk, fmt, data (size as given).
    static func wav(channels: Int, samples: Int, list: Bool = false, dataSize: Int? = nil) -> [UInt8] {
        let fmt = Array("fmt ".utf8) + le32(16) + le16(1) + le16(channels) + le32(48000) + le32(48000 * 2 * channels) + le16(2 * channels) + le16(16)
        let extra = list ? Array("LIST".utf8) + le32(5) + Array("INFOx".utf8) + [0] : []
        let pcm = (0..<(samples * channels)).flatMap { le16($0 * 37 & 0xFFFF) }
        let data = Array("data".utf8) + le32(dataSize ?? pcm.count) + pcm
        let body = Array("WAVE".utf8) + extra + fmt + data
        return Array("RIFF".utf8) + le32(body.count) + body
    }

    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        [wav(channels: 1, samples: 960), wav(channels: 2, samples: 970, list: true), wav(channels: 1, samples: 1000, dataSize: 0xFFFF_FFFF)]
    }
}
