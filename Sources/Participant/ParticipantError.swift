import Signaling
import Transport

/// Why a participant stopped: a signaling failure, or its media.
public enum ParticipantError: Error, Sendable, CustomStringConvertible {
    case signaling(RoomError)
    /// Transport, device or codec failure, naming the server role and step.
    case media(String)

    public var description: String {
        switch self {
        case .signaling(let error): return error.description
        case .media(let why): return why
        }
    }
}
