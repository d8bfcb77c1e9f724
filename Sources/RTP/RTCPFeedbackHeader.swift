import Bytes

/// The part every RTCP feedback message starts with (RFC 4585 §6.1): the RTCP header, whose
/// count field holds the feedback message type (FMT), then the SSRC of the packet sender and
/// the SSRC of the media source. The feedback control information (FCI) follows.
struct RTCPFeedbackHeader {
    var header: RTCPHeader
    var senderSSRC: UInt32
    var mediaSSRC: UInt32
    /// Positioned at the FCI, with the padding removed.
    var fci: ByteReader
    /// Names the message in errors ("RTCP PLI").
    let what: String

    /// Parses the common part of a feedback message of `packetType` and `format`.
    init(parsing bytes: ArraySlice<UInt8>, packetType: UInt8, format: UInt8, what: String) throws {
        let (header, body) = try RTCPHeader.parse(bytes, expecting: packetType)
        guard header.count == format else { throw MalformedPacket("\(what): FMT \(header.count), expected \(format)") }
        var reader = ByteReader(body, what: what)
        self.header = header
        senderSSRC = try reader.u32("the sender SSRC")
        mediaSSRC = try reader.u32("the media SSRC")
        fci = reader
        self.what = what
    }

    /// Reads the whole FCI as a list of one or more items (FIR entries, NACK PID+BLP pairs);
    /// `plural` names them in the error for an empty or ragged list ("entries").
    mutating func readItems<Item: FeedbackControlItem>(_ plural: String) throws -> [Item] {
        guard fci.remaining % Item.size == 0, fci.remaining > 0 else { throw MalformedPacket("\(what): no FCI \(plural)") }
        var items: [Item] = []
        while !fci.isAtEnd { items.append(try Item(reading: &fci)) }
        return items
    }

    /// Writes the common part of a feedback message that is `size` bytes long in all.
    static func write(packetType: UInt8, format: UInt8, senderSSRC: UInt32, mediaSSRC: UInt32, size: Int,
                      to writer: inout ByteWriter) {
        RTCPHeader.write(count: format, packetType: packetType, bodyLength: size - 4, to: &writer)
        writer.u32(senderSSRC)
        writer.u32(mediaSSRC)
    }

    /// Writes a whole feedback message whose FCI is `items`.
    static func write<Item: FeedbackControlItem>(packetType: UInt8, format: UInt8, senderSSRC: UInt32, mediaSSRC: UInt32,
                                                 items: [Item], to writer: inout ByteWriter) {
        write(packetType: packetType, format: format, senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, size: size(of: items), to: &writer)
        for item in items { item.write(to: &writer) }
    }

    /// Bytes a feedback message takes whose FCI is `items`.
    static func size<Item: FeedbackControlItem>(of items: [Item]) -> Int { 12 + Item.size * items.count }
}

/// One item of an FCI that is a list of equal-sized items.
protocol FeedbackControlItem {
    static var size: Int { get }
    init(reading reader: inout ByteReader) throws
    func write(to writer: inout ByteWriter)
}
