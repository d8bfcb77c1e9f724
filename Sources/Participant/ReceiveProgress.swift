import Synchronization

/// Running totals of what a receiver got, updated once a second from the event loop and read
/// by a status display from any thread.
public final class ReceiveProgress: Sendable {
    public struct Totals: Sendable, Equatable {
        public var members = 0
        public var packets = 0
        public var bytes = 0
        public var lost = 0
        public var expected = 0
    }

    private let totals = Mutex(Totals())

    public init() {}

    public var current: Totals { totals.withLock { $0 } }

    func update(_ new: Totals) { totals.withLock { $0 = new } }
}
