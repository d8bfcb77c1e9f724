/// One sent packet together with what transport-wide feedback said about it.
public struct PacketResult: Sendable, Equatable {
    public var sent: SentPacket
    /// When it arrived, seconds on the receiver's clock (an arbitrary origin, only differences
    /// mean something); nil when the receiver reported it lost.
    public var arrivalTime: Double?

    public init(sent: SentPacket, arrivalTime: Double?) {
        self.sent = sent
        self.arrivalTime = arrivalTime
    }

    public var isReceived: Bool { arrivalTime != nil }
}
