/// The least Matroska a player reads (one video track, one cluster, SimpleBlocks), so tests
/// can check that what the depacketizers hand out plays as the recorder will store it:
/// V_MPEG4/ISO/AVC with the avcC as CodecPrivate, V_VP9 blocks as they come.
enum MatroskaSketch {
    static func element(_ id: UInt32, _ body: [UInt8]) -> [UInt8] {
        let idBytes = (0..<4).map { UInt8(truncatingIfNeeded: id >> (24 - 8 * UInt32($0))) }.drop { $0 == 0 }
        // An 8-byte size vint: 0x01 then 7 bytes.
        let size = [0x01] + (1...7).map { UInt8(truncatingIfNeeded: UInt64(body.count) >> (8 * UInt64(7 - $0))) }
        return Array(idBytes) + size + body
    }

    static func uint(_ id: UInt32, _ value: UInt64) -> [UInt8] {
        element(id, (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) })
    }

    static func string(_ id: UInt32, _ value: String) -> [UInt8] { element(id, Array(value.utf8)) }

    /// `frames`: milliseconds from the start (under 32 s), key flag, block data.
    static func file(docType: String, codecID: String, codecPrivate: [UInt8]?, width: Int, height: Int,
                     frames: [(ms: Int, key: Bool, data: [UInt8])]) -> [UInt8] {
        let header = element(0x1A45_DFA3, uint(0x4286, 1) + uint(0x42F7, 1) + uint(0x42F2, 4) + uint(0x42F3, 8)
            + string(0x4282, docType) + uint(0x4287, 4) + uint(0x4285, 2))
        let info = element(0x1549_A966, uint(0x2AD7B1, 1_000_000) + string(0x4D80, "nacho tests") + string(0x5741, "nacho tests"))
        var track = uint(0xD7, 1) + uint(0x73C5, 1) + uint(0x83, 1) + string(0x86, codecID)
        if let codecPrivate { track += element(0x63A2, codecPrivate) }
        track += element(0xE0, uint(0xB0, UInt64(width)) + uint(0xBA, UInt64(height)))
        let tracks = element(0x1654_AE6B, element(0xAE, track))
        var cluster = uint(0xE7, 0)
        for frame in frames {
            let time = UInt16(truncatingIfNeeded: frame.ms)
            cluster += element(0xA3, [0x81, UInt8(time >> 8), UInt8(truncatingIfNeeded: time), frame.key ? 0x80 : 0x00] + frame.data)
        }
        return header + element(0x1853_8067, info + tracks + element(0x1F43_B675, cluster))
    }
}
