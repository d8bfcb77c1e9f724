import Signaling
import Transport

extension RoomSession {
    /// The common end of both halves of a participant: stay in the room until `stop` fires,
    /// or until the signaling link, the media transport or a watcher fails (then throw, so the
    /// supervisor reconnects or the command reports it). Each room event goes to `onEvent`.
    nonisolated func stay(with transport: WebRtcTransport, until stop: StopSignal,
                          onEvent: @escaping @Sendable (RoomEvent) async throws -> Void = { _ in },
                          watch: (@Sendable () async throws -> Void)? = nil) async throws {
        let events = self.events
        let role = configuration.role
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in events {
                    if case .disconnected(let error) = event { throw error }
                    try await onEvent(event)
                }
                throw RoomError.connectionLost(step: "\(role) session", "event stream ended")
            }
            group.addTask {
                for await event in transport.events {
                    if case .failed(let error) = event { throw ParticipantError(error, role: role) }
                }
            }
            if let watch { group.addTask { try await watch() } }
            group.addTask { await stop.wait() }
            defer { group.cancelAll() }
            // The stay ends when stop fires (its task returns) or something throws.
            while true {
                try await group.next()
                if stop.isFired { return }
            }
        }
    }
}
