import DTLS

/// Why a media transport failed, in words that say which layer broke.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    case socket(String)
    case iceFailed(String)
    case connectionLost(String)
    case dtls(DTLSError)
    case srtp(String)
    case closed

    public var description: String {
        switch self {
        case .socket(let why): return "UDP socket: \(why)"
        case .iceFailed(let why): return "ICE failed: \(why)"
        case .connectionLost(let why): return "connection lost: \(why)"
        case .dtls(let error): return error.description
        case .srtp(let why): return "SRTP: \(why)"
        case .closed: return "transport closed"
        }
    }
}
