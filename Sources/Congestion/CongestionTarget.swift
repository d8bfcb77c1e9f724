/// What the estimator tells the send path: the bitrate all media (retransmissions and probes
/// included) must stay under, and the rate the pacer drains its queue at.
public struct CongestionTarget: Sendable, Equatable {
    /// Bits per second for everything sent: encoders + retransmissions.
    public var targetBitrate: Int
    /// Bits per second the pacer sends at (libwebrtc: 2.5 × the target).
    public var pacingRate: Int
    /// Bits per second of padding the pacer may add when there is too little media to keep
    /// the estimate (0: none).
    public var paddingRate: Int
    /// The round trip the estimate used, seconds (nil: unknown).
    public var roundTrip: Double?

    public init(targetBitrate: Int, pacingRate: Int, paddingRate: Int = 0, roundTrip: Double? = nil) {
        self.targetBitrate = targetBitrate
        self.pacingRate = pacingRate
        self.paddingRate = paddingRate
        self.roundTrip = roundTrip
    }
}
