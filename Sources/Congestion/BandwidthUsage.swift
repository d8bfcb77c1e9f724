/// The over-use detector's verdict on the queuing delay trend (draft-ietf-rmcat-gcc-02 §5.4).
public enum BandwidthUsage: Sendable, Equatable {
    /// The delay is growing: a queue builds up at the bottleneck.
    case overusing
    case normal
    /// The delay is falling: a queue drains.
    case underusing
}
