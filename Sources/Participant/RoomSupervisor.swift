import Logging

/// Keeps a participant in the room across signaling drops: runs `body` on a connected session;
/// when the link drops (or the server restarts), waits with backoff, connects a new session and
/// runs `body` again, which re-runs the room sequence. The first connection is not retried:
/// a server that was never reachable is a configuration problem the user must see at once.
public enum RoomSupervisor {
    public struct Policy: Sendable {
        /// Reconnections allowed in a row without a working session in between.
        public var maxAttempts: Int
        public var backoff: Backoff

        public init(maxAttempts: Int = 10, backoff: Backoff = Backoff()) {
            self.maxAttempts = maxAttempts
            self.backoff = backoff
        }
    }

    /// - Parameter body: runs the room sequence and stays in the room; returns when done,
    ///   throws `.connectionLost` when the link drops. Gets the number of the session (0 first).
    /// - Returns: how many times it reconnected.
    @discardableResult
    public static func run(configuration: RoomSession.Configuration, policy: Policy = Policy(), logger: Logger,
                           body: @Sendable (RoomSession, Int) async throws -> Void) async throws -> Int {
        var backoff = policy.backoff
        var failuresInARow = 0
        var everConnected = false
        var session = 0
        while true {
            let room = RoomSession(configuration: configuration, logger: logger)
            do {
                try await room.connect()
                everConnected = true
                failuresInARow = 0
                backoff.reset()
                try await body(room, session)
                await room.close()
                return session
            } catch let error as RoomError {
                await room.close()
                guard everConnected, error.isLinkFailure, failuresInARow < policy.maxAttempts else { throw error }
                failuresInARow += 1
                let delay = backoff.next()
                logger.warning("signaling lost, reconnecting", metadata: [
                    "server": "\(configuration.role.rawValue)", "reason": "\(error)", "in": "\(delay)",
                    "attempt": "\(failuresInARow)/\(policy.maxAttempts)",
                ])
                try await Task.sleep(for: delay)
                session += 1
            } catch {
                await room.close()
                throw error
            }
        }
    }
}

extension RoomError {
    /// Failures of the link itself, as opposed to answers the server gave.
    var isLinkFailure: Bool {
        switch self {
        case .unreachable, .connectionLost: return true
        default: return false
        }
    }
}
