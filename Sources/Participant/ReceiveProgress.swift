import Foundation

/// Running totals of what a receiver got, updated once a second from the event loop and read
/// by a status display from any thread.
/// Unchecked because of `totals`; sound because it is read and written under `lock` only (an
/// NSLock, which ThreadSanitizer sees; it does not see `Synchronization.Mutex` on Linux).
public final class ReceiveProgress: @unchecked Sendable {
    public struct Totals: Sendable, Equatable {
        public var members = 0
        public var packets = 0
        public var bytes = 0
        public var lost = 0
        public var expected = 0
    }

    private let lock = NSLock()
    private var totals = Totals()

    public init() {}

    public var current: Totals { lock.withLock { totals } }

    func update(_ new: Totals) { lock.withLock { totals = new } }
}
