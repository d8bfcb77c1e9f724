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
        let common = try RTCPFeedbackHeader(parsing: bytes, packetType: RTCPPacketType.payloadFeedback,
                                            format: Self.format, what: "RTCP PLI")
        self.init(senderSSRC: common.senderSSRC, mediaSSRC: common.mediaSSRC)
    }

    public var serializedSize: Int { 12 }

    public func write(to writer: inout ByteWriter) {
        RTCPFeedbackHeader.write(packetType: RTCPPacketType.payloadFeedback, format: Self.format,
                                 senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, size: serializedSize, to: &writer)
    }
}
