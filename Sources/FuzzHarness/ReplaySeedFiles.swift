import Capture

/// Tiny IVF and Ogg Opus files for the replay harnesses' seeds, and the Ogg CRC fix-up that
/// lets mutations get past the page checksum.
public enum ReplaySeedFiles {
    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    /// RFC 6386 §9.1: a key frame's tag (first partition of 4 bytes), start code and size.
    static func vp8KeyFrame(width: Int, height: Int) -> [UInt8] {
        let tag = UInt32(4) << 5 | 1 << 4
        return [UInt8(tag & 0xFF), UInt8(tag >> 8 & 0xFF), UInt8(tag >> 16 & 0xFF), 0x9D, 0x01, 0x2A]
            + le16(width) + le16(height) + [0xAA, 0xAA, 0xAA, 0xAA]
    }

    static func vp8InterFrame() -> [UInt8] {
        let tag = UInt32(4) << 5 | 1 << 4 | 1
        return [UInt8(tag & 0xFF), UInt8(tag >> 8 & 0xFF), UInt8(tag >> 16 & 0xFF), 0x55, 0x55, 0x55, 0x55]
    }

    static func ivf(_ frames: [(pts: UInt64, data: [UInt8])], rate: UInt32 = 30) -> [UInt8] {
        let header = Array("DKIF".utf8) + le16(0) + le16(32) + Array("VP80".utf8) + le16(64) + le16(48)
            + le32(rate) + le32(1) + le32(UInt32(frames.count)) + le32(0)
        return frames.reduce(header) { $0 + le32(UInt32($1.data.count)) + le64($1.pts) + $1.data }
    }

    /// One Ogg page; the CRC is left 0 (`fixingOggCRCs` fills it in).
    static func oggPage(_ packets: [[UInt8]], flags: UInt8, sequence: UInt32) -> [UInt8] {
        var table: [UInt8] = []
        for packet in packets {
            table += [UInt8](repeating: 255, count: packet.count / 255)
            table.append(UInt8(packet.count % 255))
        }
        return Array("OggS".utf8) + [0, flags] + le64(0) + le32(0x1234) + le32(sequence) + le32(0) + [UInt8(table.count)] + table
            + packets.flatMap { $0 }
    }

    /// An Ogg Opus file: OpusHead, OpusTags, then the audio packets on one last page.
    static func oggOpus(_ audio: [[UInt8]], channels: UInt8 = 1) -> [UInt8] {
        let head = Array("OpusHead".utf8) + [1, channels] + le16(312) + le32(48000) + le16(0) + [0]
        let tags = Array("OpusTags".utf8) + le32(4) + Array("fuzz".utf8) + le32(0)
        return fixingOggCRCs(oggPage([head], flags: 2, sequence: 0) + oggPage([tags], flags: 0, sequence: 1)
            + oggPage(audio, flags: 4, sequence: 2))
    }

    /// Opus packets: 20 ms CELT, 10 ms SILK, two 2.5 ms CELT frames, a code-3 packet of three 20 ms frames.
    static let opusPackets: [[UInt8]] = [[31 << 3, 0xFF, 0xFE], [0 << 3, 0x10], [16 << 3 | 1, 1, 2], [31 << 3 | 3, 3, 7, 7, 7]]

    /// The bytes with every Ogg page's CRC recomputed, walking the pages as the reader does
    /// (up to the first place that is not a whole page): a mutation then reaches what comes
    /// after the checksum.
    public static func fixingOggCRCs(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        var offset = 0
        while out.count - offset >= 27, out[offset..<(offset + 4)].elementsEqual("OggS".utf8) {
            let segments = Int(out[offset + 26])
            let bodyStart = offset + 27 + segments
            guard bodyStart <= out.count else { break }
            let pageEnd = bodyStart + out[(offset + 27)..<bodyStart].reduce(0) { $0 + Int($1) }
            guard pageEnd <= out.count else { break }
            out.replaceSubrange((offset + 22)..<(offset + 26), with: [0, 0, 0, 0])
            let crc = OggOpusReader.crc(out[offset..<pageEnd])
            out.replaceSubrange((offset + 22)..<(offset + 26), with: le32(crc))
            offset = pageEnd
        }
        return out
    }
}
