import Bytes

/// Full Intra Request (RFC 5104 §4.3.1, PSFB FMT 4): a key-frame request per SSRC with a
/// sequence number that grows with each new request.
public struct FullIntraRequest: Sendable, Equatable {
    public static let format: UInt8 = 4

    public struct Entry: Sendable, Equatable {
        public var ssrc: UInt32
        public var sequenceNumber: UInt8

        public init(ssrc: UInt32, sequenceNumber: UInt8) {
            self.ssrc = ssrc
            self.sequenceNumber = sequenceNumber
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var entries: [Entry]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32 = 0, entries: [Entry]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.entries = entries
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        let (header, body) = try RTCPHeader.parse(bytes, expecting: RTCPPacketType.payloadFeedback)
        guard header.count == Self.format else { throw MalformedPacket("RTCP FIR: FMT \(header.count), expected 4") }
        var reader = ByteReader(body, what: "RTCP FIR")
        senderSSRC = try reader.u32("the sender SSRC")
        mediaSSRC = try reader.u32("the media SSRC")
        guard reader.remaining % 8 == 0, reader.remaining > 0 else { throw MalformedPacket("RTCP FIR: no FCI entries") }
        var entries: [Entry] = []
        while !reader.isAtEnd {
            let ssrc = try reader.u32("an entry SSRC")
            let seq = try reader.u8("an entry sequence number")
            try reader.skip(3, "reserved bytes")
            entries.append(Entry(ssrc: ssrc, sequenceNumber: seq))
        }
        self.entries = entries
    }

    public var serializedSize: Int { 12 + 8 * entries.count }

    public func write(to writer: inout ByteWriter) {
        RTCPHeader.write(count: Self.format, packetType: RTCPPacketType.payloadFeedback, bodyLength: serializedSize - 4, to: &writer)
        writer.u32(senderSSRC)
        writer.u32(mediaSSRC)
        for entry in entries {
            writer.u32(entry.ssrc)
            writer.u8(entry.sequenceNumber)
            writer.zeros(3)
        }
    }
}
