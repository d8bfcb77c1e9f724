import Capture

/// A whole Ogg Opus file into `OggOpusReader`.
///
/// Input: a mode byte (bit 0: recompute every page's CRC first, so mutations get past the
/// checksum), then the file's bytes.
/// Invariants: malformed input throws `ReplayFormatError`; a file read has mono or stereo, 1 to
/// `ReplayLimits.maxFrameCount` audio packets, each non-empty, within `maxAudioPacketSize`,
/// lasting what its TOC byte says (2.5 to 120 ms); the packets' bytes are one buffer no larger
/// than the input, so memory follows the input's size.
public enum OggHarness {
    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let mode = input.u8()
        let file = mode & 1 != 0 ? ReplaySeedFiles.fixingOggCRCs(input.rest()) : input.rest()
        guard let ogg = parsedOrRefused(refusing: ReplayFormatError.self, { try OggOpusReader(parsing: file) }) else { return }
        check(ogg, inputSize: file.count)
    }

    static func check(_ ogg: OggOpusReader, inputSize: Int) {
        let packets = ogg.packets
        require((1...2).contains(ogg.channels), "\(ogg.channels) channels")
        packets.checkRanges(of: "packet", maxSize: OggOpusReader.maxAudioPacketSize, inputSize: inputSize) { index, data in
            let samples = packets.samples(at: index)
            require((120...5760).contains(samples), "packet \(index) of \(samples) samples")
            require((try? OggOpusReader.samples(in: data)) == samples, "packet \(index): samples differ from its TOC")
        }
        require(ogg.duration > 0 && ogg.duration.isFinite, "duration \(ogg.duration)")
    }

    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        [
            [1] + ReplaySeedFiles.oggOpus(ReplaySeedFiles.opusPackets),
            [0] + ReplaySeedFiles.oggOpus([ReplaySeedFiles.opusPackets[0], [31 << 3] + [UInt8](repeating: 0x5A, count: 300)], channels: 2),
        ]
    }
}
