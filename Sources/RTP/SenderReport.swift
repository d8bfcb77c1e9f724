import Bytes

/// RTCP Sender Report (RFC 3550 §6.4.1, PT 200): the NTP ↔ RTP timestamp pair receivers use
/// to align streams, the sender's counters, and report blocks.
public struct SenderReport: Sendable, Equatable {
    public var ssrc: UInt32
    /// 64-bit NTP timestamp: seconds since 1900 in the high 32 bits, fraction in the low.
    public var ntpTimestamp: UInt64
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    public var reports: [ReceptionReport]
    public var profileExtension: ArraySlice<UInt8>

    public init(ssrc: UInt32, ntpTimestamp: UInt64, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32,
                reports: [ReceptionReport] = [], profileExtension: ArraySlice<UInt8> = []) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reports = reports
        self.profileExtension = profileExtension
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        let (header, body) = try RTCPHeader.parse(bytes, expecting: RTCPPacketType.senderReport)
        var reader = ByteReader(body, what: "RTCP SR")
        ssrc = try reader.u32("the sender SSRC")
        ntpTimestamp = try reader.u64("the NTP timestamp")
        rtpTimestamp = try reader.u32("the RTP timestamp")
        packetCount = try reader.u32("the packet count")
        octetCount = try reader.u32("the octet count")
        let blocks = try ReportBlocks(reading: &reader, count: header.count, in: Self.self)
        reports = blocks.reports
        profileExtension = blocks.profileExtension
    }

    public var serializedSize: Int { 28 + ReportBlocks.size(of: reports, profileExtension: profileExtension) }

    public func write(to writer: inout ByteWriter) {
        RTCPHeader.write(count: UInt8(reports.count), packetType: RTCPPacketType.senderReport,
                         bodyLength: serializedSize - 4, to: &writer)
        writer.u32(ssrc)
        writer.u64(ntpTimestamp)
        writer.u32(rtpTimestamp)
        writer.u32(packetCount)
        writer.u32(octetCount)
        ReportBlocks.write(reports, profileExtension: profileExtension, to: &writer)
    }
}
