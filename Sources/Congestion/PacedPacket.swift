/// A reference to a packet waiting in the pacer: which stream holds it (the caller's index)
/// and its RTP sequence number in that stream's history. The bytes stay in the history, so
/// queuing copies nothing.
public struct PacedPacket: Sendable, Equatable {
    /// What the packet is, in the order the pacer sends them (libwebrtc's priorities: audio
    /// first, then repairs, then new video; padding, which is never queued, last).
    public enum Kind: Int, Sendable, CaseIterable {
        case audio = 0
        case retransmission = 1
        case video = 2
    }

    public var kind: Kind
    /// The caller's index of the stream whose history holds the packet.
    public var stream: Int
    public var sequenceNumber: UInt16
    /// Bytes it will take on the wire (RTP, before SRTP).
    public var size: Int
    /// When it entered the queue (seconds, the caller's clock).
    public var enqueuedAt: Double

    public init(kind: Kind, stream: Int, sequenceNumber: UInt16, size: Int, enqueuedAt: Double) {
        self.kind = kind
        self.stream = stream
        self.sequenceNumber = sequenceNumber
        self.size = size
        self.enqueuedAt = enqueuedAt
    }
}
