/// Ends a participant's stay: a deadline, Ctrl-C, or the owner deciding so. Any number of
/// waiters; once fired it stays fired.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLockLike()
    private var fired = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    public func fire() {
        let toResume: [CheckedContinuation<Void, Never>] = lock.withLock {
            guard !fired else { return [] }
            fired = true
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in toResume { waiter.resume() }
    }

    public var isFired: Bool { lock.withLock { fired } }

    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = lock.withLock { () -> Bool in
                if fired { return true }
                waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

import Foundation

typealias NSLockLike = NSLock
