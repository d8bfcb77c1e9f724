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
        ssrc = try reader.u32("the sender SSRC")
        reports = try (0..<Int(header.count)).map { _ in try ReceptionReport(reading: &reader) }
        profileExtension = reader.rest()
        // Profile extensions are whole 32-bit words (RFC 3550 §6.4.1); anything else means a
        // padding count that cut into them, and would not serialize back to the same length.
        guard profileExtension.count % 4 == 0 else {
            throw MalformedPacket("RTCP \(Self.self): profile extension of \(profileExtension.count) bytes is not 32-bit aligned")
        }
    }

    public var serializedSize: Int { 8 + ReceptionReport.size * reports.count + profileExtension.count }

    public func write(to writer: inout ByteWriter) {
        RTCPHeader.write(count: UInt8(reports.count), packetType: RTCPPacketType.receiverReport,
                         bodyLength: serializedSize - 4, to: &writer)
        writer.u32(ssrc)
        for report in reports { report.write(to: &writer) }
        writer.append(profileExtension)
    }
}
