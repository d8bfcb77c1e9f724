import Bytes

/// RTCP BYE (RFC 3550 §6.6, PT 203): sources leaving, with an optional reason.
public struct Goodbye: Sendable, Equatable {
    public var ssrcs: [UInt32]
    public var reason: String?

    public init(ssrcs: [UInt32], reason: String? = nil) {
        self.ssrcs = ssrcs
        self.reason = reason
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        let (header, body) = try RTCPHeader.parse(bytes, expecting: RTCPPacketType.goodbye)
        var reader = ByteReader(body, what: "RTCP BYE")
        ssrcs = try (0..<Int(header.count)).map { _ in try reader.u32("an SSRC") }
        if reader.isAtEnd {
            reason = nil
        } else {
            let length = Int(try reader.u8("the reason length"))
            reason = String(decoding: try reader.take(length, "the reason"), as: UTF8.self)
        }
    }

    private var reasonBytes: [UInt8]? { reason.map { Array($0.utf8.prefix(255)) } }

    public var serializedSize: Int {
        4 + 4 * ssrcs.count + (reasonBytes.map { ($0.count + 1 + 3) / 4 * 4 } ?? 0)
    }

    public func write(to writer: inout ByteWriter) {
        RTCPHeader.write(count: UInt8(ssrcs.count), packetType: RTCPPacketType.goodbye, bodyLength: serializedSize - 4, to: &writer)
        for ssrc in ssrcs { writer.u32(ssrc) }
        if let reasonBytes {
            writer.u8(UInt8(reasonBytes.count))
            writer.append(reasonBytes)
            writer.zeros((4 - (reasonBytes.count + 1) % 4) % 4)
        }
    }
}
