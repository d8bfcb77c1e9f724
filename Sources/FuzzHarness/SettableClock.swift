import Synchronization

/// Seconds the harness sets and the code under test reads, on its own queue or not: the fake
/// clock of the recorder and writer harnesses. An atomic, as ThreadSanitizer sees atomics.
final class SettableClock: Sendable {
    private let bits: Atomic<UInt64>

    init(_ start: Double) { bits = Atomic(start.bitPattern) }

    var now: Double {
        get { Double(bitPattern: bits.load(ordering: .acquiring)) }
        set { bits.store(newValue.bitPattern, ordering: .releasing) }
    }

    /// `now`, as the clock parameter of `MemberRecorder` and `WebMWriter`.
    var function: @Sendable () -> Double { { self.now } }
}
