/// Why a participant's media stopped (signaling failures stay `RoomError`s).
public enum ParticipantError: Error, Sendable, CustomStringConvertible {
    /// Transport, device or codec failure, naming the server role and step.
    case media(String)

    public var description: String {
        switch self {
        case .media(let why): return why
        }
    }
}
