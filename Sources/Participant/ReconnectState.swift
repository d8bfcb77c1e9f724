import Signaling

/// The reconnect loop's state, as a machine: where the participant stands after each session
/// and what to do next. `RoomSupervisor.run` feeds it each session's outcome; it holds no
/// clock and does no I/O.
struct ReconnectState {
    enum Phase: Equatable {
        /// No session has got into the room yet: a failure here is a configuration problem
        /// (not retried) unless the policy says to retry first sessions (bots).
        case neverInRoom
        /// The last session got into the room.
        case inRoom
        /// Sessions have failed this many times in a row since the room was last reached (or
        /// since the start, for a first session that is retried).
        case reconnecting(failures: Int)
    }

    enum Decision: Equatable {
        /// The session ended as asked (stop, or a failure while leaving): done.
        case done
        /// Try a new session after this delay; `attempt` counts the failures in a row.
        case retry(after: Duration, attempt: Int)
        /// Not worth retrying, or out of attempts: the failure ends the run.
        case giveUp
    }

    private(set) var phase = Phase.neverInRoom
    private(set) var everInRoom = false
    private var backoff: Backoff
    let maxAttempts: Int
    let retryFirstSession: Bool

    init(policy: RoomSupervisor.Policy) {
        backoff = policy.backoff
        maxAttempts = policy.maxAttempts
        retryFirstSession = policy.retryFirstSession
    }

    /// A session ended: whether it got into the room, how it ended, and whether stop fired.
    mutating func sessionEnded(reachedRoom: Bool, failure: (any Error)?, stopped: Bool) -> Decision {
        if reachedRoom {
            everInRoom = true
            phase = .inRoom
            backoff.reset()
        }
        guard let failure, !stopped else { return .done }
        let retryable = everInRoom
            ? Self.isRetryable(failure)
            : retryFirstSession && !Self.isDeviceFailure(failure)
        let failures: Int
        switch phase {
        case .reconnecting(let count): failures = count
        case .inRoom, .neverInRoom: failures = 0
        }
        guard retryable, failures < maxAttempts else { return .giveUp }
        phase = .reconnecting(failures: failures + 1)
        return .retry(after: backoff.next(), attempt: failures + 1)
    }
}

extension ReconnectState {
    /// A device, codec or negotiation failure: the same next time.
    static func isDeviceFailure(_ error: any Error) -> Bool {
        if case ParticipantError.media = error { return true }
        return false
    }

    /// Failures of the link or of the network path, as opposed to answers the server gave.
    static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let error as RoomError:
            switch error {
            case .unreachable, .connectionLost, .timeout: return true
            default: return false
            }
        case ParticipantError.transport: return true
        default: return false
        }
    }
}

extension RoomError {
    /// The signaling link itself failed (as opposed to an answer the server gave).
    var isLinkFailure: Bool {
        switch self {
        case .unreachable, .connectionLost: return true
        default: return false
        }
    }
}
