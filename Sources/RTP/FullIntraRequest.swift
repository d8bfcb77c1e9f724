import Bytes

/// Full Intra Request (RFC 5104 §4.3.1, PSFB FMT 4): a key-frame request per SSRC with a
/// sequence number that grows with each new request.
public struct FullIntraRequest: Sendable, Equatable {
    public static let format: UInt8 = 4

    public struct Entry: Sendable, Equatable, FeedbackControlItem {
        public var ssrc: UInt32
        public var sequenceNumber: UInt8

        public init(ssrc: UInt32, sequenceNumber: UInt8) {
            self.ssrc = ssrc
            self.sequenceNumber = sequenceNumber
        }

        static let size = 8

        init(reading reader: inout ByteReader) throws {
            ssrc = try reader.u32("an entry SSRC")
            sequenceNumber = try reader.u8("an entry sequence number")
            try reader.skip(3, "reserved bytes")
        }

        func write(to writer: inout ByteWriter) {
            writer.u32(ssrc)
            writer.u8(sequenceNumber)
            writer.zeros(3)
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
        var common = try RTCPFeedbackHeader(parsing: bytes, packetType: RTCPPacketType.payloadFeedback,
                                            format: Self.format, what: "RTCP FIR")
        self.init(senderSSRC: common.senderSSRC, mediaSSRC: common.mediaSSRC, entries: try common.readItems("entries"))
    }

    public var serializedSize: Int { RTCPFeedbackHeader.size(of: entries) }

    public func write(to writer: inout ByteWriter) {
        RTCPFeedbackHeader.write(packetType: RTCPPacketType.payloadFeedback, format: Self.format,
                                 senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, items: entries, to: &writer)
    }
}
