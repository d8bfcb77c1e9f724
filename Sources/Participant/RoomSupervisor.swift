import Foundation
import Logging
import Signaling
import Synchronization

/// Keeps one half of a participant (edge or origin) in the room across outages: runs `body`
/// on a connected session; when the signaling link drops, the server restarts, or the media
/// transport is lost (ICE consent, DTLS alert), it waits with backoff, connects a new session
/// and runs `body` again, which re-runs the room sequence with a new transport.
///
/// What is not retried: a first session that never got established (a server that was never
/// reachable, a fingerprint that does not match: configuration problems the user must see at
/// once), refusals and protocol errors, and device failures.
///
/// `stop` ends everything quickly: a session still setting up (connecting, joining, gathering,
/// in the DTLS handshake) is cancelled at once; an established one gets `policy.shutdownGrace`
/// to leave in order (finish recordings, `exitRoom`), then whatever still waits is cancelled.
public struct RoomSupervisor: Sendable {
    public var policy: Policy
    public var stop: StopSignal
    public var logger: Logger
    /// Told of every attempt (load tests count joins, retries and reconnections).
    public var observer: (any AttemptObserver)?

    public init(policy: Policy = Policy(), stop: StopSignal, logger: Logger, observer: (any AttemptObserver)? = nil) {
        self.policy = policy
        self.stop = stop
        self.logger = logger
        self.observer = observer
    }

    public struct Policy: Sendable {
        /// Reconnections allowed in a row without an established session in between.
        public var maxAttempts: Int
        public var backoff: Backoff
        /// How long the body may take to leave in order once `stop` fires.
        public var shutdownGrace: Duration
        /// Retry a first session that never got established too (load-test bots: a join that
        /// fails under load is retried and counted, not given up).
        public var retryFirstSession: Bool
        /// Waits out a backoff delay; tests put a clock of their own here.
        public var sleep: @Sendable (Duration) async throws -> Void
        /// Connects a new session's signaling link; tests that script sessions replace it.
        var connect: @Sendable (RoomSession) async throws -> Void = { try await $0.connect() }

        public init(maxAttempts: Int = 10, backoff: Backoff = Backoff(), shutdownGrace: Duration = .milliseconds(1500),
                    retryFirstSession: Bool = false,
                    sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
            self.maxAttempts = maxAttempts
            self.backoff = backoff
            self.shutdownGrace = shutdownGrace
            self.retryFirstSession = retryFirstSession
            self.sleep = sleep
        }
    }

    /// Handed to the body: it calls `established()` once the session is fully up (media
    /// transport connected), which resets the attempt count and closes an outage.
    public final class Attempt: Sendable {
        public let number: Int
        private let isEstablished = Mutex(false)
        private let observer: (any AttemptObserver)?

        init(number: Int, observer: (any AttemptObserver)?) {
            self.number = number
            self.observer = observer
        }

        public func established() {
            let first = isEstablished.withLock { established in
                defer { established = true }
                return !established
            }
            if first { observer?.established(attempt: number) }
        }
        var wasEstablished: Bool { isEstablished.withLock { $0 } }
    }

    /// - Parameter body: runs the room sequence and stays in the room; returns when `stop`
    ///   fired, throws when the link or the transport failed.
    /// - Returns: how many times it reconnected.
    @discardableResult
    public func run(_ configuration: RoomSession.Configuration,
                    body: @escaping @Sendable (RoomSession, Attempt) async throws -> Void) async throws -> Int {
        let role = configuration.role.rawValue
        var state = ReconnectState(policy: policy)
        var outageStarted: ContinuousClock.Instant?
        var number = 0
        while !stop.isFired {
            let room = RoomSession(configuration: configuration, logger: logger)
            let attempt = Attempt(number: number, observer: observer)
            observer?.started(attempt: number)
            var failure: (any Error)?
            do {
                try await stop.runUntilFired(grace: { attempt.wasEstablished ? policy.shutdownGrace : .zero }) {
                    try await policy.connect(room)
                    try await body(room, attempt)
                }
            } catch {
                failure = error
            }
            await room.close()
            if attempt.wasEstablished, let started = outageStarted {
                outageStarted = nil
                logger.warning("back in the room", metadata: ["server": "\(role)", "outage": "\(Self.format(.now - started))"])
            }
            let stopped = stop.isFired  // a failure while leaving is not worth reporting
            if let failure, !stopped { observer?.failed(attempt: number, error: failure) }
            switch state.sessionEnded(reachedRoom: attempt.wasEstablished, failure: failure, stopped: stopped) {
            case .done:
                return number
            case .giveUp:
                if let failure { throw failure }
                return number
            case .retry(let delay, let failures):
                if attempt.wasEstablished { outageStarted = .now }
                logger.warning("connection lost, reconnecting", metadata: [
                    "server": "\(role)", "reason": "\(failure.map { "\($0)" } ?? "?")", "in": "\(Self.format(delay))",
                    "attempt": "\(failures)/\(policy.maxAttempts)",
                ])
                let sleep = policy.sleep
                try? await stop.runUntilFired(grace: { .zero }) { try await sleep(delay) }
                number += 1
            }
        }
        return number
    }

    private static func format(_ duration: Duration) -> String {
        String(format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}

/// Told what a supervised participant half goes through: load tests count joins, retries and
/// reconnections from it. Called from the supervising task; must not block.
public protocol AttemptObserver: Sendable {
    func started(attempt: Int)
    /// The session's media transport connected (the participant is in the room).
    func established(attempt: Int)
    func failed(attempt: Int, error: any Error)
}
