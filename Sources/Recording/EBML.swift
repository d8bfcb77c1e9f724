/// EBML, the binary format under Matroska/WebM (RFC 8794): elements are an ID, a size as a
/// variable-length integer, and the data.
enum EBML {
    /// Matroska element IDs nacho writes (with their length markers, as they appear on disk).
    enum ID {
        static let ebml: UInt32 = 0x1A45_DFA3
        static let ebmlVersion: UInt32 = 0x4286
        static let ebmlReadVersion: UInt32 = 0x42F7
        static let ebmlMaxIDLength: UInt32 = 0x42F2
        static let ebmlMaxSizeLength: UInt32 = 0x42F3
        static let docType: UInt32 = 0x4282
        static let docTypeVersion: UInt32 = 0x4287
        static let docTypeReadVersion: UInt32 = 0x4285
        static let segment: UInt32 = 0x1853_8067
        static let seekHead: UInt32 = 0x114D_9B74
        static let seek: UInt32 = 0x4DBB
        static let seekID: UInt32 = 0x53AB
        static let seekPosition: UInt32 = 0x53AC
        static let info: UInt32 = 0x1549_A966
        static let timecodeScale: UInt32 = 0x2AD7B1
        static let duration: UInt32 = 0x4489
        static let dateUTC: UInt32 = 0x4461
        static let title: UInt32 = 0x7BA9
        static let muxingApp: UInt32 = 0x4D80
        static let writingApp: UInt32 = 0x5741
        static let tracks: UInt32 = 0x1654_AE6B
        static let trackEntry: UInt32 = 0xAE
        static let trackNumber: UInt32 = 0xD7
        static let trackUID: UInt32 = 0x73C5
        static let trackType: UInt32 = 0x83
        static let flagLacing: UInt32 = 0x9C
        static let codecID: UInt32 = 0x86
        static let codecPrivate: UInt32 = 0x63A2
        static let codecDelay: UInt32 = 0x56AA
        static let seekPreRoll: UInt32 = 0x56BB
        static let video: UInt32 = 0xE0
        static let pixelWidth: UInt32 = 0xB0
        static let pixelHeight: UInt32 = 0xBA
        static let audio: UInt32 = 0xE1
        static let samplingFrequency: UInt32 = 0xB5
        static let channels: UInt32 = 0x9F
        static let cluster: UInt32 = 0x1F43_B675
        static let timecode: UInt32 = 0xE7
        static let simpleBlock: UInt32 = 0xA3
        static let cues: UInt32 = 0x1C53_BB6B
        static let cuePoint: UInt32 = 0xBB
        static let cueTime: UInt32 = 0xB3
        static let cueTrackPositions: UInt32 = 0xB7
        static let cueTrack: UInt32 = 0xF7
        static let cueClusterPosition: UInt32 = 0xF1
        static let void: UInt32 = 0xEC
    }

    /// Size of the "unknown" marker for live streams (all value bits set, 8 bytes).
    static let unknownSize: [UInt8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]

    static func id(_ id: UInt32) -> [UInt8] {
        if id > 0xFF_FFFF { return [UInt8(id >> 24), UInt8(truncatingIfNeeded: id >> 16), UInt8(truncatingIfNeeded: id >> 8), UInt8(truncatingIfNeeded: id)] }
        if id > 0xFFFF { return [UInt8(id >> 16), UInt8(truncatingIfNeeded: id >> 8), UInt8(truncatingIfNeeded: id)] }
        if id > 0xFF { return [UInt8(id >> 8), UInt8(truncatingIfNeeded: id)] }
        return [UInt8(id)]
    }

    /// A size as a variable-length integer; `width` forces a length (for sizes patched later).
    static func size(_ value: UInt64, width: Int? = nil) -> [UInt8] {
        var length = width ?? 1
        if width == nil { while length < 8 && value >= (UInt64(1) << (7 * UInt64(length))) - 1 { length += 1 } }
        var out = [UInt8](repeating: 0, count: length)
        for i in 0..<length { out[length - 1 - i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        out[0] |= UInt8(0x80 >> (length - 1))
        return out
    }

    static func element(_ id: UInt32, _ data: [UInt8]) -> [UInt8] {
        Self.id(id) + size(UInt64(data.count)) + data
    }

    static func uint(_ id: UInt32, _ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        var v = value
        repeat {
            bytes.insert(UInt8(truncatingIfNeeded: v), at: 0)
            v >>= 8
        } while v > 0
        return element(id, bytes)
    }

    static func float(_ id: UInt32, _ value: Double) -> [UInt8] {
        let bits = value.bitPattern
        return element(id, (0..<8).map { UInt8(truncatingIfNeeded: bits >> (56 - 8 * UInt64($0))) })
    }

    static func string(_ id: UInt32, _ value: String) -> [UInt8] { element(id, Array(value.utf8)) }

    static func int(_ id: UInt32, _ value: Int64) -> [UInt8] {
        element(id, (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * Int64($0))) })
    }

    /// A Void element filling exactly `total` bytes (at least 2), to reserve room.
    static func void(_ total: Int) -> [UInt8] {
        precondition(total >= 2)
        if total - 2 < 127 { return [0xEC] + size(UInt64(total - 2), width: 1) + [UInt8](repeating: 0, count: total - 2) }
        return [0xEC] + size(UInt64(total - 9), width: 8) + [UInt8](repeating: 0, count: total - 9)
    }
}
