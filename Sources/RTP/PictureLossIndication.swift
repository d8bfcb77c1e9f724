import Bytes

/// Picture Loss Indication (RFC 4585 §6.3.1, PSFB FMT 1): "send me a key frame".
public struct PictureLossIndication: Sendable, Equatable {
    public static let format: UInt8 = 1
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32

    public init(senderSSRC: UInt32, mediaSSRC: UInt32) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        let (header, body) = try RTCPHeader.parse(bytes, expecting: RTCPPacketType.payloadFeedback)
        guard header.count == Self.format else { throw MalformedPacket("RTCP PLI: FMT \(header.count), expected 1") }
        var reader = ByteReader(body, what: "RTCP PLI")
        senderSSRC = try reader.u32("the sender SSRC")
        mediaSSRC = try reader.u32("the media SSRC")
    }

    public var serializedSize: Int { 12 }

    public func write(to writer: inout ByteWriter) {
        RTCPHeader.write(count: Self.format, packetType: RTCPPacketType.payloadFeedback, bodyLength: 8, to: &writer)
        writer.u32(senderSSRC)
        writer.u32(mediaSSRC)
    }
}
