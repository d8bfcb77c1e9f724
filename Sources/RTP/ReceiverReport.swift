import Bytes

/// RTCP Receiver Report (RFC 3550 §6.4.2, PT 201).
public struct ReceiverReport: Sendable, Equatable {
    public var ssrc: UInt32
    public var reports: [ReceptionReport]
    public var profileExtension: ArraySlice<UInt8>

    public init(ssrc: UInt32, reports: [ReceptionReport] = [], profileExtension: ArraySlice<UInt8> = []) {
        self.ssrc = ssrc
        self.reports = reports
        self.profileExtension = profileExtension
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        let (header, body) = try RTCPHeader.parse(bytes, expecting: RTCPPacketType.receiverReport)
        var reader = ByteReader(body, what: "RTCP RR")
        let ssrc = try reader.u32("the sender SSRC")
        let blocks = try ReportBlocks(reading: &reader, count: header.count, in: Self.self)
        self.init(ssrc: ssrc, reports: blocks.reports, profileExtension: blocks.profileExtension)
    }

    public var serializedSize: Int { 8 + ReportBlocks.size(of: reports, profileExtension: profileExtension) }

    public func write(to writer: inout ByteWriter) {
        RTCPHeader.write(count: UInt8(reports.count), packetType: RTCPPacketType.receiverReport,
                         bodyLength: serializedSize - 4, to: &writer)
        writer.u32(ssrc)
        ReportBlocks.write(reports, profileExtension: profileExtension, to: &writer)
    }
}
