import Signaling
import Transport

/// Why a participant's media stopped (signaling failures stay `RoomError`s).
public enum ParticipantError: Error, Sendable, CustomStringConvertible {
    /// A device, codec or negotiation failure, naming the server role and step. Reconnecting
    /// does not fix it.
    case media(String)
    /// The media transport failed or was lost (ICE, consent, DTLS, socket) after it worked:
    /// the network, not the configuration. A reconnect may fix it.
    case transport(String)

    public var description: String {
        switch self {
        case .media(let why), .transport(let why): return why
        }
    }
}

extension ParticipantError {
    /// A transport failure, by what it says about reconnecting: a certificate that does not
    /// match is a misconfigured (or impersonated) server, never the network, so not worth a
    /// reconnect. Everything else may be.
    init(_ error: TransportError, role: RoomSession.Role) {
        if case .dtls(.fingerprintMismatch) = error {
            self = .media("\(role) transport: \(error)")
        } else {
            self = .transport("\(role) transport: \(error)")
        }
    }
}
