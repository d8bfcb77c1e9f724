import Bytes

/// REMB (draft-alvestrand-rmcat-remb, PSFB FMT 15 with "REMB"): the receiver's bandwidth
/// estimate for a set of SSRCs, as an 18-bit mantissa and a 6-bit exponent.
public struct ReceiverEstimatedMaxBitrate: Sendable, Equatable {
    public static let format: UInt8 = 15
    static let identifier: [UInt8] = Array("REMB".utf8)

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    /// Bits per second.
    public var bitrate: UInt64
    public var ssrcs: [UInt32]

    public init(senderSSRC: UInt32, bitrate: UInt64, ssrcs: [UInt32], mediaSSRC: UInt32 = 0) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.bitrate = bitrate
        self.ssrcs = ssrcs
    }

    /// Whether a PSFB FMT 15 body is a REMB (and not another application-layer message).
    static func matches(_ body: ArraySlice<UInt8>) -> Bool {
        body.count >= 12 && Array(body.dropFirst(8).prefix(4)) == identifier
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        let common = try RTCPFeedbackHeader(parsing: bytes, packetType: RTCPPacketType.payloadFeedback,
                                            format: Self.format, what: "RTCP REMB")
        senderSSRC = common.senderSSRC
        mediaSSRC = common.mediaSSRC
        var reader = common.fci
        guard Array(try reader.take(4, "the identifier")) == Self.identifier else {
            throw MalformedPacket("RTCP REMB: identifier is not \"REMB\"")
        }
        let count = Int(try reader.u8("the SSRC count"))
        let packed = try reader.u24("the bitrate")
        let exponent = packed >> 18
        let mantissa = UInt64(packed & 0x3FFFF)
        guard exponent <= 46 else { throw MalformedPacket("RTCP REMB: bitrate exponent \(exponent) overflows") }
        bitrate = mantissa << exponent
        ssrcs = try (0..<count).map { _ in try reader.u32("an SSRC") }
    }

    public var serializedSize: Int { 20 + 4 * ssrcs.count }

    public func write(to writer: inout ByteWriter) {
        RTCPFeedbackHeader.write(packetType: RTCPPacketType.payloadFeedback, format: Self.format,
                                 senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, size: serializedSize, to: &writer)
        writer.append(Self.identifier)
        writer.u8(UInt8(ssrcs.count))
        var exponent: UInt64 = 0
        var mantissa = bitrate
        while mantissa > 0x3FFFF {
            mantissa >>= 1
            exponent += 1
        }
        writer.u24(UInt32(exponent << 18 | mantissa))
        for ssrc in ssrcs { writer.u32(ssrc) }
    }
}
