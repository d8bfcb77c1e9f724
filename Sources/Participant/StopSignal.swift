import Foundation

/// Ends a participant's stay: a deadline, Ctrl-C, or the owner deciding so. Any number of
/// waiters; once fired it stays fired. A cancelled waiter returns at once.
/// Unchecked because of its fields; sound because each is read and written under `lock`
/// only. An NSLock, not `Synchronization.Mutex`: on Linux ThreadSanitizer does not see Mutex
/// (futex) ordering and reports every contended use as a race, and this lock is contended.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0

    public init() {}

    public func fire() {
        let toResume: [CheckedContinuation<Void, Never>] = lock.withLock {
            guard !fired else { return [] }
            fired = true
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        for waiter in toResume { waiter.resume() }
    }

    public var isFired: Bool { lock.withLock { fired } }

    public func wait() async {
        let id = lock.withLock { () -> Int in
            nextWaiter += 1
            return nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = lock.withLock { () -> Bool in
                    if fired || Task.isCancelled { return true }
                    waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = lock.withLock { waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

extension StopSignal {
    /// Runs `body`; once this signal fires it gets `grace()` to return, then it is cancelled.
    public func runUntilFired(grace: @escaping @Sendable () -> Duration,
                              _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                await self.wait()
                let grace = grace()
                if grace > .zero { try await Task.sleep(for: grace) }
                return false
            }
            defer { group.cancelAll() }
            // The body's result (or error) wins; the watchdog only cancels it.
            while let finished = try await group.next() {
                if finished { return }
                group.cancelAll()
            }
        }
    }
}
