import Foundation

/// Runs `body`, failing with a timeout error naming `what` after `limit`. Returns at the
/// deadline even when `body` ignores cancellation (an `EventLoopFuture.get()` does): `body` is
/// cancelled and left to finish on its own, its late result dropped. Whoever started work in
/// `body` that must not outlive the deadline (a connection) closes it when this throws.
func withDeadline<T: Sendable>(_ limit: Duration, what: String,
                               _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.install(continuation)
            let work = Task {
                do {
                    race.finish(.success(try await body()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            let timer = Task {
                try? await Task.sleep(for: limit)
                guard !Task.isCancelled else { return }
                race.finish(.failure(SocketIOError.timeout(event: what, seconds: limit.seconds)))
            }
            race.own([work, timer])
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first of body, timer and cancellation to finish resumes the caller; the others are
/// cancelled and their results ignored.
/// Unchecked because of its mutable fields; sound because each is read and written between
/// `lock.lock()` and `lock.unlock()` only, and continuations are resumed after unlocking.
private final class DeadlineRace<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    /// A result that came before the continuation was installed (cancelled at once).
    private var early: Result<T, any Error>?
    private var finished = false
    private var tasks: [Task<Void, Never>] = []

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        lock.lock()
        if let early {
            lock.unlock()
            continuation.resume(with: early)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    func own(_ tasks: [Task<Void, Never>]) {
        lock.lock()
        let cancelNow = finished
        if !cancelNow { self.tasks = tasks }
        lock.unlock()
        if cancelNow { for task in tasks { task.cancel() } }
    }

    func finish(_ result: Result<T, any Error>) {
        lock.lock()
        guard !finished else {
            lock.unlock()
            return
        }
        finished = true
        let continuation = self.continuation
        self.continuation = nil
        if continuation == nil { early = result }
        let tasks = self.tasks
        self.tasks = []
        lock.unlock()
        continuation?.resume(with: result)
        for task in tasks { task.cancel() }
    }
}
