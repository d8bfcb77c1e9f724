import RTP

/// The RTCP a receiver sends once a second (RFC 3550 §6.4.2): receiver reports with at most
/// 31 report blocks each, then an SDES with its CNAME.
public enum ReceiverReportBuilder {
    public static func compound(ssrc: UInt32, cname: String, reports: [ReceptionReport]) -> [RTCPPacket] {
        guard !reports.isEmpty else { return [] }
        var packets: [RTCPPacket] = []
        for start in stride(from: 0, to: reports.count, by: 31) {
            packets.append(.receiverReport(ReceiverReport(ssrc: ssrc, reports: Array(reports[start..<min(start + 31, reports.count)]))))
        }
        packets.append(.sourceDescription(SourceDescription(cname: cname, ssrc: ssrc)))
        return packets
    }
}
