import Foundation
import Logging
import Participant
import Signaling
import Synchronization

/// One load-test participant: a full member of the room with its own Socket.IO connections,
/// transports, DTLS and SRTP, as cheap as nacho makes a participant. Publishers run the origin
/// sequence and send from shared pipelines (one encode feeds every publisher); subscribers run
/// the edge sequence and consume every remote producer without decoding. It keeps what a load
/// test reports about it: joins, retries, reconnections, the live figures of its tracks.
public final class Bot: Sendable {
    public enum Role: String, Sendable, CaseIterable {
        case videoPublisher = "video_publisher"
        case audioPublisher = "audio_publisher"
        case subscriber
    }

    /// How the bot's joins went.
    public struct Joining: Sendable, Equatable {
        public var attempts = 0
        /// When its first attempt started, and when its media transport first connected.
        public var startedAt: ContinuousClock.Instant?
        public var joinedAt: ContinuousClock.Instant?
        public var sessions = 0
        public var lastError: String?

        public var joined: Bool { joinedAt != nil }
        public var joinSeconds: Double? {
            guard let startedAt, let joinedAt else { return nil }
            let (seconds, atto) = (joinedAt - startedAt).components
            return Double(seconds) + Double(atto) / 1e18
        }
    }

    public let member: String
    public let role: Role
    public let trackStats = TrackStatsRegistry()
    private let tracker: JoinTracker
    private let run: @Sendable (TrackStatsRegistry, any AttemptObserver, StopSignal) async throws -> Void

    /// - Parameter run: runs the participant half (an `EdgeReceiver` or `OriginSender` set up
    ///   with the track registry and observer given) until the stop signal.
    public init(member: String, role: Role,
                run: @escaping @Sendable (TrackStatsRegistry, any AttemptObserver, StopSignal) async throws -> Void) {
        self.member = member
        self.role = role
        self.tracker = JoinTracker()
        self.run = run
    }

    public var joining: Joining { tracker.state }

    /// Takes part until `stop`; a failure that retries could not fix is kept, not thrown (a
    /// load test reports a bot that could not join, it does not stop the others).
    public func participate(until stop: StopSignal) async {
        do {
            try await run(trackStats, tracker, stop)
        } catch {
            tracker.failed(attempt: -1, error: error)
        }
    }

    /// Live figures of the bot's tracks (cumulative; delay samples since the last call).
    public func tracks() async -> [TrackStats] { await trackStats.snapshot() }
}

/// Counts a bot's attempts, sessions and its first join.
final class JoinTracker: AttemptObserver {
    private let shared = Mutex(Bot.Joining())

    var state: Bot.Joining { shared.withLock { $0 } }

    func started(attempt: Int) {
        shared.withLock { state in
            state.attempts += 1
            if state.startedAt == nil { state.startedAt = .now }
        }
    }

    func established(attempt: Int) {
        shared.withLock { state in
            state.sessions += 1
            if state.joinedAt == nil { state.joinedAt = .now }
        }
    }

    func failed(attempt: Int, error: any Error) {
        shared.withLock { $0.lastError = "\(error)" }
    }
}
