/// Failures of the Socket.IO link. Each case names what went wrong in words a user can act on;
/// payloads are never included whole.
public enum SocketIOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// TCP/TLS/WebSocket connection could not be opened.
    case unreachable(String)
    /// A frame or packet did not follow Engine.IO / Socket.IO framing.
    case malformedPacket(String)
    /// The server refused the namespace connection (CONNECT_ERROR).
    case connectRefused(String)
    /// No server ping within pingInterval + pingTimeout.
    case heartbeatTimeout
    /// The connection closed (by the server or the network).
    case disconnected(String)
    /// A request received no acknowledgement in time.
    case timeout(event: String, seconds: Double)
    /// The client was closed locally.
    case closed

    public var description: String {
        switch self {
        case .unreachable(let why): return "cannot connect: \(why)"
        case .malformedPacket(let why): return "malformed data from server: \(why)"
        case .connectRefused(let why): return "server refused the connection: \(why)"
        case .heartbeatTimeout: return "server stopped answering (no Engine.IO ping in time)"
        case .disconnected(let why): return "connection lost: \(why)"
        case .timeout(let event, let seconds): return "no answer to \(event) within \(Self.format(seconds)) s"
        case .closed: return "connection closed"
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
