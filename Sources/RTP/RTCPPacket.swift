import Bytes

/// One packet of an RTCP compound, by type. Unknown types become `.other` and never fail.
public enum RTCPPacket: Sendable, Equatable {
    case senderReport(SenderReport)
    case receiverReport(ReceiverReport)
    case sourceDescription(SourceDescription)
    case goodbye(Goodbye)
    case nack(GenericNACK)
    case transportCC(TransportCCFeedback)
    case pli(PictureLossIndication)
    case fir(FullIntraRequest)
    case remb(ReceiverEstimatedMaxBitrate)
    case other(RawRTCPPacket)

    /// Splits a compound packet (RFC 3550 §6.1) and parses each part. Throws if a length does
    /// not add up or a known packet is malformed.
    public static func parseCompound(_ bytes: ArraySlice<UInt8>) throws -> [RTCPPacket] {
        guard !bytes.isEmpty else { throw MalformedPacket("RTCP compound: empty") }
        var packets: [RTCPPacket] = []
        var rest = bytes
        while !rest.isEmpty {
            let (header, body) = try RTCPHeader.parse(rest)
            let packet = rest.prefix(header.length)
            packets.append(try parse(packet, header: header, body: body))
            rest = rest.dropFirst(header.length)
        }
        return packets
    }

    public static func parseCompound(_ bytes: [UInt8]) throws -> [RTCPPacket] {
        try parseCompound(bytes[...])
    }

    private static func parse(_ packet: ArraySlice<UInt8>, header: RTCPHeader, body: ArraySlice<UInt8>) throws -> RTCPPacket {
        switch (header.packetType, header.count) {
        case (RTCPPacketType.senderReport, _): return .senderReport(try SenderReport(parsing: packet))
        case (RTCPPacketType.receiverReport, _): return .receiverReport(try ReceiverReport(parsing: packet))
        case (RTCPPacketType.sourceDescription, _): return .sourceDescription(try SourceDescription(parsing: packet))
        case (RTCPPacketType.goodbye, _): return .goodbye(try Goodbye(parsing: packet))
        case (RTCPPacketType.transportFeedback, GenericNACK.format): return .nack(try GenericNACK(parsing: packet))
        case (RTCPPacketType.transportFeedback, TransportCCFeedback.format): return .transportCC(try TransportCCFeedback(parsing: packet))
        case (RTCPPacketType.payloadFeedback, PictureLossIndication.format): return .pli(try PictureLossIndication(parsing: packet))
        case (RTCPPacketType.payloadFeedback, FullIntraRequest.format): return .fir(try FullIntraRequest(parsing: packet))
        case (RTCPPacketType.payloadFeedback, ReceiverEstimatedMaxBitrate.format) where ReceiverEstimatedMaxBitrate.matches(body):
            return .remb(try ReceiverEstimatedMaxBitrate(parsing: packet))
        default:
            return .other(try RawRTCPPacket(parsing: packet))
        }
    }

    public var serializedSize: Int {
        switch self {
        case .senderReport(let p): return p.serializedSize
        case .receiverReport(let p): return p.serializedSize
        case .sourceDescription(let p): return p.serializedSize
        case .goodbye(let p): return p.serializedSize
        case .nack(let p): return p.serializedSize
        case .transportCC(let p): return p.serializedSize
        case .pli(let p): return p.serializedSize
        case .fir(let p): return p.serializedSize
        case .remb(let p): return p.serializedSize
        case .other(let p): return p.serializedSize
        }
    }

    public func write(to writer: inout ByteWriter) {
        switch self {
        case .senderReport(let p): p.write(to: &writer)
        case .receiverReport(let p): p.write(to: &writer)
        case .sourceDescription(let p): p.write(to: &writer)
        case .goodbye(let p): p.write(to: &writer)
        case .nack(let p): p.write(to: &writer)
        case .transportCC(let p): p.write(to: &writer)
        case .pli(let p): p.write(to: &writer)
        case .fir(let p): p.write(to: &writer)
        case .remb(let p): p.write(to: &writer)
        case .other(let p): p.write(to: &writer)
        }
    }

    public static func serializeCompound(_ packets: [RTCPPacket]) -> [UInt8] {
        var writer = ByteWriter(capacity: packets.reduce(0) { $0 + $1.serializedSize })
        for packet in packets { packet.write(to: &writer) }
        return writer.bytes
    }
}
