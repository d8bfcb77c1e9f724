import Bytes

/// What ends both an SR and an RR (RFC 3550 §6.4.1–2): the report blocks, as many as the
/// header's count says, then a profile-specific extension of whole 32-bit words.
struct ReportBlocks {
    var reports: [ReceptionReport]
    var profileExtension: ArraySlice<UInt8>

    /// Reads the rest of `reader`; `Packet` names the report in errors.
    init<Packet>(reading reader: inout ByteReader, count: UInt8, in _: Packet.Type) throws {
        reports = try (0..<Int(count)).map { _ in try ReceptionReport(reading: &reader) }
        profileExtension = reader.rest()
        // Anything but whole words means a padding count that cut into the extension, and
        // would not serialize back to the same length.
        guard profileExtension.count % 4 == 0 else {
            throw MalformedPacket("RTCP \(Packet.self): profile extension of \(profileExtension.count) bytes is not 32-bit aligned")
        }
    }

    /// Bytes the blocks and the extension take.
    static func size(of reports: [ReceptionReport], profileExtension: ArraySlice<UInt8>) -> Int {
        ReceptionReport.size * reports.count + profileExtension.count
    }

    static func write(_ reports: [ReceptionReport], profileExtension: ArraySlice<UInt8>, to writer: inout ByteWriter) {
        for report in reports { report.write(to: &writer) }
        writer.append(profileExtension)
    }
}
