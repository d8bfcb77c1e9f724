/// An Ogg Opus file (RFC 7845 in RFC 3533 pages), read whole into memory.
///
/// A page: "OggS", version 0, header type (1 continued packet, 2 first page of a stream, 4 last
/// page), granule position (u64), serial (u32), sequence (u32), CRC (u32), a segment count and
/// that many lacing values, then the body. All little-endian. A packet is a run of lacing values
/// of 255 ended by one below 255, and may go on across pages. The first Opus stream of the file
/// is read (other multiplexed streams are skipped, chained ones after its last page ignored): the
/// OpusHead packet, OpusTags, then the audio packets, each with its duration from its TOC byte
/// (RFC 6716 §3.1). Malformed input, and files with more packets than `ReplayLimits` allows,
/// throw `ReplayFormatError`, never trap.
public struct OggOpusReader: Sendable {
    public struct Packet: IndexedFrame, Equatable {
        public var data: [UInt8]
        /// Its duration in 48 kHz samples (Opus always counts at 48 kHz).
        public var samples: Int
        public var duration: Double { Double(samples) / 48000 }
    }

    /// The audio packets end to end in one buffer (a packet may span pages, so they are not
    /// ranges of the file), plus 12 bytes a packet: what the index keeps is the packet's
    /// samples. Subscripting makes a `Packet` (copying its bytes); `data(at:)` does not copy.
    public typealias Packets = FrameIndex<Packet>

    /// Audio packets larger than this are taken for garbage (RFC 6716 allows 120 ms of frames
    /// of at most 1275 bytes, a little over 61 kB).
    public static let maxAudioPacketSize = 61_440
    /// Header packets (OpusTags may carry pictures) larger than this are taken for garbage.
    public static let maxHeaderPacketSize = 16 << 20

    public let channels: Int
    /// Samples (at 48 kHz) a decoder drops at the start (RFC 7845 §4.2); RTP has no notion of it.
    public let preSkip: Int
    /// The rate of the encoder's input, for information only: Opus runs at 48 kHz.
    public let inputSampleRate: Int
    /// Q7.8 dB.
    public let outputGain: Int
    public let mappingFamily: Int
    public let vendor: String
    public let serial: UInt32
    public let packets: Packets

    public init(parsing bytes: [UInt8]) throws {
        func fail(_ why: String) -> ReplayFormatError { ReplayFormatError(why) }
        guard bytes.count >= 4, bytes[0..<4].elementsEqual("OggS".utf8) else { throw fail("not an Ogg file (no OggS capture pattern)") }

        guard bytes.count <= ReplayLimits.maxFileSize else {
            throw fail("Ogg file of \(bytes.count) bytes is larger than a clip may be (\(ReplayLimits.maxFileSize) bytes)")
        }

        var head: (channels: Int, preSkip: Int, rate: Int, gain: Int, family: Int)?
        var vendor: String?
        // Audio packets end to end, then the packet being read (from `pendingStart`, while it
        // goes on across pages): packets grow in place, none is an allocation of its own.
        var payload: [UInt8] = []
        payload.reserveCapacity(bytes.count)  // it never holds more than the file: no regrowth, no slack beyond the file's size
        var entries: [Packets.Entry] = []
        var pendingStart: Int?
        var serial: UInt32?
        var expectedSequence: UInt32 = 0
        var packetIndex = 0
        var offset = 0
        var page = 0

        /// The packet from `start` to the end of `payload`, just completed.
        func take(_ start: Int) throws {
            defer { packetIndex += 1 }
            switch packetIndex {
            case 0, 1:
                // Header packets are parsed and dropped from the buffer.
                let packet = Array(payload[start...])
                payload.removeSubrange(start...)
                if packetIndex == 0 { head = try Self.parseHead(packet) } else { vendor = try Self.parseTags(packet) }
            default:
                let index = packetIndex - 2
                let size = payload.count - start
                guard size > 0 else { throw fail("audio packet \(index) is empty") }
                guard size <= Self.maxAudioPacketSize else { throw fail("audio packet \(index): absurd size \(size) bytes") }
                guard index < ReplayLimits.maxFrameCount else {
                    throw fail("more than \(ReplayLimits.maxFrameCount) audio packets, more than a clip may hold")
                }
                do {
                    let samples = try Self.samples(in: payload[start...])
                    // The file size is checked above (offsets fit in 32 bits); samples ≤ 5760.
                    entries.append(Packets.Entry(start: UInt32(start), size: UInt32(size), info: UInt16(samples)))
                } catch let error as ReplayFormatError {
                    throw fail("audio packet \(index): \(error.reason)")
                }
            }
        }

        pages: while offset < bytes.count {
            let at = "page \(page) at byte \(offset)"
            guard bytes.count - offset >= 27 else { throw fail("\(at): header truncated (\(bytes.count - offset) of 27 bytes)") }
            guard bytes[offset..<(offset + 4)].elementsEqual("OggS".utf8) else { throw fail("\(at): no OggS capture pattern") }
            guard bytes[offset + 4] == 0 else { throw fail("\(at): Ogg version \(bytes[offset + 4]) is not supported (only 0)") }
            let flags = bytes[offset + 5]
            let continued = flags & 1 != 0, first = flags & 2 != 0, last = flags & 4 != 0
            let pageSerial = LittleEndian.u32(bytes, offset + 14)
            let sequence = LittleEndian.u32(bytes, offset + 18)
            let storedCRC = LittleEndian.u32(bytes, offset + 22)
            let segments = Int(bytes[offset + 26])
            let bodyStart = offset + 27 + segments
            guard bodyStart <= bytes.count else { throw fail("\(at): segment table of \(segments) runs past the end of the file") }
            let lacing = bytes[(offset + 27)..<bodyStart]
            let bodySize = lacing.reduce(0) { $0 + Int($1) }
            let pageEnd = bodyStart + bodySize
            guard pageEnd <= bytes.count else {
                throw fail("\(at): lacing says \(bodySize) bytes of packets, only \(bytes.count - bodyStart) left in the file")
            }
            var crc = Self.crc(bytes[offset..<(offset + 22)])
            crc = Self.crc([0, 0, 0, 0], crc)
            crc = Self.crc(bytes[(offset + 26)..<pageEnd], crc)
            guard crc == storedCRC else {
                throw fail("\(at): CRC mismatch (stored \(Self.hex(storedCRC)), computed \(Self.hex(crc)))")
            }
            defer {
                offset = pageEnd
                page += 1
            }

            if serial == nil {
                // Beginning-of-stream pages come first; the Opus stream is the one whose first
                // packet is an OpusHead.
                guard first else { throw fail("no Opus stream in this Ogg file (no stream begins with an OpusHead packet)") }
                guard !continued else { throw fail("\(at): the first page of a stream continues a packet") }
                guard bytes[bodyStart..<pageEnd].starts(with: "OpusHead".utf8) else { continue }
                serial = pageSerial
                expectedSequence = sequence
            }
            guard pageSerial == serial else { continue }
            guard sequence == expectedSequence else {
                throw fail("\(at): page sequence jumps from \(expectedSequence) to \(sequence) (a page is missing)")
            }
            expectedSequence &+= 1
            if continued && pendingStart == nil { throw fail("\(at): continues a packet that no page began") }
            if !continued && pendingStart != nil { throw fail("\(at): does not continue the packet the page before left unfinished") }

            var start = bodyStart
            for value in lacing {
                let size = Int(value)
                let packetStart = pendingStart ?? payload.count
                payload.append(contentsOf: bytes[start..<(start + size)])
                start += size
                guard payload.count - packetStart <= Self.maxHeaderPacketSize else {
                    throw fail("\(at): absurd packet of more than \(Self.maxHeaderPacketSize) bytes")
                }
                if value < 255 {
                    pendingStart = nil
                    try take(packetStart)
                } else {
                    pendingStart = packetStart
                }
            }
            if last { break pages }
        }

        if pendingStart != nil { throw fail("the last packet is cut off (it goes on past the last page)") }
        guard let head, let serial else { throw fail(packetIndex == 0 ? "no Opus stream in this Ogg file" : "no OpusHead packet") }
        guard let vendor else { throw fail("the stream ends before its OpusTags packet") }
        guard !entries.isEmpty else { throw fail("the Opus stream has no audio packets") }
        channels = head.channels
        preSkip = head.preSkip
        inputSampleRate = head.rate
        outputGain = head.gain
        mappingFamily = head.family
        self.vendor = vendor
        self.serial = serial
        packets = Packets(bytes: payload, entries: entries)
    }

    /// The total duration of the audio packets, in seconds.
    public var duration: Double { Double(packets.entries.reduce(0) { $0 + Int($1.info) }) / 48000 }

    /// RFC 6716 §3.1: the TOC byte's configuration gives the frame size (SILK 10/20/40/60 ms,
    /// hybrid 10/20 ms, CELT 2.5/5/10/20 ms), its code the number of frames (0: one, 1 and 2:
    /// two, 3: the count in the next byte). In 48 kHz samples.
    public static func samples(in packet: ArraySlice<UInt8>) throws -> Int {
        guard let toc = packet.first else { throw ReplayFormatError("empty Opus packet") }
        let config = Int(toc >> 3)
        let frameSize: Int
        switch config {
        case 0...11: frameSize = [480, 960, 1920, 2880][config % 4]
        case 12...15: frameSize = [480, 960][config % 2]
        default: frameSize = [120, 240, 480, 960][config % 4]
        }
        let count: Int
        switch toc & 3 {
        case 0: count = 1
        case 1, 2: count = 2
        default:
            guard packet.count >= 2 else { throw ReplayFormatError("code 3 Opus packet without its frame count byte") }
            count = Int(packet[packet.startIndex + 1] & 0x3F)
            guard count > 0 else { throw ReplayFormatError("code 3 Opus packet of 0 frames") }
        }
        let samples = frameSize * count
        guard samples <= 5760 else {
            throw ReplayFormatError("Opus packet of \(count) frames of \(Double(frameSize) / 48) ms lasts over the 120 ms allowed")
        }
        return samples
    }

    /// RFC 7845 §5.1.
    private static func parseHead(_ p: [UInt8]) throws -> (channels: Int, preSkip: Int, rate: Int, gain: Int, family: Int) {
        guard p.starts(with: "OpusHead".utf8) else { throw ReplayFormatError("the first packet is not an OpusHead") }
        guard p.count >= 19 else { throw ReplayFormatError("OpusHead truncated (\(p.count) of 19 bytes)") }
        guard p[8] >> 4 == 0 else { throw ReplayFormatError("OpusHead version \(p[8]) is not supported") }
        let channels = Int(p[9])
        guard channels > 0 else { throw ReplayFormatError("OpusHead with 0 channels") }
        let family = Int(p[18])
        if family == 0 {
            guard channels <= 2 else { throw ReplayFormatError("OpusHead: mapping family 0 with \(channels) channels") }
        } else {
            guard p.count >= 21 + channels else { throw ReplayFormatError("OpusHead: channel mapping table truncated") }
            let streams = Int(p[19]), coupled = Int(p[20])
            guard streams == 1, coupled <= 1, channels <= 2 else {
                throw ReplayFormatError("multistream Opus (\(streams) streams, \(channels) channels) is not supported: WebRTC sends one stream, mono or stereo")
            }
        }
        let gain = Int(Int16(bitPattern: LittleEndian.u16(p, 16)))
        return (channels, Int(LittleEndian.u16(p, 10)), Int(LittleEndian.u32(p, 12)), gain, family)
    }

    /// RFC 7845 §5.2: the magic and the vendor string (the comments are not needed).
    private static func parseTags(_ p: [UInt8]) throws -> String {
        guard p.starts(with: "OpusTags".utf8) else { throw ReplayFormatError("the second packet is not an OpusTags") }
        guard p.count >= 12 else { throw ReplayFormatError("OpusTags truncated (\(p.count) bytes)") }
        let length = Int(LittleEndian.u32(p, 8))
        guard length <= p.count - 12 else { throw ReplayFormatError("OpusTags: vendor string of \(length) bytes runs past the packet") }
        return String(decoding: p[12..<(12 + length)], as: UTF8.self)
    }

    /// Ogg's CRC-32 (RFC 3533 §6): polynomial 0x04C11DB7, MSB first, initial 0, no final XOR.
    public static func crc(_ bytes: some Sequence<UInt8>, _ initial: UInt32 = 0) -> UInt32 {
        var crc = initial
        for byte in bytes { crc = crc << 8 ^ crcTable[Int(crc >> 24 ^ UInt32(byte))] }
        return crc
    }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        var r = UInt32(index) << 24
        for _ in 0..<8 { r = r & 0x8000_0000 != 0 ? r << 1 ^ 0x04C1_1DB7 : r << 1 }
        return r
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

extension OggOpusReader.Packet {
    public init(data: [UInt8], info samples: UInt16) {
        self.init(data: data, samples: Int(samples))
    }
}

extension FrameIndex where Frame == OggOpusReader.Packet {
    public func samples(at index: Int) -> Int { Int(info(at: index)) }
}
