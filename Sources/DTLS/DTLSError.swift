/// Why a DTLS association failed.
public enum DTLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server's certificate does not match the fingerprint it signaled: possibly an attack.
    case fingerprintMismatch(algorithm: String, expected: String, actual: String)
    /// No fingerprint with an algorithm nacho can check.
    case noUsableFingerprint([String])
    /// The peer chose no SRTP profile (use_srtp missing).
    case noSRTPProfile
    case handshakeFailed(String)
    case timedOut
    /// The peer closed the association (close_notify or fatal alert).
    case closed
    case openSSL(String, String)

    public var description: String {
        switch self {
        case .fingerprintMismatch(let algorithm, let expected, let actual):
            return "the server's DTLS certificate does not match the fingerprint it signaled (\(algorithm) expected \(expected.prefix(23))..., got \(actual.prefix(23))...)"
        case .noUsableFingerprint(let algorithms):
            return "no DTLS fingerprint nacho can check (server sent: \(algorithms.joined(separator: ", ")))"
        case .noSRTPProfile: return "DTLS handshake chose no SRTP protection profile"
        case .handshakeFailed(let why): return "DTLS handshake failed: \(why)"
        case .timedOut: return "DTLS handshake timed out"
        case .closed: return "DTLS association closed by the peer"
        case .openSSL(let step, let why): return "OpenSSL failed \(step): \(why)"
        }
    }
}
