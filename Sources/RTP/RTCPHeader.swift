import Bytes

/// The 4-byte header every RTCP packet starts with (RFC 3550 §6.4): version, padding, a 5-bit
/// count or feedback format, packet type, and length in 32-bit words minus one.
public struct RTCPHeader: Sendable, Equatable {
    public var padding: Bool
    /// Report count, item count or feedback message type (FMT), by packet type.
    public var count: UInt8
    public var packetType: UInt8
    /// Length of the whole packet in bytes (header included).
    public var length: Int

    public init(count: UInt8, packetType: UInt8, length: Int, padding: Bool = false) {
        self.padding = padding
        self.count = count
        self.packetType = packetType
        self.length = length
    }

    /// Reads the header at the start of `bytes` and returns it with the packet body (after
    /// the header, padding removed).
    public static func parse(_ bytes: ArraySlice<UInt8>, expecting type: UInt8? = nil) throws -> (RTCPHeader, ArraySlice<UInt8>) {
        var reader = ByteReader(bytes, what: "RTCP packet")
        let first = try reader.u8("the header")
        guard first >> 6 == 2 else { throw MalformedPacket("RTCP packet: version \(first >> 6), expected 2") }
        let packetType = try reader.u8("the packet type")
        let words = Int(try reader.u16("the length"))
        let length = (words + 1) * 4
        guard length <= bytes.count else {
            throw MalformedPacket("RTCP packet: length \(length) exceeds the \(bytes.count) bytes received")
        }
        if let type, type != packetType {
            throw MalformedPacket("RTCP packet: type \(packetType), expected \(type)")
        }
        let header = RTCPHeader(count: first & 0x1F, packetType: packetType, length: length, padding: first & 0x20 != 0)
        var body = bytes[(bytes.startIndex + 4)..<(bytes.startIndex + length)]
        if header.padding {
            guard let pad = body.last, pad > 0, Int(pad) <= body.count else {
                throw MalformedPacket("RTCP packet: bad padding count")
            }
            body = body.dropLast(Int(pad))
        }
        return (header, body)
    }

    /// Writes a header for a packet whose body is `bodyLength` bytes (a multiple of 4).
    public static func write(count: UInt8, packetType: UInt8, bodyLength: Int, to writer: inout ByteWriter) {
        writer.u8(0x80 | (count & 0x1F))
        writer.u8(packetType)
        writer.u16(UInt16(bodyLength / 4))
    }
}

/// RTCP packet types (RFC 3550, RFC 4585, RFC 3611).
public enum RTCPPacketType {
    public static let senderReport: UInt8 = 200
    public static let receiverReport: UInt8 = 201
    public static let sourceDescription: UInt8 = 202
    public static let goodbye: UInt8 = 203
    public static let application: UInt8 = 204
    public static let transportFeedback: UInt8 = 205
    public static let payloadFeedback: UInt8 = 206
    public static let extendedReport: UInt8 = 207
}
