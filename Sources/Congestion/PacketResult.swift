/// One sent packet together with what transport-wide feedback said about it.
struct PacketResult: Sendable, Equatable {
    var sent: SentPacket
    /// When it arrived, seconds on the receiver's clock (an arbitrary origin, only differences
    /// mean something); nil when the receiver reported it lost.
    var arrivalTime: Double?

    var isReceived: Bool { arrivalTime != nil }
}
