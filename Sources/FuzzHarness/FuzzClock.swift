/// Fake time for the sans-IO cores: one epoch taken once, then only offsets chosen by the
/// input. Every core compares instants with each other, never with the wall clock, so a run
/// depends on the input alone.
struct FuzzClock {
    static let epoch = ContinuousClock.now

    private(set) var elapsed: Duration = .zero

    var now: ContinuousClock.Instant { Self.epoch + elapsed }

    /// Seconds since the epoch, for the cores that take `Double` times.
    var seconds: Double {
        let (s, atto) = elapsed.components
        return Double(s) + Double(atto) / 1e18
    }

    mutating func advance(milliseconds: Int) {
        elapsed += .milliseconds(milliseconds)
    }
}
