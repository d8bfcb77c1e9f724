/// One packet as it left the sender, for matching transport-wide feedback to send times.
public struct SentPacket: Sendable, Equatable {
    /// The transport-wide sequence number, unwrapped (monotonic across 16-bit wraps).
    public var transportSequence: Int64
    /// When it went on the wire, seconds on the sender's monotonic clock (`MediaClock`).
    public var sendTime: Double
    /// Bytes of the RTP packet (header, extensions, payload, padding) before SRTP.
    public var size: Int
    /// The probe cluster it belongs to, if it was sent to probe the link.
    public var probeCluster: Int?
    /// A retransmission (RTX or plain resend): counts against the target like media.
    public var isRetransmission: Bool

    public init(transportSequence: Int64, sendTime: Double, size: Int, probeCluster: Int? = nil, isRetransmission: Bool = false) {
        self.transportSequence = transportSequence
        self.sendTime = sendTime
        self.size = size
        self.probeCluster = probeCluster
        self.isRetransmission = isRetransmission
    }
}
