import Bytes

/// An RTP packet (RFC 3550 §5.1) with its header extension block (RFC 8285) kept as received,
/// so that a parsed packet re-serializes to the same bytes.
public struct RTPPacket: Sendable, Equatable {
    public var marker: Bool
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var csrcs: [UInt32]
    public var headerExtension: RTPHeaderExtension?
    public var payload: ArraySlice<UInt8>
    /// Padding bytes at the end, the last of which holds this count (0: no padding).
    public var paddingLength: UInt8

    public init(payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, marker: Bool = false,
                csrcs: [UInt32] = [], headerExtension: RTPHeaderExtension? = nil, payload: ArraySlice<UInt8> = [],
                paddingLength: UInt8 = 0) {
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.headerExtension = headerExtension
        self.payload = payload
        self.paddingLength = paddingLength
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        var reader = ByteReader(bytes, what: "RTP packet")
        let first = try reader.u8("the header")
        guard first >> 6 == 2 else { throw MalformedPacket("RTP packet: version \(first >> 6), expected 2") }
        let hasPadding = first & 0x20 != 0
        let hasExtension = first & 0x10 != 0
        let csrcCount = Int(first & 0x0F)
        let second = try reader.u8("the header")
        marker = second & 0x80 != 0
        payloadType = second & 0x7F
        sequenceNumber = try reader.u16("the sequence number")
        timestamp = try reader.u32("the timestamp")
        ssrc = try reader.u32("the SSRC")
        var csrcs: [UInt32] = []
        csrcs.reserveCapacity(csrcCount)
        for _ in 0..<csrcCount { csrcs.append(try reader.u32("a CSRC")) }
        self.csrcs = csrcs
        if hasExtension {
            let profile = try reader.u16("the extension profile")
            let words = Int(try reader.u16("the extension length"))
            headerExtension = RTPHeaderExtension(profile: profile, data: try reader.take(words * 4, "the header extension"))
        } else {
            headerExtension = nil
        }
        var body = reader.rest()
        paddingLength = 0
        if hasPadding {
            guard let count = body.last, count > 0, Int(count) <= body.count else {
                throw MalformedPacket("RTP packet: padding count larger than the payload")
            }
            paddingLength = count
            body = body.dropLast(Int(count))
        }
        payload = body
    }

    public init(parsing bytes: [UInt8]) throws {
        try self.init(parsing: bytes[...])
    }

    public var headerSize: Int {
        12 + 4 * csrcs.count + (headerExtension.map { 4 + $0.data.count } ?? 0)
    }

    public var serializedSize: Int { headerSize + payload.count + Int(paddingLength) }

    public func serialize() -> [UInt8] {
        var writer = ByteWriter(capacity: serializedSize)
        write(to: &writer)
        return writer.bytes
    }

    public func write(to writer: inout ByteWriter) {
        var first: UInt8 = 0x80 | UInt8(csrcs.count & 0x0F)
        if paddingLength > 0 { first |= 0x20 }
        if headerExtension != nil { first |= 0x10 }
        writer.u8(first)
        writer.u8((marker ? 0x80 : 0) | (payloadType & 0x7F))
        writer.u16(sequenceNumber)
        writer.u32(timestamp)
        writer.u32(ssrc)
        for csrc in csrcs { writer.u32(csrc) }
        if let headerExtension {
            writer.u16(headerExtension.profile)
            writer.u16(UInt16(headerExtension.data.count / 4))
            writer.append(headerExtension.data)
        }
        writer.append(payload)
        if paddingLength > 0 {
            writer.zeros(Int(paddingLength) - 1)
            writer.u8(paddingLength)
        }
    }

    /// The data of header-extension element `id`, if present.
    public func extensionElement(_ id: UInt8) -> ArraySlice<UInt8>? {
        headerExtension?.element(id)
    }

    /// RTCP and RTP share a port (RFC 5761): RTCP packet types 192...223 sit where RTP has
    /// marker + payload type; RTP payload types 64...95 are never used for that reason.
    public static func isRTCP(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 2 else { return false }
        let type = bytes[bytes.startIndex + 1]
        return type >= 192 && type <= 223
    }
}
